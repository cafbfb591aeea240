"""`portico convert`: ingress-nginx Ingresses (files or a live cluster) -> Gateway API objects on
stdout, and a report of every difference on stderr (or --report FILE)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import yaml

from portico.cli.common import read_inputs
from portico.convert import Options, convert, report_document, report_text
from portico.convert.target import target_findings
from portico.provider import CONTROLLER_PREFIX, Capabilities, ProviderContext, ProviderUnavailable, load_provider_spec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "-f",
        "--filename",
        dest="paths",
        action="append",
        metavar="PATH",
        help="a YAML/JSON file or a directory (recursive); repeatable",
    )
    source.add_argument(
        "--from-cluster",
        action="store_true",
        help="read Ingresses, IngressClasses, Services, Secrets and ConfigMaps from the cluster (read only; "
        "kubeconfig or in-cluster credentials)",
    )
    parser.add_argument("--context", metavar="NAME", help="kubeconfig context for --from-cluster")
    parser.add_argument(
        "--ingress-class",
        dest="ingress_classes",
        action="append",
        metavar="NAME",
        help="an IngressClass name ingress-nginx serves; repeatable (default: nginx)",
    )
    parser.add_argument(
        "--gateway-class", default="portico", metavar="NAME", help="the GatewayClass to create (default: portico)"
    )
    parser.add_argument(
        "--gateway", default="ingress-nginx", metavar="NAME", help="the Gateway to create (default: ingress-nginx)"
    )
    parser.add_argument(
        "--gateway-namespace", default="default", metavar="NS", help="the Gateway's namespace (default: default)"
    )
    parser.add_argument(
        "--provider",
        default="proxy",
        metavar="NAME",
        help="the target provider (aws-alb, aws-lattice, azure-appgw, gcp-alb, proxy; default: proxy); "
        "what it cannot express is reported",
    )
    parser.add_argument(
        "--default-certificate",
        metavar="NS/NAME",
        help="the TLS Secret ingress-nginx used as --default-ssl-certificate, for spec.tls entries without one",
    )
    parser.add_argument("-o", "--output", choices=["yaml", "json"], default="yaml", help="output format")
    parser.add_argument("--report", default="-", metavar="FILE", help="where the report goes ('-': stderr)")


def _capabilities(name: str) -> Capabilities | str:
    try:
        spec = load_provider_spec(name)
        return spec.factory(ProviderContext()).capabilities()
    except ProviderUnavailable as error:
        return f"portico convert: --provider {name}: {error}"


def _objects(args: argparse.Namespace) -> list[dict[str, Any]] | None:
    if args.from_cluster:
        from portico.cli.convert_cluster import ClusterReadError, read_cluster

        try:
            return read_cluster(args.context)
        except ClusterReadError as error:
            print(f"portico convert: --from-cluster: {error}", file=sys.stderr)
            return None
    manifests = read_inputs(args.paths)
    return None if manifests is None else [m.obj for m in manifests]


def _write_report(args: argparse.Namespace, text: str) -> None:
    if args.report == "-":
        sys.stderr.write(text)
        return
    with open(args.report, "w", encoding="utf-8") as out:
        out.write(text)


def run(args: argparse.Namespace) -> int:
    capabilities = _capabilities(args.provider)
    if isinstance(capabilities, str):
        print(capabilities, file=sys.stderr)
        return 2
    default_certificate = None
    if args.default_certificate is not None:
        namespace, _, name = args.default_certificate.partition("/")
        if not namespace or not name or "/" in name:
            print(
                f"portico convert: --default-certificate: expected NS/NAME, got {args.default_certificate!r}",
                file=sys.stderr,
            )
            return 2
        default_certificate = (namespace, name)
    objects = _objects(args)
    if objects is None:
        return 2
    controller = CONTROLLER_PREFIX + args.provider
    options = Options(
        ingress_classes=tuple(args.ingress_classes or ("nginx",)),
        gateway_class=args.gateway_class,
        controller=controller,
        gateway=args.gateway,
        gateway_namespace=args.gateway_namespace,
        features=capabilities.features,
        listener_protocols=capabilities.listener_protocols,
        default_certificate=default_certificate,
    )
    result = convert(objects, options)
    findings = list(result.findings)
    if result.objects:
        findings += target_findings(result.objects, objects, controller, capabilities, args.provider)
    if args.output == "json":
        json.dump({"apiVersion": "v1", "kind": "List", "items": result.objects}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        _write_report(args, json.dumps(report_document(findings), indent=2) + "\n")
    else:
        yaml.safe_dump_all(result.objects, sys.stdout, sort_keys=False)
        _write_report(args, report_text(findings))
    if not result.converted:
        print("portico convert: no Ingress of the selected classes could be converted", file=sys.stderr)
        return 1
    return 0
