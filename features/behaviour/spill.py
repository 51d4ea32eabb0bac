"""Reading the events one account-hash bucket at a time, in the normalised shape of `seam`.

An in-memory events frame is filtered per bucket (a hash lookup of the bucket's accounts). A
lazy source (e.g. `pl.scan_parquet` over a base larger than RAM) is read once, in row slices
of `spill_chunk_events`: each slice is normalised and split by bucket into Arrow IPC files in
a temporary folder, and each bucket is then read back alone. Memory holds one slice or one
bucket at a time. (Polars' own partitioned sink buffered most of the input in memory here.)
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl

from features.behaviour.seam import event_source, normalise


def spill(
    events: pl.LazyFrame, as_of: int, members: pl.DataFrame, folder: Path, chunk: int
) -> None:
    """Write the normalised events as `folder/bucket=<b>/<slice start>.ipc` files."""
    total = events.select(pl.len()).collect().item()
    for start in range(0, total, chunk):
        part = normalise(event_source(events.slice(start, chunk), as_of), members).collect()
        for (bucket,), frame in part.partition_by(
            "bucket", as_dict=True, include_key=False
        ).items():
            target = folder / f"bucket={bucket}"
            target.mkdir(exist_ok=True)
            frame.write_ipc(target / f"{start:014d}.ipc")


def bucket_frames(
    events: pl.DataFrame | pl.LazyFrame,
    as_of: int,
    index: pl.DataFrame,
    buckets: np.ndarray,
    n_buckets: int,
    chunk: int,
) -> Iterator[pl.DataFrame]:
    """The normalised events of bucket 0, 1, ... in turn (`buckets`: bucket of each index row)."""
    members = index.select("account_id", "aidx", pl.Series("bucket", buckets))
    if n_buckets == 1 or isinstance(events, pl.DataFrame):
        source = event_source(events, as_of)
        for bucket in range(n_buckets):
            chosen = members.filter(pl.col("bucket") == bucket).drop("bucket")
            yield normalise(source, chosen).collect()
        return
    with tempfile.TemporaryDirectory(prefix="ringwatch-buckets-") as folder:
        root = Path(folder)
        spill(events, as_of, members, root, chunk)
        empty = normalise(event_source(events.head(0), as_of), members.drop("bucket")).collect()
        for bucket in range(n_buckets):
            parts = sorted((root / f"bucket={bucket}").glob("*.ipc"))
            yield pl.scan_ipc(parts).collect() if parts else empty
            for part in parts:
                part.unlink()
