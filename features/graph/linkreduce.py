"""Shared-identifier and lockstep links as map-reduce over key shards (the Dask path of
`build.shared_graph` and `lockstep.lockstep_buckets`).

The behaviour stage's bucket tasks write every (account, identifier) use twice: by account
bucket (`usage-<kind>/`, read by the client for co-timed novelty) and by key shard, the
identifier hash modulo the shard count (`usage-<kind>-by-key/`). One task per shard and kind
then groups the uses by identifier (`build.identifier_counts`: users counted, hubs cut),
which is complete per shard since all uses of an identifier fall in one shard. The client
stacks the shards' results; numbering the kept identifiers and building the pair graph is
`build.shared_graph`'s, as in one process.

Lockstep: one task per account bucket reads the bucket's events (still in the scratch
folder) and sends each act (account, target, time window) to the shard of its target; one
task per target shard finds the (target, window) buckets of 2..cap accounts and the targets'
popularity (`lockstep.buckets_of`, complete per shard: all acts on a target fall in one
shard). The client renumbers the buckets in the order one process numbers them (by bucket
hash) and builds the lockstep graph with `lockstep.lockstep_graph`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from features.config import GraphConfig
from features.execution import Engine, bucket_path, read_parts, split_write, write_part
from features.graph.build import IDENTIFIERS, Counted, identifier_counts
from features.graph.lockstep import bucket_hash, buckets_of, lockstep_acts

__all__ = ["counted_on", "key_shards", "lockstep_on", "write_usage_by_key"]

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


def acts_stage(bucket: int, root: Path, n_shards: int, config: GraphConfig) -> int:
    """Map: one account bucket's lockstep acts, sent to the shards of their targets."""
    members = pl.read_parquet(root / "index.parquet").filter(pl.col("bucket") == bucket)
    hashed = members.select(pl.col("account_id").hash().alias("a"), pl.col("aidx").alias("node"))
    events = read_parts(root / "events", bucket).lazy()
    events = events.with_columns(pl.from_epoch("ts", "us").dt.replace_time_zone("UTC"))
    acts = lockstep_acts(events, hashed, config).with_columns(b=bucket_hash()).collect()
    to = (acts["t"] % n_shards).cast(pl.Int64).to_numpy()
    split_write(acts, to, n_shards, root / "acts-by-target", f"{bucket:05d}")
    return acts.height


def lockstep_shard(shard: int, root: Path, n: int, config: GraphConfig) -> int:
    """Reduce: the lockstep buckets of one target shard's acts."""
    found = buckets_of(read_parts(root / "acts-by-target", shard), n, config)
    write_part(found, bucket_path(root / "lockstep", shard, "buckets"))
    return found.height


def lockstep_on(engine: Engine, root: Path, config: GraphConfig) -> pl.DataFrame:
    """lockstep_buckets of every account, as bucket and target-shard tasks (module doc)."""
    n = pl.scan_parquet(root / "index.parquet").select(pl.len()).collect().item()
    n_buckets = len(list((root / "events").glob("bucket=*")))
    buckets = range(n_buckets)
    engine.map(acts_stage, buckets, root=root, n_shards=n_buckets, config=config)
    engine.map(lockstep_shard, buckets, root=root, n=max(n, 1), config=config)
    found = read_parts(root / "lockstep")
    return found.with_columns(key=(pl.col("b").rank("dense") - 1).cast(pl.Int64))
