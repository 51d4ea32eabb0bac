"""Reading the events one account-hash bucket at a time, in the normalised shape of `seam`.

An in-memory events frame is filtered per bucket (a hash lookup of the bucket's accounts). A
lazy source (e.g. the Dataset's scan of a base larger than RAM) is read once, in batches of
`spill_chunk_events` rows: each batch is normalised and split by bucket into Arrow IPC files
in a temporary folder, and each bucket is then read back alone. Memory holds one batch or one
bucket at a time. (Polars' own partitioned sink buffered most of the input in memory here.)
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl

from features.behaviour.seam import event_source, normalise


def spill(
    events: pl.LazyFrame, as_of: int, members: pl.DataFrame, folder: Path, chunk: int
) -> None:
    """Write the normalised events as `folder/bucket=<b>/<batch number>.ipc` files.

    The snapshot-cut source streams by in batches of `chunk` rows (a scan with filters
    cannot be sliced without re-reading it from the start); each batch is normalised on its
    own (a streaming join with the members would buffer the whole input). `sink_batches` is
    marked unstable in polars 2.1 (pinned); spilling 1 M accounts' events with it peaked at
    2.7 GiB, with `collect_batches` at 3.6 GiB (batches queue up ahead of the writes).
    """
    batches = itertools.count()

    def write(batch: pl.DataFrame) -> None:
        number = next(batches)
        part = normalise(batch.lazy(), members).collect()
        for (bucket,), frame in part.partition_by(
            "bucket", as_dict=True, include_key=False
        ).items():
            target = folder / f"bucket={bucket}"
            target.mkdir(exist_ok=True)
            frame.write_ipc(target / f"{number:014d}.ipc")

    event_source(events, as_of).sink_batches(write, chunk_size=chunk)


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
