"""WebSocket benchmark: messages/s through `portico serve` with one worker, next to nginx (1 worker,
`proxy_pass` with the `Upgrade`/`Connection` fields) and the echo backend reached directly as the
ceiling. Interleaved rounds A B C A B C; every figure is the median over the rounds, "x nginx" the
median of the per-round ratios, CPU per message the proxy's user+system time (process tree, from
/proc) over the messages echoed in the same window.

The backend, in its own process (uvloop), answers the handshake with a correct 101 and then echoes
every byte as it comes: it parses nothing, so it is not the bottleneck. Each client connection
(HTTP/1.1 Upgrade handshake, then real masked WebSocket binary frames) keeps `--window` messages in
flight and sends one more for each one echoed back; neither proxy looks inside the frames. Cases:
small messages (64 B) one at a time and 64 in flight, and larger ones (16 KiB, 4 in flight).

`portico-h2` is the same `portico serve` reached over HTTP/2 (RFC 8441 extended CONNECT, one stream
per connection), which nginx does not offer. nginx runs twice: with its defaults (an upgraded
connection is copied through `proxy_buffer_size`, one memory page) and with `proxy_buffer_size 64k`;
"x nginx" compares with the defaults.

Needs the Debian package nginx. Run from the repository root:
`.venv/bin/python -m benchmarks.proxy.websocket [--rounds 5] [--duration 4] [--connections 16]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uvloop
from hpack import Decoder, Encoder

from benchmarks.proxy.run import free_port, load_average, nginx_conf, process_tree_cpu, wait_port

HANDSHAKE = (
    b"GET /chat HTTP/1.1\r\nHost: bench.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: " + base64.b64encode(b"portico-benchmrk") + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
KEY_FIELD = re.compile(rb"\r\nsec-websocket-key:[ \t]*([^\r]+)", re.IGNORECASE)


def switched(head: bytes) -> bytes:
    """The 101 answering a handshake: its accept proves the key was read (RFC 6455 4.2.2)."""
    found = KEY_FIELD.search(head)
    key = found.group(1).strip() if found else b""
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


# name, payload bytes, messages in flight per connection: one at a time (a proxy's cost per
# message: a read and a write each way), pipelined, and larger messages.
CASES = (("64B", 64, 1), ("64Bx64", 64, 64), ("16KiB", 16 << 10, 4))


def client_frame(size: int) -> bytes:
    """One masked binary frame (RFC 6455 5.2) carrying `size` bytes."""
    mask = os.urandom(4)
    if size < 126:
        header = struct.pack("!BB", 0x82, 0x80 | size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x82, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x82, 0x80 | 127, size)
    payload = bytes(index % 251 for index in range(size))
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return header + mask + masked


class EchoBackend(asyncio.Protocol):
    """Answers the handshake, then sends back every byte it reads."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        if self.open:
            self.transport.write(data)
            return
        self.head += data
        end = self.head.find(b"\r\n\r\n")
        if end >= 0:
            self.open = True
            self.transport.write(switched(self.head[:end]) + self.head[end + 4 :])


def echo_backend(port: int) -> None:
    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(EchoBackend, "127.0.0.1", port, backlog=512)
        await server.serve_forever()

    uvloop.run(serve())


class Loader(asyncio.Protocol):
    """One client connection: the handshake, then `window` messages in flight."""

    def __init__(self, frame: bytes, window: int, ready: asyncio.Future[None]) -> None:
        self.frame = frame
        self.window = window
        self.ready = ready
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.open = False
        self.received = 0
        self.echoed = 0  # whole messages back

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(HANDSHAKE)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        if not self.open:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.head.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(RuntimeError(f"handshake refused: {self.head[:end]!r}"))
                return
            self.open = True
            data = self.head[end + 4 :]
            self.transport.write(self.frame * self.window)
            if not self.ready.done():
                self.ready.set_result(None)
        self.received += len(data)
        echoed = self.received // len(self.frame)
        if echoed > self.echoed:
            self.transport.write(self.frame * (echoed - self.echoed))
            self.echoed = echoed


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 7, 8
LARGEST_WINDOW = (1 << 31) - 1


def h2_frame(kind: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "big") + bytes((kind, flags)) + stream_id.to_bytes(4, "big") + payload


class H2Loader(Loader):
    """The same over HTTP/2 (RFC 8441): prior-knowledge h2c, one extended CONNECT stream per
    connection, each message one DATA frame (two for 16 KiB). Frames are read by their 9-byte headers only; the
    client's windows are as large as HTTP/2 allows, so the proxy never waits for them."""

    def __init__(self, frame: bytes, window: int, ready: asyncio.Future[None]) -> None:
        super().__init__(frame, window, ready)
        self.message = len(frame)
        # DATA frames of at most 16 KiB (the default SETTINGS_MAX_FRAME_SIZE)
        self.frame = b"".join(h2_frame(DATA, 0, 1, frame[i : i + 16384]) for i in range(0, len(frame), 16384))
        self.buffer = b""
        self.asked = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        settings = h2_frame(SETTINGS, 0, 0, struct.pack("!HI", 4, LARGEST_WINDOW))  # INITIAL_WINDOW_SIZE
        self.transport.write(
            PREFACE + settings + h2_frame(WINDOW_UPDATE, 0, 0, struct.pack("!I", LARGEST_WINDOW - 65535))
        )

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        buffer = self.buffer + data if self.buffer else data
        position, received = 0, 0
        while len(buffer) - position >= 9:
            length = int.from_bytes(buffer[position : position + 3], "big")
            end = position + 9 + length
            if end > len(buffer):
                break
            kind, flags = buffer[position + 3], buffer[position + 4]
            if kind == DATA:
                received += length
            elif kind == SETTINGS and not flags & 1:
                self.transport.write(h2_frame(SETTINGS, 1, 0, b""))
                if not self.asked:  # after the server's SETTINGS, which allow extended CONNECT
                    self.asked = True
                    fields = [
                        (":method", "CONNECT"),
                        (":protocol", "websocket"),
                        (":scheme", "http"),
                        (":path", "/chat"),
                        (":authority", "bench.example.com"),
                        ("sec-websocket-version", "13"),
                    ]
                    self.transport.write(h2_frame(HEADERS, 4, 1, Encoder().encode(fields)))
            elif kind == HEADERS and not self.open:
                status = dict(Decoder().decode(buffer[position + 9 : end])).get(":status")
                if status != "200":
                    self.ready.set_exception(RuntimeError(f"extended CONNECT answered {status}"))
                    return
                self.open = True
                self.transport.write(self.frame * self.window)
                self.ready.set_result(None)
            elif kind in (RST_STREAM, GOAWAY):
                raise RuntimeError(f"the proxy ended the stream (frame type {kind})")
            position = end
        self.buffer = buffer[position:]
        if received:
            self.received += received
            echoed = self.received // self.message
            if echoed > self.echoed:
                self.transport.write(self.frame * (echoed - self.echoed))
                self.echoed = echoed


async def measure(
    port: int, frame: bytes, window: int, connections: int, seconds: float, pid: int | None, h2: bool = False
) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    loaders: list[Loader] = []
    kind = H2Loader if h2 else Loader
    for _ in range(connections):
        ready: asyncio.Future[None] = loop.create_future()
        _, loader = await loop.create_connection(lambda r=ready: kind(frame, window, r), "127.0.0.1", port)
        loaders.append(loader)
    await asyncio.wait_for(asyncio.gather(*(loader.ready for loader in loaders)), 10)
    await asyncio.sleep(0.3)  # past the first bursts
    before = sum(loader.echoed for loader in loaders)
    cpu_before = process_tree_cpu(pid) if pid else 0.0
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - start
    messages = sum(loader.echoed for loader in loaders) - before
    cpu = process_tree_cpu(pid) - cpu_before if pid else 0.0
    for loader in loaders:
        assert loader.transport is not None
        loader.transport.close()
    if messages <= 0:
        raise RuntimeError(f"port {port}: no message echoed")
    return {"rate": messages / elapsed, "cpu_us": cpu * 1e6 / messages}


def portico_files(folder: Path, port: int, upstream: int) -> Path:
    path = folder / "websocket.yaml"
    path.write_text(
        f"""apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: portico}}
spec: {{controllerName: portico.dev/proxy}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw}}
spec:
  gatewayClassName: portico
  listeners: [{{name: http, port: {port}, protocol: HTTP}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: chat}}
spec:
  parentRefs: [{{name: gw}}]
  rules: [{{backendRefs: [{{name: echo, port: 80}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: echo}}
spec: {{ports: [{{port: 80, targetPort: {upstream}, appProtocol: kubernetes.io/ws}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: echo-1, labels: {{kubernetes.io/service-name: echo}}}}
addressType: IPv4
ports: [{{port: {upstream}}}]
endpoints: [{{addresses: [127.0.0.1]}}]
"""
    )
    return path


def nginx_websocket(folder: Path, port: int, upstream: int, buffer_kib: int = 0) -> subprocess.Popen[bytes]:
    k = buffer_kib
    conf = nginx_conf(
        folder,
        f"websocket{k}",
        f"server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://127.0.0.1:{upstream}; "
        # (proxy_buffers and proxy_busy_buffers_size only follow because nginx checks their sizes)
        + (f"proxy_buffer_size {k}k; proxy_buffers 4 {k}k; proxy_busy_buffers_size {2 * k}k; " if k else "")
        + "proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; "
        'proxy_set_header Connection "upgrade"; proxy_set_header Host $http_host; '
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_read_timeout 300s; } }",
    )
    return subprocess.Popen(["nginx", "-c", str(conf)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds measured per target and case")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("nginx") is None:
        print("needs nginx (apt-get install nginx)", file=sys.stderr)
        return 2
    upstream, nginx_port, nginx64_port, portico_port = free_port(), free_port(), free_port(), free_port()
    backend = multiprocessing.Process(target=echo_backend, args=(upstream,), daemon=True)
    backend.start()
    folder = Path(tempfile.mkdtemp(prefix="portico-bench-"))
    portico = [sys.executable, "-c", "import sys; from portico.cli import main; sys.exit(main())", "serve"]
    files = portico_files(folder, portico_port, upstream)
    processes = {
        "nginx": nginx_websocket(folder, nginx_port, upstream),
        "nginx-64k": nginx_websocket(folder, nginx64_port, upstream, 64),
        "portico-1w": subprocess.Popen([*portico, "-f", str(files), "--workers", "1", "--access-log-sample", "0"]),
    }
    # name -> (port, the process whose CPU is counted, HTTP/2 client)
    targets = {
        "direct": (upstream, None, False),
        "nginx": (nginx_port, processes["nginx"], False),
        "nginx-64k": (nginx64_port, processes["nginx-64k"], False),
        "portico-1w": (portico_port, processes["portico-1w"], False),
        "portico-h2": (portico_port, processes["portico-1w"], True),
    }
    print(f"load average before: {load_average()}", flush=True)
    try:
        for port in (upstream, nginx_port, nginx64_port, portico_port):
            wait_port(port)
        frames = {name: client_frame(size) for name, size, _ in CASES}
        figures: dict[tuple[str, str], list[dict[str, float]]] = {}
        for round_index in range(args.rounds):
            for case, _, window in CASES:
                line = []
                for name, (port, process, h2) in targets.items():
                    pid = process.pid if process else None
                    result = uvloop.run(measure(port, frames[case], window, args.connections, args.duration, pid, h2))
                    figures.setdefault((case, name), []).append(result)
                    line.append(f"{name} {result['rate']:.0f}")
                print(f"round {round_index + 1} {case:6} msg/s: " + ", ".join(line), flush=True)
        print(f"load average after: {load_average()}", flush=True)
        print(f"\nWebSocket echo, {args.connections} connections, medians of {args.rounds} rounds:")
        print(f"{'case':6} {'target':11} {'msg/s':>9} {'MiB/s':>8} {'cpu us/msg':>10} {'x nginx':>8}")
        for case, size, _ in CASES:
            nginx = figures[(case, "nginx")]
            for name, (_, process, _) in targets.items():
                runs = figures[(case, name)]
                rate = statistics.median(r["rate"] for r in runs)
                cpu = f"{statistics.median(r['cpu_us'] for r in runs):10.2f}" if process else f"{'-':>10}"
                ratio = statistics.median(r["rate"] / n["rate"] for r, n in zip(runs, nginx, strict=True))
                print(f"{case:6} {name:11} {rate:9.0f} {rate * size / (1 << 20):8.1f} {cpu} {ratio:8.2f}")
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
            process.wait(20)
        backend.terminate()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
