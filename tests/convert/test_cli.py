"""`portico convert` as a command: exit codes, output formats, the report file and --provider."""

from __future__ import annotations

import json
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
import yaml

from portico import provider
from portico.cli import main
from portico.provider import ENTRY_POINT_GROUP, ProviderSpec

CORPUS = Path(__file__).parent / "corpus"


def test_yaml_objects_on_stdout_and_the_report_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "-f", str(CORPUS / "canary.in.yaml")]) == 0
    out, err = capsys.readouterr()
    kinds = [doc["kind"] for doc in yaml.safe_load_all(out)]
    assert kinds == ["GatewayClass", "Gateway", "HTTPRoute"]  # the input's Services are not echoed
    assert "Ingress echo/canary:" in err and "canary-by-header: converted:" in err
    assert err.splitlines()[-1].startswith("Summary: ")


def test_json_output_and_report_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    code = main(["convert", "-f", str(CORPUS / "annotations.in.yaml"), "-o", "json", "--report", str(report)])
    assert code == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["kind"] == "List" and err == ""
    document = json.loads(report.read_text())
    outcomes = {(f["ingress"], f["subject"]): f["outcome"] for f in document["findings"]}
    assert outcomes[("web/app", "auth-url")] == "not-convertible"
    assert outcomes[("web/app", "enable-cors")] == "converted"  # the proxy answers CORS (HTTPRouteCORS)
    assert document["summary"]["converted"] > 0


def test_unreadable_input_exits_2_with_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "ingress.yaml"
    bad.write_text("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x\n")
    assert main(["convert", "-f", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}:") and "Traceback" not in err


def test_an_unknown_provider_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "-f", str(CORPUS / "canary.in.yaml"), "--provider", "no-such-cloud"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("portico convert: --provider no-such-cloud: no provider named 'no-such-cloud' is installed")
    assert "Traceback" not in err


# A provider whose SDK is missing (as azure-appgw or gcp-alb are without their extra).
WITHOUT_SDK = ProviderSpec(name="gcp-alb", factory=lambda _: None, requires=("portico_test_absent_sdk",), extra="gcp")  # type: ignore[arg-type,return-value]


def test_a_provider_without_its_sdk_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    point = EntryPoint(name="gcp-alb", value=f"{__name__}:WITHOUT_SDK", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(provider, "entry_points", lambda group: [point] if group == ENTRY_POINT_GROUP else [])
    assert main(["convert", "-f", str(CORPUS / "canary.in.yaml"), "--provider", "gcp-alb"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "portico convert: --provider gcp-alb: provider 'gcp-alb' needs portico_test_absent_sdk; "
        "install portico-gateway[gcp]"
    )


def test_provider_limits_are_reported(capsys: pytest.CaptureFixture[str]) -> None:
    # ALB programs regex paths (RegexValues); VPC Lattice has no regex matches.
    assert main(["convert", "-f", str(CORPUS / "regex-host.in.yaml"), "--provider", "aws-lattice"]) == 0
    out, err = capsys.readouterr()
    gateway_class = next(d for d in yaml.safe_load_all(out) if d["kind"] == "GatewayClass")
    assert gateway_class["spec"]["controllerName"] == "portico.dev/aws-lattice"
    assert "rejected-by-target: aws-lattice on http: Accepted=UnsupportedValue" in err
    assert "VPC Lattice rules do not support RegularExpression matches" in err


def test_alb_programs_the_regex_paths_it_can(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "-f", str(CORPUS / "regex-host.in.yaml"), "--provider", "aws-alb"]) == 0
    _, err = capsys.readouterr()
    assert "do not support RegularExpression matches" not in err


def test_nothing_to_convert_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    other = tmp_path / "traefik.yaml"
    other.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: t}\n"
        "spec: {ingressClassName: traefik, defaultBackend: {service: {name: s, port: {number: 80}}}}\n"
    )
    assert main(["convert", "-f", str(other)]) == 1
    out, err = capsys.readouterr()
    assert out == "" or out.strip() == ""
    assert "ingressClassName 'traefik' is not served by ingress-nginx (nginx): skipped" in err
    assert main(["convert", "-f", str(other), "--ingress-class", "traefik"]) == 0


def test_default_certificate_serves_tls_entries_without_a_secret(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["convert", "-f", str(CORPUS / "tls-redirects.in.yaml"), "--default-certificate", "ingress-nginx/fallback"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    documents = list(yaml.safe_load_all(out))
    gateway = next(d for d in documents if d["kind"] == "Gateway")
    listener = next(item for item in gateway["spec"]["listeners"] if item.get("hostname") == "default-cert.example.com")
    assert listener["tls"]["certificateRefs"] == [{"kind": "Secret", "name": "fallback", "namespace": "ingress-nginx"}]
    grants = [d for d in documents if d["kind"] == "ReferenceGrant" and d["metadata"]["namespace"] == "ingress-nginx"]
    assert [to["name"] for g in grants for to in g["spec"]["to"]] == ["fallback"]
    assert "ssl-redirect: converted: host default-cert.example.com: HTTP answers 301 to https" in err


def test_default_certificate_must_be_namespace_and_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "-f", str(CORPUS / "canary.in.yaml"), "--default-certificate", "fallback"]) == 2
    assert capsys.readouterr().err == "portico convert: --default-certificate: expected NS/NAME, got 'fallback'\n"
