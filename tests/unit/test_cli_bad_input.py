"""Every kind of bad input gets exit 2 and `file:line: message` from the installed `portico`, never a
traceback; objects Portico ignores are named on stderr."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.unit.cli_process import ROOT, portico

SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: echo}\n"
GW = "gateway.networking.k8s.io/v1"
LONG = "a" * 254


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (SERVICE + "---\napiVersion: v1\nkind: Service\nmetadata: 'str'\n", 5, "metadata: a str, not a mapping"),
        ("apiVersion: v1\nkind: Service\nmetadata: 5\n", 1, "metadata: a int, not a mapping"),
        ("apiVersion: v1\nkind: Service\nmetadata: [a, b]\n", 1, "metadata: a list, not a mapping"),
        ("apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: [a]}\n", 1, "metadata.namespace: a list"),
        ("apiVersion: v1\nkind: Service\nmetadata: {namespace: a}\n", 1, "metadata.name: missing"),
        ("apiVersion: v1\nkind: [Service]\nmetadata: {name: a}\n", 1, "kind: a list, not a non-empty string"),
        ("\n\napiVersion: v1\nkind: Service\nmetadata: {name: Echo}\n", 3, "'Echo' is not a valid DNS-1035 label"),
        (
            f"apiVersion: {GW}\nkind: HTTPRoute\nmetadata: {{name: {LONG}}}\n",
            1,
            "254 characters; Kubernetes allows at most 253",
        ),
        (f"apiVersion: {GW}\nkind: HTTPRoute\nmetadata: {{name: a, namespace: {'n' * 64}}}\n", 1, "at most 63"),
        ("[" * 600 + "]" * 600 + "\n", 1, "expected a Kubernetes object (a mapping), got list"),
        ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", 1, "nest"),
        (SERVICE + "---\nkind: [unclosed\n", 5, ""),
        (
            f"apiVersion: {GW[:-3]}/v9\nkind: Gateway\nmetadata: {{name: a}}\n",
            1,
            "/v9 does not serve Gateway (served: v1",
        ),
        (f"apiVersion: {GW}\nkind: gateway\nmetadata: {{name: a}}\n", 1, "kinds are case-sensitive: 'Gateway'"),
        (SERVICE + "---\n" + SERVICE, 5, "duplicate Service default/echo, first defined at {file}:1"),
        (
            f"apiVersion: {GW}\nkind: Gateway\nmetadata: {{name: gw}}\nspec:\n  gatewayClassName: p\n  listeners:\n"
            "  - {name: http, port: 80, protocol: HTTP}\n  - {name: http, port: 81, protocol: HTTP}\n",
            1,
            "spec.listeners[1].name: duplicate value 'http' (spec.listeners[0] has it; listeners are keyed by name)",
        ),
        (
            SERVICE + "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {x: '1'}\n  name: b\n",
            10,
            "duplicate key 'name' in one mapping (first at line 8)",
        ),
        ("apiVersion: v1\nkind: Service\nkind: Secret\nmetadata: {name: a}\n", 3, "duplicate key 'kind'"),
    ],
)
def test_bad_yaml_objects_exit_2_with_file_and_line(tmp_path: Path, content: str, line: int, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    done = portico("status", "-f", str(bad))
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith(f"{bad}:{line}: "), done.stderr
    assert message.format(file=bad) in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (SERVICE.encode() + b"  labels: {a: b\x00}\n", 4, "not a UTF-8 YAML/JSON file (NUL byte at offset"),
        (SERVICE.encode("utf-16"), 1, "not a UTF-8 YAML/JSON file (it starts with a UTF-16/32 byte order mark)"),
        (SERVICE.encode() + b"\n\n\xff\xd8\xff\xe0garbage", 6, "not a UTF-8 YAML/JSON file (byte 0xff at offset 54)"),
    ],
)
def test_files_that_are_not_utf8_name_the_line_of_the_bad_byte(
    tmp_path: Path, data: bytes, line: int, message: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(data)
    done = portico("translate", "-f", str(bad))
    assert done.returncode == 2
    assert done.stderr.startswith(f"{bad}:{line}: {message}"), done.stderr


def test_duplicates_across_files_name_both_places_and_a_file_given_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(SERVICE)
    (tmp_path / "b.json").write_text('{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "echo"}}')
    done = portico("status", "-f", str(tmp_path))
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"{tmp_path}/b.json:1: duplicate Service default/echo, first defined at {tmp_path}/a.yaml:1"
    )
    (tmp_path / "b.json").unlink()
    twice = portico("status", "-f", str(tmp_path / "a.yaml"), "-f", str(tmp_path), "-f", f"{tmp_path}/./a.yaml")
    assert (twice.returncode, twice.stderr) == (0, "")


def test_deeply_nested_json_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "deep.json"
    bad.write_text('{"a": ' * 100_000 + "1" + "}" * 100_000)
    done = portico("status", "-f", str(bad))
    assert (done.returncode, done.stderr.strip()) == (2, f"{bad}:1: nested too deeply to be a Kubernetes object")


def test_dash_reads_stdin() -> None:
    quickstart = b"".join(b"---\n" + p.read_bytes() for p in sorted((ROOT / "examples" / "quickstart").glob("*.yaml")))
    done = portico("status", "-f", "-", "-o", "wide", stdin=quickstart)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[2].split() == ["Gateway", "default/quickstart", "True", "True", "3"]
    bad = portico("status", "-f", "-", stdin=b"kind: [unclosed\n")
    assert bad.returncode == 2 and bad.stderr.startswith("<stdin>:"), bad.stderr


def test_a_fifo_is_read_and_a_device_is_named(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done = portico("status", "-f", "/dev/null")
    assert (done.returncode, done.stderr.strip()) == (
        2,
        "/dev/null:0: a character device, not a YAML/JSON file, pipe or directory",
    )
    import subprocess

    from tests.unit.cli_process import PORTICO

    reader = subprocess.Popen([PORTICO, "status", "-f", str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with fifo.open("w") as writer:
        writer.write(SERVICE)
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    assert b"items: []" in out


def test_missing_path_is_named(tmp_path: Path) -> None:
    done = portico("plan", "--provider", "aws-alb", "-f", str(tmp_path / "nope"))
    assert (done.returncode, done.stderr.strip()) == (2, f"{tmp_path / 'nope'}:0: no such file or directory")


def test_ignored_objects_are_said(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        f"apiVersion: {GW}\nkind: Gateway\nmetadata: {{name: web}}\nspec: {{gatewayClassName: elsewhere}}\n"
        f"---\napiVersion: {GW}\nkind: HTTPRoute\nmetadata: {{name: r}}\nspec: hello\n"
        f"---\napiVersion: {GW}\nkind: BackendLBPolicy\nmetadata: {{name: t}}\nspec: {{}}\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
        "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: c}\n"
    )
    done = portico("status", "-f", str(tmp_path))
    assert done.returncode == 0
    assert "items: []" in done.stdout
    lines = done.stderr.splitlines()
    assert lines[0] == f"{tmp_path}/x.yaml:1: ignored Gateway default/web: GatewayClass 'elsewhere' is not in the input"
    assert lines[1] == (
        f"{tmp_path}/x.yaml:6: ignored HTTPRoute default/r: unreadable (spec: expected a mapping (an object with "
        "fields), got a string ('hello')) and not attached to a Portico Gateway in the input"
    )
    assert lines[2] == f"{tmp_path}/x.yaml:11: ignored BackendLBPolicy t: Portico does not implement this kind"
    assert lines[3] == "ignored 2 object(s) of kinds Portico does not read: Deployment, ServiceAccount"
    assert lines[4].startswith("hint: the Helm chart installs the GatewayClass")


def test_an_empty_directory_is_said(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("no manifests here")
    done = portico("translate", "-f", str(tmp_path))
    assert (done.returncode, done.stderr.strip()) == (0, f"no Kubernetes objects in {tmp_path}")


def test_quickstart_whose_class_comes_from_the_chart_prints_a_hint() -> None:
    done = portico("status", "-f", str(ROOT / "examples" / "quickstart-aws"))
    assert done.returncode == 0
    assert "GatewayClass 'portico-aws-alb' is not in the input" in done.stderr
    assert "hint: the Helm chart installs the GatewayClass" in done.stderr


def test_merge_keys_may_repeat_a_key_of_the_merged_mapping(tmp_path: Path) -> None:
    """`<<` merges are overridden by the mapping's own keys on purpose: that is not a duplicate."""
    good = tmp_path / "merge.yaml"
    good.write_text(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: a\n"
        "    labels: &base {app: x, tier: web}\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: b\n"
        "    labels:\n      <<: *base\n      tier: api\n"
    )
    done = portico("translate", "-f", str(good))
    assert done.returncode == 0, done.stderr
