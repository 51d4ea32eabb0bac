"""Building the account graphs of a Dataset: explicit relations, shared identifiers, lockstep.

Node index = position of the account in `ds.accounts` sorted by account_id (see
`features.graph.index`). Every frame is sorted explicitly before it is turned into arrays
(polars 2 does not keep row order in group_by/join), and arrays are normalised to
int64/float64 at this seam. Lockstep lives in `features.graph.lockstep`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from features.config import GraphConfig
from features.graph import csr
from features.graph.cliques import clique_pairs, groups
from features.graph.csr import CSR
from features.graph.index import hashed_index, node_index
from features.graph.links import (
    created_epoch_us,
    exclusive_pairs,
    history_start,
    mutual_graph,
    novelty_keys,
    novelty_uses,
)
from features.graph.lockstep import lockstep_buckets, lockstep_graph
from features.graph.weights import RelationEdges, relation_edges, relation_weights
from features.io.contract import Dataset

#: Identifier columns of `events` that bind accounts together, in output order.
IDENTIFIERS = ("device", "ip", "instrument")
#: Every kind of identity link between accounts (graph features' link graph).
LINK_KINDS = (*IDENTIFIERS, "relation", "lockstep")
#: Every kind of link a ring candidate can be bound by (see features.graph.links).
RING_LINK_KINDS = (*IDENTIFIERS, "novelty", "relation", "lockstep", "mutual")


@dataclass(frozen=True)
class Graphs:
    """Every graph of one Dataset, on the same node index (accounts sorted by account_id)."""

    account_ids: pl.Series  # String, sorted: node i is account_ids[i]
    directed: CSR  # all explicit relations, src -> dst, weights summed
    social: CSR  # the same, undirected (weight(u, v) = w(u->v) + w(v->u))
    relations: dict[str, CSR]  # one undirected graph per configured relation
    shared: dict[str, CSR]  # per identifier kind: exclusivity-weighted, hubs cut
    binding_relations: CSR  # explicit relations that are identity links (e.g. same_phone)
    lockstep: CSR  # weight = summed 1/log(popularity + c) of the (target, window) buckets shared
    keys: pl.DataFrame  # binding keys: key, kind, value, target, accounts (identifier users or
    # lockstep target popularity), first_seen, engagement (lockstep aimed at an account)
    incidence: pl.DataFrame  # (node, key) pairs: which account used which binding key
    hubs: dict[str, np.ndarray]  # per identifier kind: hub identifiers each account used
    exclusive: dict[str, CSR]  # per identifier kind and "novelty": pairs weighted by the
    # FRAUDAR exclusivity 1/log(d + c) of the keys they share, summed (features.graph.links)
    mutual: CSR  # pairs related both ways, weight 1/log(max mutual degree + c)
    weights: dict[str, dict[str, np.ndarray]]  # "rel" (all relations) and each configured
    # relation: received and given edge-weight statistics (features.graph.weights)

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

    def ring_links(self, kinds: tuple[str, ...] = RING_LINK_KINDS) -> list[CSR]:
        """The link graphs a ring candidate can be bound by, exclusivity-weighted: shared
        identifiers and novelty keys (1/log(d + c) per key), identity relations (at most 1 a
        pair), lockstep (summed bucket weights) and mutual relations."""
        parts = {
            **self.exclusive,
            "relation": self.binding_relations,
            "lockstep": self.lockstep,
            "mutual": self.mutual,
        }
        unknown = set(kinds) - set(parts)
        if unknown:
            raise ValueError(f"unknown ring link kinds {sorted(unknown)}; known: {sorted(parts)}")
        return [parts[k] for k in kinds]


def relation_graphs(
    edges: RelationEdges, n: int, config: GraphConfig
) -> tuple[CSR, CSR, dict[str, CSR], CSR]:
    """The directed graph of all relations, its undirected version (the social graph), one
    undirected graph per configured relation and the undirected graph of identity-binding
    relations. Each relation is bucket-sorted once (its rows picked by a mask on the
    relation's code); every other graph is a row merge of those (linear time)."""
    directed, undirected = {}, {}
    for name in edges.names:
        mine = edges.of(name)
        directed[name] = csr.from_edges(
            n, edges.src[mine], edges.dst[mine], edges.weight[mine], undirected=False
        )
        undirected[name] = csr.symmetrise(directed[name])
    combined = csr.add(list(directed.values())) if directed else csr.empty(n)
    social = csr.add(list(undirected.values())) if undirected else csr.empty(n)
    per_relation = {name: undirected.get(name, csr.empty(n)) for name in config.relations}
    binding = [undirected[name] for name in config.binding_relations if name in undirected]
    return combined, social, per_relation, csr.add(binding) if binding else csr.empty(n)


def identifier_usage(events: pl.LazyFrame, hashed: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Distinct (node, value) uses of one identifier kind, with the first time seen.

    Grouping runs on 64-bit hashes of the account id and the value (strings are slow to
    group) and accounts are mapped to nodes after that; the hashes never leave this run."""
    used = events.lazy().filter(pl.col(kind).is_not_null())
    used = used.select(
        pl.col("account_id").hash().alias("a"),
        pl.col(kind).hash().alias("h"),
        pl.col(kind).alias("value"),
        "ts",
    )
    used = used.group_by("a", "h").agg(pl.col("value").first(), first_seen=pl.col("ts").min())
    mapping = hashed.lazy()
    return used.join(mapping, on="a", how="inner").drop("a").collect()


def identifier_counts(
    usage: pl.DataFrame, hub_max: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Per identifier hash `h`: its users counted. Returns the kept identifiers (used by 2 to
    `hub_max` accounts: h, value, accounts, first_seen), the (node) uses of hubs (more users)
    and the (node, h) uses of kept identifiers. Complete for any set of whole identifiers, so a
    cluster computes it per key shard and stacks the shards' results."""
    counts = usage.group_by("h").agg(
        pl.col("value").first(),
        accounts=pl.len().cast(pl.Int64),
        first_seen=pl.col("first_seen").min(),
    )
    kept = counts.filter((pl.col("accounts") >= 2) & (pl.col("accounts") <= hub_max))
    hubs = usage.join(counts.filter(pl.col("accounts") > hub_max), on="h", how="semi")
    incidence = usage.join(kept.select("h"), on="h", how="semi")
    return kept, hubs.select("node"), incidence.select("node", "h")


Counted = tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]  # identifier_counts' result


def shared_graph(
    usage: pl.DataFrame | None, n: int, hub_max: int, counted: Counted | None = None
) -> tuple[CSR, pl.DataFrame, np.ndarray, pl.DataFrame]:
    """Accounts linked by a shared identifier, weight 1/(k-1) for an identifier used by k
    accounts (each identifier adds 1 to each user's strength); identifiers used by more than
    `hub_max` accounts are hubs and cut. `counted`: identifier_counts of the uses when already
    made (by a cluster's key shards). Returns (graph, kept keys, hub uses per node, incidence
    of kept keys)."""
    kept, hubs, used = counted if counted is not None else identifier_counts(usage, hub_max)
    kept = kept.sort("value").with_columns(key=pl.int_range(pl.len(), dtype=pl.Int64))
    hub_uses = np.bincount(hubs["node"].to_numpy().astype(np.int64), minlength=n)
    incidence = used.join(kept.select("h", "key"), on="h", how="inner")
    incidence = incidence.select("node", "key").sort("key", "node")
    group_ptr, members = groups(incidence)
    weight = 1.0 / (kept.sort("key")["accounts"].to_numpy().astype(np.float64) - 1.0)
    src, dst, w = clique_pairs(group_ptr, members, weight)
    kept = kept.drop("h")
    return csr.from_edges(n, src, dst, w), kept, hub_uses.astype(np.int64), incidence


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


def build_graphs(
    ds: Dataset,
    config: GraphConfig,
    given: dict[str, pl.DataFrame] | None = None,
    counted: dict[str, Counted] | None = None,
    lockstep: pl.DataFrame | None = None,
) -> Graphs:
    """Every account graph of `ds`: relations, shared identifiers, lockstep (see module doc).
    `given` identifier uses (per kind, as identifier_usage gives them, e.g. gathered by the
    bucket tasks of a cluster) save reading the events for them; `counted` (per kind, as
    identifier_counts gives them, e.g. from a cluster's key shards) saves counting them, and
    `lockstep` buckets (as lockstep_buckets gives them, e.g. from a cluster's target shards)
    finding those."""
    index = node_index(ds.accounts)
    hashed = hashed_index(index)
    n = index.height
    edges = relation_edges(ds.edges, hashed)
    directed, social, per_relation, binding = relation_graphs(edges, n, config)
    weights = relation_weights(edges, n, config.relations)
    del edges  # the raw edges are not needed past this point
    shared, hubs, identifier_keys, usages = {}, {}, {}, {}
    for kind in IDENTIFIERS:
        usage = given[kind] if given else identifier_usage(ds.events, hashed, kind)
        mine = counted[kind] if counted else None
        graph, kept, hub_uses, incidence = shared_graph(usage, n, config.hub_max_accounts, mine)
        shared[kind], hubs[kind], identifier_keys[kind] = graph, hub_uses, (kept, incidence)
        usages[kind] = usage
    buckets = lockstep if lockstep is not None else lockstep_buckets(ds.events, hashed, config)
    lockstep, lockstep_keys, lockstep_incidence = lockstep_graph(buckets, ds.events, n, config)
    keys, incidence = binding_keys(identifier_keys, lockstep_keys, lockstep_incidence)
    keys, incidence = with_novelty(ds, usages, keys, incidence, config)
    exclusive = exclusive_graphs(keys, incidence, n, config)
    keys = keys.with_columns(
        engagement=(pl.col("kind") == "lockstep")
        & pl.col("target").is_in(index["account_id"].implode()).fill_null(False)
    )
    return Graphs(
        account_ids=index["account_id"],
        directed=directed,
        social=social,
        relations=per_relation,
        shared=shared,
        binding_relations=binding,
        lockstep=lockstep,
        keys=keys,
        incidence=incidence,
        hubs=hubs,
        weights=weights,
        exclusive=exclusive,
        mutual=mutual_graph(directed, config.fraudar_c),
    )


def with_novelty(
    ds: Dataset,
    usages: dict[str, pl.DataFrame],
    keys: pl.DataFrame,
    incidence: pl.DataFrame,
    config: GraphConfig,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The binding keys and incidence with co-timed novelty keys of devices and IPs added."""
    n = ds.accounts.height
    start = history_start(list(usages.values()), n)
    created = created_epoch_us(ds.accounts)
    uses = {
        kind: novelty_uses(usages[kind], start, created, config)
        for kind in config.novelty_identifiers
    }
    new_keys, new_incidence = novelty_keys(uses, config.hub_max_accounts, keys.height)
    if new_keys.height == 0:
        return keys, incidence
    keys = pl.concat([keys, new_keys], how="vertical").sort("key")
    incidence = pl.concat([incidence, new_incidence], how="vertical").sort("node", "key")
    return keys, incidence


def exclusive_graphs(
    keys: pl.DataFrame, incidence: pl.DataFrame, n: int, config: GraphConfig
) -> dict[str, CSR]:
    """Per identifier kind and for novelty keys: the exclusivity-weighted pair graph."""
    out = {}
    for kind in (*IDENTIFIERS, "novelty"):
        mine = keys.filter(pl.col("kind") == kind).select("key", "accounts")
        used = incidence.join(mine.select("key"), on="key", how="semi")
        out[kind] = exclusive_pairs(mine, used, n, config.fraudar_c)
    return out
