"""Choosing the engine: the --cluster setting, an unreachable scheduler, worker checks."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from common.errors import UserError
from detection.cli import app
from features.cluster import (
    ClusterSpec,
    access_problems,
    check_memory,
    open_engine,
    parse_cluster,
    version_problems,
    versions,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_parse_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RINGWATCH_CLUSTER", raising=False)
    assert parse_cluster(None) == ClusterSpec("none")
    assert parse_cluster("local") == ClusterSpec("local", workers=2)
    assert parse_cluster("local:3") == ClusterSpec("local", workers=3)
    assert parse_cluster("tcp://10.1.2.3:8786") == ClusterSpec(
        "address", address="tcp://10.1.2.3:8786"
    )
    monkeypatch.setenv("RINGWATCH_CLUSTER", "local:4")
    assert parse_cluster(None) == ClusterSpec("local", workers=4)
    assert parse_cluster("") == ClusterSpec("none")  # an explicit empty value wins
    for bad in ("local:0", "lokal", "tcp://host", "8786"):
        with pytest.raises(UserError, match="--cluster"):
            parse_cluster(bad)


def test_unreachable_scheduler_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    args = ["features", str(tmp_path), "--out", str(tmp_path / "f.parquet"), "--cluster", address]
    started = time.monotonic()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith(f"error: cannot reach the Dask scheduler at {address}")
    assert time.monotonic() - started < 30  # a few seconds; generous for a loaded CI machine


def test_bad_worker_memory_is_a_user_error() -> None:
    check_memory("3GiB")
    for bad in ("3XB", "lots", "0"):
        with pytest.raises(UserError, match="--worker-memory"):
            check_memory(bad)


def test_no_cluster_is_this_process(tmp_path: Path) -> None:
    with open_engine(None, tmp_path) as engine:
        assert not engine.distributed
        assert engine.map(abs, [-1, 2]) == [1, 2]


def test_a_worker_with_other_versions_is_named() -> None:
    mine = versions()
    other = {**mine, "polars": "0.0.1"}
    version_problems(mine, {"tcp://127.0.0.1:1": mine})
    with pytest.raises(UserError, match=r"worker tcp://127\.0\.0\.2:2 runs other versions: polars"):
        version_problems(mine, {"tcp://127.0.0.1:1": mine, "tcp://127.0.0.2:2": other})


def test_a_worker_that_cannot_read_the_workspace_is_named(cluster_engine, tmp_path: Path) -> None:
    missing = tmp_path / "not-shared" / "probe.txt"  # as if the workspace were not mounted
    with pytest.raises(
        UserError, match=r"Dask worker tcp://127\.0\.0\.1:\d+ cannot read.*not-shared"
    ):
        access_problems(cluster_engine.client, missing)
    marker = cluster_engine.scratch / "probe.txt"
    access_problems(cluster_engine.client, marker)  # the real scratch folder is fine


def test_a_task_that_cannot_read_the_workspace_names_the_worker_and_path(
    cluster_engine, tmp_path: Path
) -> None:
    from features.execution import WorkspaceError, read_parts

    missing = tmp_path / "elsewhere" / "events"  # as if a worker did not mount the workspace
    with pytest.raises(WorkspaceError) as raised:
        cluster_engine.map(read_parts, [missing])
    assert re.fullmatch(r"tcp://127\.0\.0\.1:\d+", raised.value.worker)
    assert str(missing) in str(raised.value) and raised.value.worker in str(raised.value)
    assert isinstance(raised.value, UserError)  # the CLI prints one error: line, exit 2


def fake_version(folder: Path, version: str) -> Path:
    """A folder that, first on a worker's PYTHONPATH, makes it report another ringwatch."""
    info = folder / f"ringwatch-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: ringwatch\nVersion: {version}\n")
    return folder


def test_a_worker_with_another_ringwatch_is_named_on_connecting(tmp_path: Path) -> None:
    """A real scheduler and a real worker process that runs another ringwatch version."""
    from distributed import Client, LocalCluster

    shadow = fake_version(tmp_path / "shadow", "0.0.0+other")
    env = {**os.environ, "PYTHONPATH": str(shadow)}
    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=":0") as cluster:
        start = ["-m", "distributed.cli.dask_worker", cluster.scheduler_address]
        options = ["--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"]
        worker = subprocess.Popen(
            [sys.executable, *start, *options],
            env=env,
            cwd=shadow,  # not the checkout, whose ringwatch.egg-info would come first
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with Client(cluster.scheduler_address) as client:
                client.wait_for_workers(1, timeout=120)
            with (
                pytest.raises(UserError) as raised,
                open_engine(cluster.scheduler_address, tmp_path / "workspace"),
            ):
                pass
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    message = str(raised.value)
    assert re.match(r"Dask worker tcp://127\.0\.0\.1:\d+ runs other versions: ", message)
    assert "ringwatch 0.0.0+other (client " in message
    assert not list((tmp_path / "workspace" / "scratch").iterdir())  # its scratch is removed
