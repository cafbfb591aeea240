"""`portico run`: the operator. Credentials come from --server, the pod's service account,
or the kubeconfig (read by the `kubernetes` package, exec plugins included), in that order."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from portico.handlers import Operator, OperatorConfig
from portico.handlers.reconcile import Timing
from portico.kube.client import Connection
from portico.kube.service_account import service_account_connection


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", help="API server URL without credentials (tests, demos, kubectl proxy)")
    parser.add_argument("--standalone", action="store_true", help="no leader election: this replica is active at once")
    parser.add_argument("--lease-name", default="portico", help="the coordination.k8s.io/v1 Lease replicas elect with")
    parser.add_argument(
        "--lease-namespace", default=None, help="namespace of the Lease (default: $POD_NAMESPACE, else 'default')"
    )
    parser.add_argument("--lease-duration", type=float, default=15.0, help="seconds a standby waits on a silent leader")
    parser.add_argument("--renew-deadline", type=float, default=10.0, help="seconds the leader may fail to renew")
    parser.add_argument("--retry-period", type=float, default=2.0, help="seconds between acquire/renew attempts")
    parser.add_argument("--cluster-id", default="default", help="tags every cloud resource this operator owns")
    parser.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port")
    parser.add_argument(
        "--liveness", default="http://0.0.0.0:8080/healthz", help="kopf liveness endpoint URL ('' to disable)"
    )
    parser.add_argument("--proxy-image", default=None, help="the image the proxy provider's Deployments run")
    parser.add_argument(
        "--azure-subscription-id", default=None, help="azure-appgw: the subscription of the Application Gateways"
    )
    parser.add_argument(
        "--azure-resource-group", default=None, help="azure-appgw: the resource group Portico's gateways live in"
    )
    parser.add_argument("--gcp-project", default=None, help="Google Cloud project of the gcp-alb provider")
    parser.add_argument(
        "--resync-seconds",
        type=float,
        default=Timing.resync_seconds,
        help="reconcile each Programmed Gateway again after this long (jittered), repairing changes made in the "
        "cloud behind Portico's back; 0 turns it off",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def connection_from_kubeconfig() -> Connection | None:
    """The current context of $KUBECONFIG (or ~/.kube/config) through the `kubernetes` client package,
    which runs exec plugins (aws eks get-token, gke-gcloud-auth-plugin, kubelogin) as kubectl does.
    Their tokens expire: the connection carries the credentials, refreshed on expiry and on a 401."""
    from portico.kube.credentials import KubeconfigCredentials, NoKubeconfig

    try:
        credentials = KubeconfigCredentials()
    except NoKubeconfig:
        return None
    view = credentials.view()
    return Connection(
        server=view.server,
        token=(view.authorization or "").removeprefix("Bearer ") or None,
        ca_path=view.ca_path,
        insecure=view.insecure,
        certificate_path=view.certificate_path,
        private_key_path=view.private_key_path,
        credentials=credentials,
    )


def resolve_connection(server: str | None) -> Connection | None:
    if server:
        return Connection(server=server)
    return service_account_connection() or connection_from_kubeconfig()


async def _serve(operator: Operator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(asyncio.CancelledError):
        await operator.run(stop_flag=stop)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        connection = resolve_connection(args.server)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        print(f"portico run: cannot read credentials: {error}", file=sys.stderr)
        return 2
    if connection is None:
        print("portico run: no --server, no service account and no kubeconfig found", file=sys.stderr)
        return 2
    options: dict[str, dict[str, object]] = {"proxy": {"image": args.proxy_image}} if args.proxy_image else {}
    if args.azure_subscription_id or args.azure_resource_group:
        options["azure-appgw"] = {
            "subscription_id": args.azure_subscription_id or "",
            "resource_group": args.azure_resource_group or "",
        }
    if args.gcp_project:
        options["gcp-alb"] = {"gcp_project": args.gcp_project}
    if not args.lease_duration > args.renew_deadline > args.retry_period > 0:
        print(
            "portico run: --lease-duration must be greater than --renew-deadline, "
            "which must be greater than --retry-period (all positive)",
            file=sys.stderr,
        )
        return 2
    if args.resync_seconds < 0:
        print("portico run: --resync-seconds must be 0 (off) or positive", file=sys.stderr)
        return 2
    config = OperatorConfig(
        connection=connection,
        standalone=args.standalone,
        lease_name=args.lease_name,
        **({"lease_namespace": args.lease_namespace} if args.lease_namespace else {}),
        lease_duration_seconds=args.lease_duration,
        renew_deadline_seconds=args.renew_deadline,
        retry_period_seconds=args.retry_period,
        cluster_id=args.cluster_id,
        metrics_port=args.metrics_port,
        liveness_endpoint=args.liveness or None,
        provider_options=options,
        timing=Timing(resync_seconds=args.resync_seconds),
    )
    operator = Operator(config)
    asyncio.run(_serve(operator))
    return 1 if operator.lost_leadership else 0
