"""The lockstep graph (SynchroTrap / CopyCatch idea): accounts that act on the same targets in
the same short time windows, again and again.

Acts (follow, like, share, comment by default) are bucketed by (target, window); buckets with
one account are dropped first, crowded buckets (popular moments) are cut, and pairs are
emitted only inside the remaining buckets, never all pairs. A pair links when it shares at
least `lockstep_min_repeat` buckets whose FRAUDAR weights 1/log(target popularity + c) sum to
at least `lockstep_min_weight`, so co-acting on celebrities counts little (camouflage).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from features.config import GraphConfig
from features.graph import csr
from features.graph.cliques import clique_pairs, groups, repeated, run_starts, sorted_unique
from features.graph.csr import CSR
from features.graph.index import with_node

#: Each shared bucket adds this to a pair's summed weight (see lockstep_graph); exact while a
#: pair shares fewer than 2**20 buckets.
COUNT_UNIT = float(2**20)


def lockstep_acts(events: pl.LazyFrame, hashed: pl.DataFrame, config: GraphConfig) -> pl.LazyFrame:
    """(node, t, window) acts on the configured actions; t is a 64-bit hash of the target id
    (grouping on strings is slow; the hash never leaves this run)."""
    window_us = int(config.lockstep_window_s) * 1_000_000
    acts = events.lazy().filter(
        pl.col("action").is_in(list(config.lockstep_actions)) & pl.col("target_id").is_not_null()
    )
    acts = acts.select(
        "account_id",
        pl.col("target_id").hash().alias("t"),
        (pl.col("ts").dt.epoch("us") // window_us).alias("window"),
    )
    return with_node(acts, "account_id", hashed, "node")


def lockstep_buckets(
    events: pl.LazyFrame, hashed: pl.DataFrame, config: GraphConfig
) -> pl.DataFrame:
    """Distinct acts in (target, window) buckets holding 2..cap accounts (a bigger bucket is a
    popular moment, not coordination), with the target's popularity (distinct accounts acting
    on it over the whole period) and a bucket number `key`.

    Most buckets hold a single act, so those are dropped first (a sort finds the repeated
    bucket hashes, a hash semi-join keeps their acts); distinct (bucket, account) pairs are
    then found by sorting packed integers, which is much faster than a two-column group-by."""
    raw = lockstep_acts(events, hashed, config).with_columns(b=bucket_hash()).collect()
    return buckets_of(raw, max(hashed.height, 1), config)


def bucket_hash() -> pl.Expr:
    """The 64-bit hash `b` of an act's (target, window) bucket (in-run use only)."""
    return pl.struct("t", "window").hash()


def buckets_of(raw: pl.DataFrame, n: int, config: GraphConfig) -> pl.DataFrame:
    """lockstep_buckets from the acts (node, t, window, b), numbered `key` in order of `b`.
    Complete for any set of whole targets (their acts over the whole period), so a cluster
    runs it per target shard; `b` is kept so that shards' keys can be renumbered."""
    slots = pl.DataFrame({"b": repeated(raw["b"].to_numpy())}, schema={"b": pl.UInt64})
    shared = raw.join(slots.with_row_index("slot"), on="b", how="inner")
    slot = shared["slot"].to_numpy().astype(np.int64)
    pairs = sorted_unique(slot * n + shared["node"].to_numpy().astype(np.int64))
    slot, node = pairs // n, pairs % n
    sizes = np.diff(np.r_[np.flatnonzero(run_starts(slot)), slot.size]).astype(np.int64)
    keep = (sizes >= 2) & (sizes <= config.lockstep_bucket_cap)
    key = np.repeat(np.where(keep, np.cumsum(keep) - 1, -1), sizes)
    kept = key >= 0
    acts = pl.DataFrame(
        {
            "node": node[kept],
            "slot": slot[kept],
            "accounts": np.repeat(sizes, sizes)[kept],
            "key": key[kept].astype(np.int64),
        },
        schema={"node": pl.Int64, "slot": pl.Int64, "accounts": pl.Int64, "key": pl.Int64},
    )
    where = shared.select(pl.col("slot").cast(pl.Int64), "t", "window", "b").unique("slot")
    acts = acts.join(where, on="slot", how="inner").drop("slot")
    return acts.join(target_popularity(raw, acts["t"], n), on="t", how="inner")


def target_popularity(raw: pl.DataFrame, targets: pl.Series, n: int) -> pl.DataFrame:
    """t -> distinct accounts acting on that target over the whole period (targets given)."""
    wanted = pl.DataFrame({"t": sorted_unique(targets.to_numpy().astype(np.uint64))})
    wanted = wanted.with_columns(pl.col("t").cast(pl.UInt64)).with_row_index("i")
    acts = raw.select("t", "node").join(wanted, on="t", how="inner")
    i = acts["i"].to_numpy().astype(np.int64)
    pairs = sorted_unique(i * n + acts["node"].to_numpy().astype(np.int64))
    counts = np.bincount(pairs // n, minlength=wanted.height).astype(np.int64)
    return wanted.select("t").with_columns(popularity=pl.Series(counts, dtype=pl.Int64))


def lockstep_graph(
    buckets: pl.DataFrame, events: pl.LazyFrame, n: int, config: GraphConfig
) -> tuple[CSR, pl.DataFrame, pl.DataFrame]:
    """Pairs of accounts that shared at least `lockstep_min_repeat` (target, window) buckets
    whose summed FRAUDAR weights 1/log(popularity + c) reach `lockstep_min_weight` (co-acting
    on a celebrity says little); weight = that sum. Built bucket by bucket, never all pairs.
    Returns (graph, keys of buckets holding a lockstep pair, their incidence)."""
    incidence = buckets.select("node", "key").sort("key", "node")
    group_ptr, members = groups(incidence)
    per_key = buckets.group_by("key").agg(pl.col("popularity").first()).sort("key")
    weight = 1.0 / np.log(per_key["popularity"].to_numpy().astype(np.float64) + config.fraudar_c)
    if weight.size and weight.max() >= 1.0:
        raise ValueError("fraudar_c must be at least 1 (bucket weights must stay below 1)")
    # one CSR build sums both the bucket count and the weights: each shared bucket adds
    # COUNT_UNIT + w with w < 1, so a pair's total is count * COUNT_UNIT + (sum of w < count)
    src, dst, w = clique_pairs(group_ptr, members, weight + COUNT_UNIT)
    summed = csr.from_edges(n, src, dst, w)
    count = np.floor(summed.weights / COUNT_UNIT)
    weighted = summed.weights - count * COUNT_UNIT
    keep = (count >= config.lockstep_min_repeat) & (weighted >= config.lockstep_min_weight)
    graph = masked(csr.CSR(summed.indptr, summed.indices, weighted), keep)
    # keep only buckets with at least two members that are lockstep partners
    in_lockstep = np.flatnonzero(graph.degree() > 0)
    active = buckets.filter(pl.col("node").is_in(pl.Series(in_lockstep).implode()))
    active = active.filter(pl.len().over("key") >= 2)
    targets = target_names(events, active["t"].unique())
    window_us = int(config.lockstep_window_s) * 1_000_000
    keys = (
        active.group_by("key")
        .agg(pl.col("t").first(), pl.col("window").first(), pl.col("popularity").first())
        .join(targets, on="t", how="inner")
        .sort("target", "window")
        .with_columns(
            new_key=pl.int_range(pl.len(), dtype=pl.Int64),
            first_seen=pl.from_epoch(pl.col("window") * window_us, time_unit="us"),
        )
        .with_columns(pl.col("first_seen").dt.replace_time_zone("UTC"))
    )
    incidence = active.join(keys.select("key", "new_key"), on="key", how="inner")
    incidence = incidence.select("node", pl.col("new_key").alias("key")).sort("key", "node")
    keys = keys.drop("key", "t").rename({"new_key": "key"})
    return graph, keys, incidence


def target_names(events: pl.LazyFrame, hashes: pl.Series) -> pl.DataFrame:
    """t (hash) -> target id string for the given target hashes."""
    wanted = hashes.implode()
    return (
        events.lazy()
        .filter(pl.col("target_id").is_not_null())
        .select(pl.col("target_id").hash().alias("t"), pl.col("target_id").alias("target"))
        .filter(pl.col("t").is_in(wanted))
        .unique("t")
        .collect()
    )


def masked(graph: CSR, keep: np.ndarray) -> CSR:
    """The graph keeping only the stored entries where `keep` is true (a symmetric mask keeps
    an undirected graph undirected)."""
    src, dst, w = graph.edges()
    return csr.from_edges(graph.n, src[keep], dst[keep], w[keep], undirected=False)
