"""The execution seam: map a pure stage function over items (buckets, shards) in this process
or as Dask tasks on a cluster, with data passed between tasks as Parquet part files.

A task receives small arguments (a bucket number, a folder path, settings) and returns small
results (paths, counts); the tables themselves go through the `scratch` folder, which every
worker and the client can read and write (a workspace on a shared filesystem). Part files are
written under a temporary name and renamed into place, so a task that Dask reruns after a
worker died overwrites its own output and never leaves a half-written part behind.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from common.errors import UserError

__all__ = [
    "Engine",
    "WorkspaceError",
    "bucket_path",
    "read_parts",
    "split_write",
    "write_part",
]


class WorkspaceError(UserError):
    """A task on a Dask worker could not read or write a file of the shared workspace (one
    `error:` line naming the worker and the path, exit code 2)."""

    def __init__(self, worker: str, path: str, reason: str) -> None:
        super().__init__(worker, path, reason)
        self.worker, self.path, self.reason = worker, path, reason

    def __str__(self) -> str:
        return (
            f"Dask worker {self.worker} cannot read or write the workspace path {self.path}: "
            f"{self.reason} (workers need the workspace at the same path, on a shared "
            "filesystem)"
        )


def on_worker(call: Callable, item: Any) -> Any:
    """call(item) in a worker; a file it cannot read or write becomes a WorkspaceError naming
    this worker and the path (instead of a bare traceback from deep inside the task)."""
    try:
        return call(item)
    except OSError as error:
        if error.filename is None:
            raise
        from distributed import get_worker

        reason = error.strerror or type(error).__name__
        raise WorkspaceError(get_worker().address, str(error.filename), reason) from None


@dataclass(frozen=True)
class Engine:
    """Where stages run: in this process (`client` None) or as tasks of a Dask `client`.

    `scratch` is the run's folder for part files (shared with the workers); `workers` the
    number of worker processes (1 in process), used to choose how finely to split the work.
    """

    client: Any = None
    scratch: Path | None = None
    workers: int = 1
    dashboard: str | None = None

    @property
    def distributed(self) -> bool:
        """True when tasks run on a Dask cluster."""
        return self.client is not None

    def map(self, func: Callable, items: Iterable, **shared: Any) -> list:
        """func(item, **shared) for every item, results in item order (tasks on the cluster)."""
        items = list(items)
        call = partial(func, **shared)
        if self.client is None:
            return [call(item) for item in items]
        name = getattr(func, "__name__", "task")
        keys = [f"{name}-{uuid.uuid4().hex[:12]}-{i}" for i in range(len(items))]
        futures = self.client.map(partial(on_worker, call), items, key=keys, pure=False)
        return self.client.gather(futures)

    def fresh(self, name: str) -> Path:
        """The scratch sub-folder `name`, emptied: a new run of a stage on the same cluster
        never reads an earlier run's parts."""
        path = self.folder(name)
        shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def folder(self, name: str) -> Path:
        """A fresh sub-folder of the scratch folder for one stage's parts."""
        if self.scratch is None:
            raise ValueError("this engine has no scratch folder")
        path = Path(self.scratch) / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def write_part(frame: pl.DataFrame, path: Path) -> Path:
    """Write one part file atomically (temporary name, then rename); returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, path)
    return path


def bucket_path(folder: Path, bucket: int, name: str) -> Path:
    """The part file `name` of one bucket (or shard) inside a partitioned folder."""
    return Path(folder) / f"bucket={bucket:05d}" / f"{name}.parquet"


def read_parts(folder: Path, bucket: int | None = None) -> pl.DataFrame:
    """Every part file of a folder (or of one of its buckets), stacked in file-name order."""
    root = Path(folder) if bucket is None else Path(folder) / f"bucket={bucket:05d}"
    parts = sorted(root.rglob("*.parquet")) if bucket is None else sorted(root.glob("*.parquet"))
    if not parts:
        raise FileNotFoundError(errno.ENOENT, "no part files", str(root))
    return pl.concat([pl.read_parquet(p) for p in parts], how="vertical_relaxed")


def split_write(
    frame: pl.DataFrame, destination: np.ndarray, n: int, folder: Path, name: str
) -> None:
    """Write the rows of `frame` to bucket `destination[row]` of `folder` as part `name`: one
    part per bucket 0..n-1, empty ones included (readers then always find the schema)."""
    order = pl.Series("_to", destination, dtype=pl.Int64)
    tagged = frame.with_columns(order)
    parts = tagged.partition_by("_to", as_dict=True, include_key=False)
    empty = frame.clear()
    for bucket in range(n):
        write_part(parts.get((bucket,), empty), bucket_path(folder, bucket, name))
