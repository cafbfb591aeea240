"""TLS passthrough benchmark (TLSRoute): bulk bytes through `portico serve` with one worker, next to
nginx's `stream` module with `ssl_preread` doing the same (route by the ClientHello's SNI, then
splice), and the backend reached directly as the ceiling. Interleaved rounds A B C A B C; every
figure is the median over the rounds, "x nginx" the median of the per-round ratios.

Each connection sends a real ClientHello (its SNI selects the route), then the backend, a plain
TCP server in its own process, streams `--mib` MiB down the connection and closes; the client reads
to the end. `--connections` run at once, each `--per-connection` times. The bytes after the
ClientHello are not TLS: both proxies relay them without looking, as they would a TLS session.

Needs the Debian packages nginx and libnginx-mod-stream. Run:
`.venv/bin/python -m benchmarks.proxy.passthrough [--rounds 3] [--mib 64]` from the repository root.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.proxy.run import free_port, wait_port

SERVER_NAME = "bench.example.com"
CHUNK = 1 << 20
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"


def client_hello(server_name: str) -> bytes:
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def source_backend(port: int, size: int) -> None:
    """Per connection: read the ClientHello's first bytes, then send `size` bytes and close."""
    block = memoryview(b"\x17" * CHUNK)
    listener = socket.create_server(("127.0.0.1", port), backlog=512)

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            left = size
            while left > 0:
                sent = conn.send(block[: min(CHUNK, left)])
                left -= sent

    with ThreadPoolExecutor(64) as pool:
        while True:
            conn, _ = listener.accept()
            pool.submit(serve, conn)


def fetch(port: int, hello: bytes) -> int:
    buffer = bytearray(CHUNK)
    total = 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(hello)
        while read := sock.recv_into(buffer):
            total += read
    return total


def measure(port: int, connections: int, per_connection: int, expected: int) -> float:
    """MiB/s over every connection, all running at once."""
    hello = client_hello(SERVER_NAME)
    start = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        sizes = list(pool.map(lambda _: fetch(port, hello), range(connections * per_connection)))
    elapsed = time.perf_counter() - start
    if any(size != expected for size in sizes):
        raise RuntimeError(f"port {port}: short transfers {sorted(set(sizes))} (expected {expected})")
    return sum(sizes) / elapsed / (1 << 20)


def nginx_stream(folder: Path, port: int, upstream: int) -> subprocess.Popen[bytes]:
    conf = folder / "stream.conf"
    module = f"load_module {STREAM_MODULE};\n" if Path(STREAM_MODULE).exists() else ""
    conf.write_text(
        f"""{module}worker_processes 1;
daemon off;
pid {folder}/stream.pid;
error_log {folder}/stream.err warn;
events {{ worker_connections 4096; }}
stream {{
    map $ssl_preread_server_name $backend {{ {SERVER_NAME} 127.0.0.1:{upstream}; default 127.0.0.1:1; }}
    server {{ listen 127.0.0.1:{port}; ssl_preread on; proxy_pass $backend; }}
}}
"""
    )
    return subprocess.Popen(["nginx", "-c", str(conf)])


def portico_files(folder: Path, port: int, upstream: int) -> Path:
    path = folder / "passthrough.yaml"
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
  listeners: [{{name: tls, port: {port}, protocol: TLS, tls: {{mode: Passthrough}}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {{name: bench}}
spec:
  parentRefs: [{{name: gw}}]
  hostnames: [{SERVER_NAME}]
  rules: [{{backendRefs: [{{name: up, port: 443}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: up}}
spec: {{ports: [{{port: 443, targetPort: {upstream}}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: up-1, labels: {{kubernetes.io/service-name: up}}}}
addressType: IPv4
ports: [{{port: {upstream}}}]
endpoints: [{{addresses: [127.0.0.1]}}]
"""
    )
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mib", type=int, default=64, help="MiB per connection")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--per-connection", type=int, default=4)
    args = parser.parse_args()
    if shutil.which("nginx") is None:
        print("needs nginx with the stream module (apt-get install nginx libnginx-mod-stream)", file=sys.stderr)
        return 2
    size = args.mib << 20
    upstream, nginx_port, portico_port = free_port(), free_port(), free_port()
    backend = multiprocessing.Process(target=source_backend, args=(upstream, size), daemon=True)
    backend.start()
    with tempfile.TemporaryDirectory(prefix="portico-bench-") as temporary:
        folder = Path(temporary)
        portico = [sys.executable, "-c", "import sys; from portico.cli import main; sys.exit(main())", "serve"]
        files = portico_files(folder, portico_port, upstream)
        processes = [
            nginx_stream(folder, nginx_port, upstream),
            subprocess.Popen([*portico, "-f", str(files), "--workers", "1", "--access-log-sample", "0"]),
        ]
        try:
            for port in (upstream, nginx_port, portico_port):
                wait_port(port)
            targets = {"direct": upstream, "nginx": nginx_port, "portico-1w": portico_port}
            figures: dict[str, list[float]] = {name: [] for name in targets}
            for round_index in range(args.rounds):
                for name, port in targets.items():
                    figures[name].append(measure(port, args.connections, args.per_connection, size))
                print(f"round {round_index + 1}: " + ", ".join(f"{n} {v[-1]:.0f} MiB/s" for n, v in figures.items()))
            ratios = [p / n for p, n in zip(figures["portico-1w"], figures["nginx"], strict=True)]
            print(
                f"TLS passthrough, {args.connections} connections x {args.per_connection} x {args.mib} MiB, "
                f"medians of {args.rounds} rounds:"
            )
            for name, values in figures.items():
                print(f"  {name:<11} {statistics.median(values):8.0f} MiB/s")
            print(f"  portico-1w / nginx: {statistics.median(ratios):.2f}x")
        finally:
            for process in processes:
                process.terminate()
                process.wait(10)
            backend.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
