"""Choosing the engine from one setting: no cluster, a LocalCluster, or an existing scheduler.

`--cluster` (or RINGWATCH_CLUSTER): absent = one process; `local` or `local:N` = a
distributed.LocalCluster of N worker processes on loopback; `tcp://host:port` = an existing
scheduler. Before any work the workers are checked: same versions of the packages that decide
results (a worker with another polars hashes identifiers differently), and able to read and
write the run's scratch folder inside the workspace.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError
from common.progress import Say, silent
from common.versions import package_versions
from features.execution import Engine

ENV = "RINGWATCH_CLUSTER"
CONNECT_TIMEOUT_S = 3
DEFAULT_LOCAL_WORKERS = 2
#: Packages whose versions must agree between the client and every worker.
PINNED = ("ringwatch", "polars", "numpy", "numba", "lightgbm", "dask", "distributed", "pyarrow")


@dataclass(frozen=True)
class ClusterSpec:
    """A parsed --cluster value: kind 'none', 'local' (with `workers`) or 'address'."""

    kind: str
    workers: int = 1
    address: str = ""


def parse_cluster(value: str | None) -> ClusterSpec:
    """The cluster setting from --cluster, else RINGWATCH_CLUSTER, else none."""
    text = (value if value is not None else os.environ.get(ENV, "")).strip()
    if text in ("", "none"):
        return ClusterSpec("none")
    local = re.fullmatch(r"local(?::(\d+))?", text)
    if local:
        workers = int(local.group(1) or DEFAULT_LOCAL_WORKERS)
        if workers < 1:
            raise UserError(f"--cluster {text}: a LocalCluster needs at least 1 worker")
        return ClusterSpec("local", workers=workers)
    if re.fullmatch(r"(tcp|tls|ws|wss)://[^\s]+:\d+", text):
        return ClusterSpec("address", address=text)
    raise UserError(
        f"--cluster {text!r}: expected local, local:N or a scheduler address tcp://host:port"
    )


def versions() -> dict[str, str]:
    """Installed versions of the packages that decide results (run on every worker too)."""
    return package_versions(PINNED, missing="missing")


def probe(path: str) -> str:
    """'' when this process can read `path` and write beside it, else the reason it cannot."""
    try:
        Path(path).read_text()
        mine = Path(path).with_name(f"worker-{uuid.uuid4().hex[:8]}")
        mine.write_text("ok")
        mine.unlink()
    except OSError as error:
        return f"{type(error).__name__}: {error}"
    return ""


def version_problems(mine: dict[str, str], workers: dict[str, dict[str, str]]) -> None:
    """A UserError naming the first worker whose package versions differ from the client's."""
    for worker, theirs in workers.items():
        wrong = {k: (v, theirs.get(k)) for k, v in mine.items() if theirs.get(k) != v}
        if wrong:
            listed = ", ".join(f"{k} {them} (client {me})" for k, (me, them) in wrong.items())
            raise UserError(f"Dask worker {worker} runs other versions: {listed}")


def access_problems(client, marker: Path) -> None:
    """A UserError naming the first worker that cannot read `marker` or write beside it."""
    for worker, problem in client.run(probe, str(marker)).items():
        if problem:
            raise UserError(
                f"Dask worker {worker} cannot read and write the workspace path "
                f"{marker.parent}: {problem} (workers need the workspace on a shared filesystem)"
            )


def check_workers(client, scratch: Path) -> None:
    """Every worker runs the client's package versions and shares the scratch folder."""
    version_problems(versions(), client.run(versions))
    marker = scratch / "probe.txt"
    marker.write_text("ringwatch")
    access_problems(client, marker)


def check_memory(value: str | None) -> None:
    """A UserError unless `value` is a size Dask understands (e.g. 3GiB, 1500MB) or absent."""
    from dask.utils import parse_bytes

    if value is None:
        return
    try:
        if parse_bytes(value) <= 0:
            raise ValueError
    except ValueError:
        raise UserError(f"--worker-memory {value!r}: expected a size such as 3GiB") from None


def connect(spec: ClusterSpec, worker_memory: str | None):  # -> (client, cluster | None)
    """A Dask client for the spec (a new LocalCluster, or the scheduler at its address)."""
    from distributed import Client, LocalCluster

    if spec.kind == "local":
        check_memory(worker_memory)
        cluster = LocalCluster(
            n_workers=spec.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            memory_limit=worker_memory or "auto",
        )
        return Client(cluster), cluster
    try:
        return Client(spec.address, timeout=CONNECT_TIMEOUT_S), None
    except (OSError, TimeoutError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UserError(f"cannot reach the Dask scheduler at {spec.address}: {reason}") from None


@contextmanager
def open_engine(
    value: str | None,
    workspace: Path,
    worker_memory: str | None = None,
    say: Say = silent,
) -> Iterator[Engine]:
    """The engine of the --cluster setting; a cluster (and its scratch folder under
    `workspace/scratch`) lives as long as the block."""
    spec = parse_cluster(value)
    if spec.kind == "none":
        yield Engine()
        return
    client, cluster = connect(spec, worker_memory)
    scratch = Path(workspace).resolve() / "scratch" / f"run-{uuid.uuid4().hex[:12]}"
    try:
        scratch.mkdir(parents=True)
        workers = len(client.scheduler_info()["workers"]) or spec.workers
        say(f"Dask cluster: {workers} workers, dashboard {client.dashboard_link}")
        check_workers(client, scratch)
        yield Engine(client, scratch, workers, client.dashboard_link)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        client.close()
        if cluster is not None:
            cluster.close()
