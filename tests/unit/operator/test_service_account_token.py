"""The projected service-account token is read again when the kubelet rotates it and after a 401."""

from __future__ import annotations

import shutil
from pathlib import Path

from portico.kube.service_account import IN_CLUSTER_SERVER, ServiceAccountToken, service_account_connection
from tests.service_account import project_token


def test_a_rotated_token_file_is_read_again_and_an_unchanged_one_is_not(tmp_path: Path) -> None:
    project_token(tmp_path, 1, "sa-token-1\n")
    credentials = ServiceAccountToken(tmp_path / "token")
    assert [credentials.current() for _ in range(3)] == ["Bearer sa-token-1"] * 3
    assert credentials.reads == 1
    project_token(tmp_path, 2, "sa-token-2")
    assert credentials.current() == "Bearer sa-token-2"
    assert credentials.reads == 2


def test_a_token_file_gone_mid_run_keeps_the_last_token(tmp_path: Path) -> None:
    project_token(tmp_path, 1, "sa-token-1")
    credentials = ServiceAccountToken(tmp_path / "token")
    shutil.rmtree(tmp_path / "..generation-1")  # `token` now dangles
    assert credentials.current() == "Bearer sa-token-1"
    credentials.reload()
    assert credentials.current() == "Bearer sa-token-1"
    project_token(tmp_path, 2, "sa-token-2")
    assert credentials.current() == "Bearer sa-token-2"


async def test_a_refused_token_is_read_again_from_the_file(tmp_path: Path) -> None:
    project_token(tmp_path, 1, "sa-token-1")
    credentials = ServiceAccountToken(tmp_path / "token")
    # Refused while the file still holds it: read again (the server is the judge), same answer.
    assert await credentials.refused("Bearer sa-token-1") == "Bearer sa-token-1"
    assert credentials.reads == 2
    project_token(tmp_path, 2, "sa-token-2")
    assert await credentials.refused("Bearer sa-token-1") == "Bearer sa-token-2"


def test_the_in_cluster_connection_comes_from_the_volume(tmp_path: Path) -> None:
    assert service_account_connection(tmp_path) is None
    project_token(tmp_path, 1, "sa-token-1")
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    connection = service_account_connection(tmp_path)
    assert connection is not None
    assert (connection.server, connection.token, connection.ca_path) == (
        IN_CLUSTER_SERVER,
        "sa-token-1",
        str(tmp_path / "ca.crt"),
    )
    assert isinstance(connection.credentials, ServiceAccountToken)
