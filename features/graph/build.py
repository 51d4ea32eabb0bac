"""Building the account graphs of a Dataset: explicit relations, shared identifiers, lockstep.

Node index = position of the account in `ds.accounts` sorted by account_id. Every frame is
sorted explicitly before it is turned into arrays (polars 2 does not keep row order in
group_by/join), and arrays are normalised to int64/float64 at this seam.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numba import njit

from features.config import GraphConfig
from features.contract import Dataset
from features.graph import csr
from features.graph.csr import CSR

#: Identifier columns of `events` that bind accounts together, in output order.
IDENTIFIERS = ("device", "ip", "instrument")
#: Lockstep pair counting: each shared bucket adds this to a pair's summed weight (see
#: lockstep_graph); exact while a pair shares fewer than 2**20 buckets.
COUNT_UNIT = float(2**20)
#: Every kind of identity link between accounts.
LINK_KINDS = (*IDENTIFIERS, "relation", "lockstep")


@dataclass(frozen=True)
class Graphs:
    """Every graph of one Dataset, on the same node index (accounts sorted by account_id)."""

    account_ids: pl.Series  # String, sorted: node i is account_ids[i]
    directed: CSR  # all explicit relations, src -> dst, weights summed
    social: CSR  # the same, undirected (weight(u, v) = w(u->v) + w(v->u))
    relations: dict[str, CSR]  # one undirected graph per configured relation
    shared: dict[str, CSR]  # per identifier kind: exclusivity-weighted, hubs cut
    binding_relations: CSR  # explicit relations that are identity links (e.g. same_phone)
    lockstep: CSR  # weight = number of (target, window) buckets the pair shared
    keys: pl.DataFrame  # binding keys: key, kind, value, target, accounts (identifier users or
    # lockstep target popularity), first_seen, engagement (lockstep aimed at an account)
    incidence: pl.DataFrame  # (node, key) pairs: which account used which binding key
    hubs: dict[str, np.ndarray]  # per identifier kind: hub identifiers each account used

    @property
    def n(self) -> int:
        """Number of accounts (nodes)."""
        return self.account_ids.len()

    def links(self, kinds: tuple[str, ...] = LINK_KINDS) -> CSR:
        """Identity links of the given kinds together (device, ip, instrument: shared
        identifiers; relation: identity relations; lockstep), weights added."""
        parts = {**self.shared, "relation": self.binding_relations, "lockstep": self.lockstep}
        unknown = set(kinds) - set(parts)
        if unknown:
            raise ValueError(f"unknown link kinds {sorted(unknown)}; known: {sorted(parts)}")
        if not kinds:
            return csr.empty(self.n)
        return csr.add([parts[k] for k in kinds])


def node_index(accounts: pl.DataFrame) -> pl.DataFrame:
    """account_id -> node (int64), the position in accounts sorted by account_id."""
    ids = accounts.select("account_id").sort("account_id")
    return ids.with_columns(node=pl.int_range(pl.len(), dtype=pl.Int64))


def node_of(column: str, index: pl.DataFrame) -> pl.Expr:
    """Node number (Int64) of the account id in `column`; null for ids not in the index.

    An Enum over the sorted ids maps each id to its position in one vectorised pass (faster
    than a join on strings, and it keeps row order)."""
    accounts = pl.Enum(index["account_id"])
    return pl.col(column).cast(accounts, strict=False).to_physical().cast(pl.Int64)


def relation_graphs(
    edges: pl.DataFrame, index: pl.DataFrame, n: int, config: GraphConfig
) -> tuple[CSR, dict[str, CSR], CSR]:
    """The directed graph of all relations, one undirected graph per configured relation and
    the undirected graph of identity-binding relations. Each relation is bucket-sorted once;
    the combined and undirected graphs are row merges of those (linear time)."""
    frame = edges.select(
        node_of("src", index).alias("u"),
        node_of("dst", index).alias("v"),
        "relation",
        pl.col("weight").fill_null(1.0).cast(pl.Float64),
    ).drop_nulls(["u", "v"])
    directed = {
        name: csr.from_edges(
            n,
            part["u"].to_numpy().astype(np.int64),
            part["v"].to_numpy().astype(np.int64),
            part["weight"].to_numpy().astype(np.float64),
            undirected=False,
        )
        for (name,), part in sorted(frame.partition_by("relation", as_dict=True).items())
    }
    combined = csr.add(list(directed.values())) if directed else csr.empty(n)
    per_relation = {
        name: csr.symmetrise(directed[name]) if name in directed else csr.empty(n)
        for name in config.relations
    }
    binding = [directed[name] for name in config.binding_relations if name in directed]
    return combined, per_relation, csr.symmetrise(csr.add(binding)) if binding else csr.empty(n)


@njit(cache=True)
def clique_pairs(
    group_ptr: np.ndarray, members: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs (a, b) of members within each group, each with the group's weight."""
    total = 0
    for g in range(group_ptr.shape[0] - 1):
        k = group_ptr[g + 1] - group_ptr[g]
        total += k * (k - 1) // 2
    src = np.empty(total, dtype=np.int64)
    dst = np.empty(total, dtype=np.int64)
    w = np.empty(total, dtype=np.float64)
    out = 0
    for g in range(group_ptr.shape[0] - 1):
        lo, hi = group_ptr[g], group_ptr[g + 1]
        for i in range(lo, hi):
            for j in range(i + 1, hi):
                src[out] = members[i]
                dst[out] = members[j]
                w[out] = weight[g]
                out += 1
    return src, dst, w


def groups(incidence: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(group_ptr, members) of an incidence frame (key, node), sorted by key then node."""
    ordered = incidence.sort("key", "node")
    keys = ordered["key"].to_numpy().astype(np.int64)
    members = ordered["node"].to_numpy().astype(np.int64)
    starts = np.flatnonzero(run_starts(keys))
    return np.r_[starts, keys.size].astype(np.int64), members


def identifier_usage(events: pl.DataFrame, index: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Distinct (node, value) uses of one identifier kind, with the first time seen.

    Grouping runs on a 64-bit hash of the value (strings are slow to group); the hash lives
    only inside this run and is never written out."""
    used = events.lazy().filter(pl.col(kind).is_not_null())
    used = used.select(
        node_of("account_id", index).alias("node"),
        pl.col(kind).hash().alias("h"),
        pl.col(kind).alias("value"),
        "ts",
    )
    used = used.group_by("node", "h").agg(pl.col("value").first(), first_seen=pl.col("ts").min())
    return used.drop_nulls("node").collect()


def shared_graph(
    usage: pl.DataFrame, n: int, hub_max: int
) -> tuple[CSR, pl.DataFrame, np.ndarray, pl.DataFrame]:
    """Accounts linked by a shared identifier, weight 1/(k-1) for an identifier used by k
    accounts (each identifier adds 1 to each user's strength); identifiers used by more than
    `hub_max` accounts are hubs and cut. Returns (graph, kept keys, hub uses per node,
    incidence of kept keys)."""
    counts = usage.group_by("h").agg(
        pl.col("value").first(),
        accounts=pl.len().cast(pl.Int64),
        first_seen=pl.col("first_seen").min(),
    )
    kept = counts.filter((pl.col("accounts") >= 2) & (pl.col("accounts") <= hub_max))
    kept = kept.sort("value").with_columns(key=pl.int_range(pl.len(), dtype=pl.Int64))
    hubs = usage.join(counts.filter(pl.col("accounts") > hub_max), on="h", how="semi")
    hub_uses = np.bincount(hubs["node"].to_numpy().astype(np.int64), minlength=n)
    incidence = usage.join(kept.select("h", "key"), on="h", how="inner")
    incidence = incidence.select("node", "key").sort("key", "node")
    group_ptr, members = groups(incidence)
    weight = 1.0 / (kept.sort("key")["accounts"].to_numpy().astype(np.float64) - 1.0)
    src, dst, w = clique_pairs(group_ptr, members, weight)
    kept = kept.drop("h")
    return csr.from_edges(n, src, dst, w), kept, hub_uses.astype(np.int64), incidence


def lockstep_acts(events: pl.DataFrame, index: pl.DataFrame, config: GraphConfig) -> pl.LazyFrame:
    """(node, t, window) acts on the configured actions; t is a 64-bit hash of the target id
    (grouping on strings is slow; the hash never leaves this run)."""
    window_us = int(config.lockstep_window_s) * 1_000_000
    acts = events.lazy().filter(
        pl.col("action").is_in(list(config.lockstep_actions)) & pl.col("target_id").is_not_null()
    )
    acts = acts.select(
        node_of("account_id", index).alias("node"),
        pl.col("target_id").hash().alias("t"),
        (pl.col("ts").dt.epoch("us") // window_us).alias("window"),
    )
    return acts.drop_nulls("node")


def lockstep_buckets(
    events: pl.DataFrame, index: pl.DataFrame, config: GraphConfig
) -> pl.DataFrame:
    """Distinct acts in (target, window) buckets holding 2..cap accounts (a bigger bucket is a
    popular moment, not coordination), with the target's popularity (distinct accounts acting
    on it over the whole period) and a bucket number `key`.

    Most buckets hold a single act, so those are dropped first (a sort finds the repeated
    bucket hashes, a hash semi-join keeps their acts); distinct (bucket, account) pairs are
    then found by sorting packed integers, which is much faster than a two-column group-by."""
    n = max(index.height, 1)
    raw = lockstep_acts(events, index, config).with_columns(
        b=pl.struct("t", "window").hash()
    ).collect()
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
    where = shared.select(pl.col("slot").cast(pl.Int64), "t", "window").unique("slot")
    acts = acts.join(where, on="slot", how="inner").drop("slot")
    return acts.join(target_popularity(raw, acts["t"], n), on="t", how="inner")


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (np.sort plus a run mask: numpy 2.4's np.unique is far
    slower on large int64 arrays)."""
    ordered = np.sort(values)
    return ordered[run_starts(ordered)]


def repeated(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values that occur more than once."""
    ordered = np.sort(values)
    return sorted_unique(ordered[1:][ordered[1:] == ordered[:-1]])


def run_starts(*sorted_columns: np.ndarray) -> np.ndarray:
    """Mask of the rows where any of the (jointly sorted) columns changes value."""
    size = sorted_columns[0].shape[0]
    start = np.zeros(size, dtype=bool)
    if size:
        start[0] = True
        for column in sorted_columns:
            start[1:] |= column[1:] != column[:-1]
    return start


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
    buckets: pl.DataFrame, events: pl.DataFrame, n: int, config: GraphConfig
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


def target_names(events: pl.DataFrame, hashes: pl.Series) -> pl.DataFrame:
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


def binding_keys(
    identifier_keys: dict[str, tuple[pl.DataFrame, pl.DataFrame]],
    lockstep_keys: pl.DataFrame,
    lockstep_incidence: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One numbered table of every binding key (identifiers after the hub cut, lockstep
    buckets) and the (node, key) incidence on that numbering."""
    key_frames, incidences, offset = [], [], 0
    for kind, (kept, incidence) in identifier_keys.items():
        key_frames.append(
            kept.select(
                (pl.col("key") + offset).alias("key"),
                pl.lit(kind).alias("kind"),
                pl.col("value").cast(pl.String),
                pl.lit(None, dtype=pl.String).alias("target"),
                "accounts",
                "first_seen",
            )
        )
        incidences.append(incidence.with_columns(pl.col("key") + offset))
        offset += kept.height
    window = pl.col("first_seen").dt.strftime("%Y-%m-%dT%H:%M")
    key_frames.append(
        lockstep_keys.select(
            (pl.col("key") + offset).alias("key"),
            pl.lit("lockstep").alias("kind"),
            pl.concat_str(pl.col("target"), pl.lit("@"), window).alias("value"),
            pl.col("target").cast(pl.String),
            pl.col("popularity").alias("accounts"),
            "first_seen",
        )
    )
    incidences.append(lockstep_incidence.with_columns(pl.col("key") + offset))
    keys = pl.concat(key_frames, how="vertical").sort("key")
    incidence = pl.concat(incidences, how="vertical").select(
        pl.col("node").cast(pl.Int64), pl.col("key").cast(pl.Int64)
    )
    return keys, incidence.sort("node", "key")


def build_graphs(ds: Dataset, config: GraphConfig) -> Graphs:
    """Every account graph of `ds`: relations, shared identifiers, lockstep (see module doc)."""
    index = node_index(ds.accounts)
    n = index.height
    directed, per_relation, binding = relation_graphs(ds.edges, index, n, config)
    shared, hubs, identifier_keys = {}, {}, {}
    for kind in IDENTIFIERS:
        usage = identifier_usage(ds.events, index, kind)
        graph, kept, hub_uses, incidence = shared_graph(usage, n, config.hub_max_accounts)
        shared[kind], hubs[kind], identifier_keys[kind] = graph, hub_uses, (kept, incidence)
    buckets = lockstep_buckets(ds.events, index, config)
    lockstep, lockstep_keys, lockstep_incidence = lockstep_graph(buckets, ds.events, n, config)
    keys, incidence = binding_keys(identifier_keys, lockstep_keys, lockstep_incidence)
    keys = keys.with_columns(
        engagement=(pl.col("kind") == "lockstep")
        & pl.col("target").is_in(index["account_id"].implode()).fill_null(False)
    )
    return Graphs(
        account_ids=index["account_id"],
        directed=directed,
        social=csr.symmetrise(directed),
        relations=per_relation,
        shared=shared,
        binding_relations=binding,
        lockstep=lockstep,
        keys=keys,
        incidence=incidence,
        hubs=hubs,
    )
