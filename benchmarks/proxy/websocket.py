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

nginx runs twice: with its defaults (an upgraded connection is copied through `proxy_buffer_size`,
one memory page) and with `proxy_buffer_size 64k`; "x nginx" compares with the defaults.

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

from benchmarks.proxy.run import free_port, load_average, nginx_conf, process_tree_cpu, wait_port

KEY = base64.b64encode(b"portico-benchmrk")
ACCEPT = base64.b64encode(hashlib.sha1(KEY + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
HANDSHAKE = (
    b"GET /chat HTTP/1.1\r\nHost: bench.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: " + KEY + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
SWITCHED = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: " + ACCEPT + b"\r\n\r\n"
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
            self.transport.write(SWITCHED + self.head[end + 4 :])


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


async def measure(
    port: int, frame: bytes, window: int, connections: int, seconds: float, pid: int | None
) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    loaders: list[Loader] = []
    for _ in range(connections):
        ready: asyncio.Future[None] = loop.create_future()
        _, loader = await loop.create_connection(lambda r=ready: Loader(frame, window, r), "127.0.0.1", port)
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
    ports = {"direct": upstream, "nginx": nginx_port, "nginx-64k": nginx64_port, "portico-1w": portico_port}
    print(f"load average before: {load_average()}", flush=True)
    try:
        for port in ports.values():
            wait_port(port)
        frames = {name: client_frame(size) for name, size, _ in CASES}
        figures: dict[tuple[str, str], list[dict[str, float]]] = {}
        for round_index in range(args.rounds):
            for case, _, window in CASES:
                line = []
                for name, port in ports.items():
                    process = processes.get(name)
                    result = uvloop.run(
                        measure(
                            port,
                            frames[case],
                            window,
                            args.connections,
                            args.duration,
                            process.pid if process else None,
                        )
                    )
                    figures.setdefault((case, name), []).append(result)
                    line.append(f"{name} {result['rate']:.0f}")
                print(f"round {round_index + 1} {case:6} msg/s: " + ", ".join(line), flush=True)
        print(f"load average after: {load_average()}", flush=True)
        print(f"\nWebSocket echo, {args.connections} connections, medians of {args.rounds} rounds:")
        print(f"{'case':6} {'target':11} {'msg/s':>9} {'MiB/s':>8} {'cpu us/msg':>10} {'x nginx':>8}")
        for case, size, _ in CASES:
            nginx = figures[(case, "nginx")]
            for name in ports:
                runs = figures[(case, name)]
                rate = statistics.median(r["rate"] for r in runs)
                cpu = f"{statistics.median(r['cpu_us'] for r in runs):10.2f}" if name in processes else f"{'-':>10}"
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
