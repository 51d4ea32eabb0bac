"""What binds a candidate ring together, and whether that is enough to call it a ring.

Evidence is computed for all candidates at once (joins over the key incidence), never one
candidate at a time, so it stays cheap when a base holds thousands of candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from features.config import GraphConfig
from features.graph.build import IDENTIFIERS, LINK_KINDS, Graphs
from features.graph.csr import CSR

#: Kinds of binding, in output order: shared identifiers, identity relations, lockstep on
#: anything, co-timed novelty keys, mutual relations and "engagement" (lockstep aimed at
#: accounts: bought follows and likes).
KINDS = (*LINK_KINDS, "novelty", "mutual", "engagement")
#: Kinds of fabrication evidence, one of which a ring needs (see `accept`): shared payment
#: instruments and engagement lockstep are strong; a registration burst alone is weak.
FABRICATION = ("instrument", "engagement", "burst")
STRONG_FABRICATION = ("instrument", "engagement")
UNKNOWN_TIME = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Profiles:
    """Per-account facts the verdict needs, in node order."""

    created_us: np.ndarray  # int64 creation time, UNKNOWN_TIME when unknown
    verified: np.ndarray  # bool
    established: np.ndarray  # bool: an independent audience (see `established_accounts`)
    audience: np.ndarray | None = None  # int64: the independent audience itself


def independent_audience(graphs: Graphs, labels: np.ndarray, min_size: int) -> np.ndarray:
    """Per account: distinct accounts with an explicit relation towards it (follows,
    interacts, ...) that are not in any candidate component of `min_size` or more accounts.
    Relations from candidate groups (bought follows and likes from farms, colleagues) do not
    count, so a group cannot vouch for itself."""
    n = graphs.n
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    bound = np.bincount(labels, minlength=n)[labels] >= min_size
    src, dst, _ = graphs.directed.edges()  # one entry per (src, dst): relations are merged
    return np.bincount(dst[~bound[src]], minlength=n).astype(np.int64)


def established_accounts(audience: np.ndarray, quantile: float) -> np.ndarray:
    """Accounts whose independent audience is larger than that of `quantile` of the base
    (none when nobody has one)."""
    if audience.size == 0:
        return np.zeros(0, dtype=bool)
    return audience > max(float(np.quantile(audience, quantile)), 0.0)


def membership_frame(found: list[dict]) -> pl.DataFrame:
    """(candidate, node) rows of every candidate."""
    sizes = [len(c["accounts"]) for c in found]
    nodes = np.concatenate([c["accounts"] for c in found]) if found else np.zeros(0)
    return pl.DataFrame(
        {
            "candidate": np.repeat(np.arange(len(found), dtype=np.int64), sizes),
            "node": nodes.astype(np.int64),
        }
    )


def key_usage(graphs: Graphs, members: pl.DataFrame) -> pl.DataFrame:
    """(candidate, node, key, kind, ...) for every use by a member of a key that binds at
    least two members of the candidate."""
    uses = graphs.incidence.join(members, on="node", how="inner")
    uses = uses.filter(pl.len().over("candidate", "key") >= 2)
    return uses.join(graphs.keys, on="key", how="inner")


def relation_coverage(graph: CSR, members: pl.DataFrame, n_found: int) -> np.ndarray:
    """Per candidate: members with a link of `graph` to another member."""
    src, dst, _ = graph.edges()
    candidate = np.full(graph.n, -1, dtype=np.int64)
    candidate[members["node"].to_numpy()] = members["candidate"].to_numpy()
    inside = (candidate[src] >= 0) & (candidate[src] == candidate[dst])
    bound = np.flatnonzero(np.bincount(src[inside], minlength=graph.n))
    return np.bincount(candidate[bound], minlength=n_found)


def creation_span_hours(created_us: np.ndarray, share: float) -> float:
    """Shortest time (hours) holding `share` of the members' creation times (NaN if unknown)."""
    times = np.sort(created_us[created_us != UNKNOWN_TIME])
    if times.size < 2:
        return float("nan")
    k = max(2, int(np.ceil(share * times.size)))
    spans = times[k - 1 :] - times[: times.size - k + 1]
    return float(spans.min()) / 3.6e9


def ring_evidence(
    graphs: Graphs, found: list[dict], profiles: Profiles, config: GraphConfig
) -> list[dict]:
    """Per candidate: identifiers binding it, lockstep windows and targets, coverage of each
    kind of binding, first time the binding was seen, creation burst span."""
    if not found:
        return []
    members = membership_frame(found)
    uses = key_usage(graphs, members)
    per_key = uses.group_by("candidate", "key", "kind", "value", "target", "first_seen").agg(
        members=pl.len().cast(pl.Int64)
    )
    ordered = per_key.sort(
        ["candidate", "members", "kind", "value"], descending=[False, True, False, False]
    )
    identifiers = (
        ordered.filter(pl.col("kind") != "lockstep")
        .group_by("candidate", maintain_order=True)
        .agg(pl.format("{}:{}", "kind", "value").alias("identifiers"))
    )
    targets = (
        per_key.filter(pl.col("kind") == "lockstep")
        .group_by("candidate", "target")
        .agg(pl.col("members").sum())
        .sort(["candidate", "members", "target"], descending=[False, True, False])
        .group_by("candidate", maintain_order=True)
        .agg(pl.col("target").head(config.ring_example_targets).alias("targets"))
    )
    windows = per_key.filter(pl.col("kind") == "lockstep").group_by("candidate").len()
    first_seen = per_key.group_by("candidate").agg(pl.col("first_seen").min())
    bound = pl.concat(
        [
            uses.group_by("candidate", "kind").agg(pl.col("node").n_unique().alias("bound")),
            uses.filter(pl.col("engagement"))
            .group_by("candidate")
            .agg(pl.lit("engagement").alias("kind"), pl.col("node").n_unique().alias("bound")),
        ]
    )
    relation = relation_coverage(graphs.binding_relations, members, len(found))
    mutual = relation_coverage(graphs.mutual, members, len(found))

    def lookup(frame: pl.DataFrame, column: str, default):
        table = dict(zip(frame["candidate"].to_list(), frame[column].to_list(), strict=True))
        return [table.get(i, default) for i in range(len(found))]

    id_lists = lookup(identifiers, "identifiers", [])
    target_lists = lookup(targets, "targets", [])
    window_counts = lookup(windows, "len", 0)
    first = lookup(first_seen, "first_seen", None)
    coverage = [dict.fromkeys(KINDS, 0.0) for _ in found]
    for candidate, kind, count in bound.iter_rows():
        coverage[candidate][kind] = count / len(found[candidate]["accounts"])
    out = []
    for i, candidate in enumerate(found):
        coverage[i]["relation"] = relation[i] / len(candidate["accounts"])
        coverage[i]["mutual"] = mutual[i] / len(candidate["accounts"])
        accounts = candidate["accounts"]
        span = creation_span_hours(profiles.created_us[accounts], config.ring_burst_share)
        kinds = [k for k in KINDS if coverage[i][k] >= config.ring_kind_min_coverage]
        burst = ["burst"] if span <= config.ring_burst_hours else []
        out.append(
            {
                "identifiers": id_lists[i][: config.ring_max_identifiers],
                "kinds": kinds + burst,
                "coverage": coverage[i],
                "lockstep_windows": int(window_counts[i]),
                "lockstep_targets": target_lists[i],
                "first_seen": first[i],
                "creation_span_h": span,
                "verified_share": float(profiles.verified[accounts].mean()),
                "established_share": float(profiles.established[accounts].mean()),
            }
        )
    return out


def fabricated(ring: dict, config: GraphConfig) -> bool:
    """Whether a candidate shows fabrication: shared payment instruments or lockstep
    engagement aimed at accounts (strong), or a registration burst of accounts without an
    audience of their own. Colleagues are often registered together too (a newsroom sharing
    desk devices), so a burst counts only while fewer than `ring_max_established_share` of
    the members are established (followed by many accounts outside every candidate group)."""
    if any(kind in STRONG_FABRICATION for kind in ring["kinds"]):
        return True
    return "burst" in ring["kinds"] and (
        ring["established_share"] < config.ring_max_established_share
    )


def accept(ring: dict, config: GraphConfig) -> bool:
    """Whether a candidate is a ring. Shared infrastructure and lockstep put accounts in one
    candidate; to be a ring the candidate must also show fabrication (`fabricated`), be big
    and dense enough, and not be a verified organisation (verified share below the cap)."""
    return (
        len(ring["accounts"]) >= config.ring_min_size
        and ring["density"] >= config.ring_min_density
        and fabricated(ring, config)
        and ring["verified_share"] < config.ring_max_verified_share
    )


__all__ = [
    "FABRICATION",
    "IDENTIFIERS",
    "KINDS",
    "STRONG_FABRICATION",
    "Profiles",
    "accept",
    "established_accounts",
    "independent_audience",
    "ring_evidence",
]
