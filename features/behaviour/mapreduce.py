"""The behavioural feature builder as map-reduce over account-hash buckets (the Dask path).

The same pure functions as `build.py`, mapped by an `Engine` over buckets, with every table
between steps written as Parquet parts in the run's scratch folder:

1. split   one task per slice of the events input: snapshot cut, then each row to the bucket
           of its account (FNV-1a of account_id)                    -> events/bucket=b/
2. bucket  one task per bucket: normalise, per-account features and the distinct-pair tables;
           pairs go to the shard of their key (identifier, headline signature; a follow pair
           and its reverse to the same shard)                       -> local/, pairs-<kind>/
3. shard   one task per shard: how many accounts hold each key (complete: all its pairs are
           in the shard); follow counts per follower and followed   -> crowd-<kind>/, follow-*/
4. finish  one task per bucket: per-account cross features from the crowded pairs and summed
           follow counts, joined with the local ones, defaults filled -> features/bucket=b/

The bucket tasks also write the graph stage's (account, identifier) uses -> usage-<kind>/, so
the client's graph stage does not scan the events for them again.

The client reads the finished parts and sorts by account_id. Floats equal the single-process
build up to summation order (last-bit rounding); integers are equal.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from features.behaviour.buckets import account_buckets, bucket_count
from features.behaviour.build import assemble, bucket_features
from features.behaviour.content import crowded_duplicates
from features.behaviour.identity import IDENTIFIERS, crowded_identity, with_crowding
from features.behaviour.novelty import NOVEL_IDENTIFIERS, crowded_new
from features.behaviour.seam import account_index, as_of_us, event_source, hashed, normalise
from features.behaviour.social import follow_counts, follow_ratios
from features.config import BehaviourConfig
from features.execution import Engine, read_parts, split_write, write_part
from features.io.contract import EVENTS

__all__ = [
    "build_behaviour_on",
    "event_pieces",
    "gather_usage_on",
    "identifier_usages",
]

KEYED = (
    *IDENTIFIERS,
    "headline",
    *(f"new_{c}" for c in NOVEL_IDENTIFIERS),
)  # pair tables whose cross features count key holders
BUCKETS_PER_WORKER = 4  # at least this many buckets per worker (load balance, retries)
Piece = tuple[int, str, int, int, bool]  # (number, file, first row, rows, typed already)


def event_pieces(
    source: Path, events: pl.LazyFrame, scratch: Path, rows_per_piece: int
) -> list[Piece]:
    """Slices of the events input for the split tasks: the stored Parquet files of the data
    folder when it has them, else the (already typed) events written once to `scratch`."""
    from features.io.tables import find_table, part_files

    path = find_table(Path(source), EVENTS.name) if Path(source).is_dir() else None
    if path is not None and path.suffix != ".csv":
        files, typed = (part_files(path) if path.is_dir() else [path]), False
    else:
        file = scratch / "events-input.parquet"
        events.sink_parquet(file)
        files, typed = [file], True
    pieces = []
    for file in files:
        rows = pq.ParquetFile(file).metadata.num_rows
        for start in range(0, max(rows, 1), rows_per_piece):
            length = min(rows_per_piece, max(rows - start, 0))
            pieces.append((len(pieces), str(file), start, length, typed))
    return pieces


def split_events(piece: Piece, root: Path, as_of: int, n_buckets: int) -> int:
    """Map: one slice of the input, cut at the snapshot, written by account bucket."""
    from features.io.scan import typed_columns

    number, file, start, rows, typed = piece
    scan = pl.scan_parquet(file).slice(start, rows)
    if not typed:
        scan = scan.select(typed_columns(scan.collect_schema(), EVENTS, file))
    frame = event_source(scan, as_of).collect()
    buckets = account_buckets(frame["account_id"], n_buckets)
    split_write(frame, buckets, n_buckets, root / "events", f"{number:06d}")
    return frame.height


def index_of(root: Path) -> pl.DataFrame:
    """The run's account index (account_id order: aidx, bucket, created_us, followers)."""
    return pl.read_parquet(root / "index.parquet")


def shard_of(kind: str, pairs: pl.DataFrame, n: int) -> np.ndarray:
    """The shard of each pair: its key modulo n; for follows (src + dst) modulo n, so that a
    pair and its reverse meet in one shard."""
    if kind == "follow":
        total = pairs["src"].cast(pl.Int64) + pairs["dst"].cast(pl.Int64)
        return (total % n).to_numpy()
    return (pairs["key"].cast(pl.UInt64) % n).cast(pl.Int64).to_numpy()


def bucket_stage(
    bucket: int, root: Path, n_accounts: int, as_of: int, config: BehaviourConfig, n_buckets: int
) -> int:
    """Map: one bucket's per-account features, and its pair tables sent to their shards."""
    index = index_of(root)
    members = index.filter(pl.col("bucket") == bucket).select("account_id", "aidx")
    keys = index.select(hashed("account_id").alias("target"), pl.col("aidx").alias("dst"))
    raw = read_parts(root / "events", bucket)
    write_usage(raw, members, root, bucket, n_buckets)
    ev = normalise(raw.lazy(), members).collect()
    del raw
    local, pairs = bucket_features(ev, keys, n_accounts, as_of, config)
    write_part(local, root / "local" / f"bucket={bucket:05d}" / "local.parquet")
    for kind, frame in pairs.items():
        to = shard_of(kind, frame, n_buckets)
        split_write(frame, to, n_buckets, root / f"pairs-{kind}", f"{bucket:05d}")
    return ev.height


def write_usage(
    raw: pl.DataFrame, members: pl.DataFrame, root: Path, bucket: int, n_shards: int
) -> None:
    """The graph stage's (node, identifier) uses of the bucket's accounts: complete per bucket,
    since an account's events all fall in its bucket (features.graph.build.identifier_usage);
    also sent to their identifiers' key shards (features.graph.linkreduce)."""
    from features.graph.build import IDENTIFIERS as LINKED
    from features.graph.build import identifier_usage
    from features.graph.linkreduce import write_usage_by_key

    events = raw.lazy().with_columns(pl.from_epoch("ts", "us").dt.replace_time_zone("UTC"))
    nodes = members.select(pl.col("account_id").hash().alias("a"), pl.col("aidx").alias("node"))
    for kind in LINKED:
        usage = identifier_usage(events, nodes, kind)
        write_part(usage, root / f"usage-{kind}" / f"bucket={bucket:05d}" / "usage.parquet")
        write_usage_by_key(usage, root, kind, f"{bucket:05d}", n_shards)


def identifier_usages(engine: Engine) -> dict[str, pl.DataFrame]:
    """The identifier uses the bucket tasks of build_behaviour_on wrote, per identifier kind."""
    from features.graph.build import IDENTIFIERS as LINKED

    root = engine.folder("behaviour")
    return {kind: read_parts(root / f"usage-{kind}") for kind in LINKED}


def shard_stage(shard: int, root: Path, n_buckets: int) -> int:
    """Reduce: key holders counted per key of one shard; follow counts of its pairs. Results
    go back to the bucket of the account they describe."""
    bucket_of = index_of(root)["bucket"].to_numpy()
    name = f"{shard:05d}"
    for kind in KEYED:
        crowded = with_crowding(read_parts(root / f"pairs-{kind}", shard).lazy()).collect()
        to = bucket_of[crowded["aidx"].to_numpy()]
        split_write(crowded, to, n_buckets, root / f"crowd-{kind}", name)
    given, received = follow_counts(read_parts(root / "pairs-follow", shard))
    split_write(given, bucket_of[given["src"].to_numpy()], n_buckets, root / "given", name)
    to = bucket_of[received["dst"].to_numpy()]
    split_write(received, to, n_buckets, root / "received", name)
    return shard


def summed(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """Partial counts of several shards added up per account."""
    counts = [c for c in frame.columns if c != key]
    return frame.group_by(key).agg(pl.col(c).sum() for c in counts)


def finish_stage(bucket: int, root: Path, as_of: int, config: BehaviourConfig) -> int:
    """Reduce: one bucket's accounts with every behavioural column, written as one part."""
    index = index_of(root).filter(pl.col("bucket") == bucket).drop("bucket")
    local = read_parts(root / "local", bucket)
    cross = [
        crowded_identity(read_parts(root / f"crowd-{kind}", bucket), prefix)
        for kind, prefix in IDENTIFIERS.items()
    ]
    cross.append(crowded_duplicates(read_parts(root / "crowd-headline", bucket)))
    given = summed(read_parts(root / "given", bucket), "src")
    received = summed(read_parts(root / "received", bucket), "dst")
    cross.append(follow_ratios(given, received))
    cross += [
        crowded_new(read_parts(root / f"crowd-new_{kind}", bucket), prefix)
        for kind, prefix in NOVEL_IDENTIFIERS.items()
    ]
    frame = assemble(index, local, cross, as_of, config)
    write_part(frame, root / "features" / f"bucket={bucket:05d}" / "features.parquet")
    return frame.height


def usage_stage(bucket: int, root: Path, n_buckets: int) -> int:
    """Map: only the graph stage's identifier uses of one bucket (`ringwatch rings`)."""
    members = index_of(root).filter(pl.col("bucket") == bucket).select("account_id", "aidx")
    raw = read_parts(root / "events", bucket)
    write_usage(raw, members, root, bucket, n_buckets)
    return raw.height


def split_on(
    engine: Engine,
    accounts: pl.DataFrame,
    events: pl.LazyFrame,
    moment: int,
    source: Path,
    config: BehaviourConfig,
) -> tuple[Path, pl.DataFrame, int]:
    """The split step: the account index and the events by account bucket in the scratch
    folder (emptied first). Returns (folder, index, bucket count)."""
    root = engine.fresh("behaviour")
    index = account_index(accounts)
    pieces = event_pieces(source, events, root, config.spill_chunk_events)
    stored = sum(piece[3] for piece in pieces)
    n_buckets = max(bucket_count(stored, config), BUCKETS_PER_WORKER * engine.workers)
    buckets = account_buckets(index["account_id"], n_buckets)
    write_part(index.with_columns(bucket=pl.Series(buckets)), root / "index.parquet")
    engine.map(split_events, pieces, root=root, as_of=moment, n_buckets=n_buckets)
    return root, index, n_buckets


def gather_usage_on(
    engine: Engine,
    accounts: pl.DataFrame,
    events: pl.LazyFrame,
    as_of: datetime,
    source: Path,
    config: BehaviourConfig = BehaviourConfig(),
) -> None:
    """The identifier uses of every account as bucket tasks, without the behaviour features
    (read back with identifier_usages; counted by features.graph.linkreduce)."""
    root, _, n_buckets = split_on(engine, accounts, events, as_of_us(as_of), source, config)
    engine.map(usage_stage, range(n_buckets), root=root, n_buckets=n_buckets)


def build_behaviour_on(
    engine: Engine,
    accounts: pl.DataFrame,
    events: pl.LazyFrame,
    as_of: datetime,
    source: Path,
    config: BehaviourConfig = BehaviourConfig(),
) -> pl.DataFrame:
    """build_behaviour_features as map-reduce tasks of `engine` (see module doc); `source` is
    the data folder whose stored events files the split tasks read."""
    moment = as_of_us(as_of)
    root, index, n_buckets = split_on(engine, accounts, events, moment, source, config)
    each = range(n_buckets)
    sizes = dict(n_accounts=index.height, n_buckets=n_buckets)
    engine.map(bucket_stage, each, root=root, as_of=moment, config=config, **sizes)
    engine.map(shard_stage, each, root=root, n_buckets=n_buckets)
    engine.map(finish_stage, each, root=root, as_of=moment, config=config)
    return read_parts(root / "features").sort("account_id")
