"""Shared-identifier links as map-reduce over key shards (the Dask path of `shared_graph`).

The behaviour stage's bucket tasks write every (account, identifier) use twice: by account
bucket (`usage-<kind>/`, read by the client for co-timed novelty) and by key shard, the
identifier hash modulo the shard count (`usage-<kind>-by-key/`). One task per shard and kind
then groups the uses by identifier (`build.identifier_counts`: users counted, hubs cut),
which is complete per shard since all uses of an identifier fall in one shard. The client
stacks the shards' results; numbering the kept identifiers and building the pair graph is
`build.shared_graph`'s, as in one process.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from features.execution import Engine, bucket_path, read_parts, split_write, write_part
from features.graph.build import IDENTIFIERS, Counted, identifier_counts

__all__ = ["counted_on", "key_shards", "write_usage_by_key"]

PARTS = ("kept", "hubs", "used")


def key_shards(usage: pl.DataFrame, n_shards: int) -> np.ndarray:
    """The key shard of each use: its identifier hash modulo the shard count."""
    return (usage["h"].cast(pl.UInt64) % n_shards).cast(pl.Int64).to_numpy()


def write_usage_by_key(usage: pl.DataFrame, root: Path, kind: str, name: str, n: int) -> None:
    """One bucket's uses of one identifier kind, sent to their key shards (part `name`)."""
    split_write(usage, key_shards(usage, n), n, root / f"usage-{kind}-by-key", name)


def count_shard(shard: int, root: Path, kind: str, hub_max: int) -> int:
    """Reduce: identifier_counts of one key shard's uses, written as three parts."""
    usage = read_parts(root / f"usage-{kind}-by-key", shard)
    for part, frame in zip(PARTS, identifier_counts(usage, hub_max), strict=True):
        write_part(frame, bucket_path(root / f"counted-{kind}-{part}", shard, part))
    return usage.height


def shard_count(root: Path, kind: str) -> int:
    """How many key shards the bucket tasks wrote for one identifier kind."""
    return len(list((root / f"usage-{kind}-by-key").glob("bucket=*")))


def counted_on(engine: Engine, root: Path, hub_max: int) -> dict[str, Counted]:
    """identifier_counts of every identifier kind, one task per key shard, stacked."""
    out = {}
    for kind in IDENTIFIERS:
        shards = range(shard_count(root, kind))
        engine.map(count_shard, shards, root=root, kind=kind, hub_max=hub_max)
        kept, hubs, used = (read_parts(root / f"counted-{kind}-{part}") for part in PARTS)
        out[kind] = (kept, hubs, used)
    return out
