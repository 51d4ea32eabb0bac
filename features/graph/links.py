"""Ring-candidate links beyond today's shared identifiers: exclusivity-weighted pairs, co-timed
novelty and mutual relations.

- Exclusivity (FRAUDAR's column weight): two accounts sharing a key used by d accounts link
  with weight 1 / log(d + c); a pair's strength sums that over every key it shares (devices,
  IPs, instruments, novelty keys). A carrier or NAT address shared by 30 strangers gives each
  pair 0.28, a tablet shared by a family of four 0.46, a phone shared by two 0.51.
- Co-timed novelty (account takeover, Onaolapo et al. IMC 2014): an identifier that an account
  picks up after at least `novelty_history_days` of its own history in the data (and at least
  `novelty_min_age_days` after registration), which the base had not seen before either. The
  accounts that pick up the same new identifier within `novelty_window_days` of the first one
  share a *novelty key*: a crew working many old accounts from fresh kit.
- Mutual relations: u -> v and v -> u in the explicit relations (follows, interacts); weight
  1 / log(max(mutual degree of u, v) + c), so a popular account's mutual follows weigh little.

Every build is a sort or group-by over (account, key) uses, never over all pairs of accounts.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from features.config import GraphConfig
from features.graph import csr
from features.graph.cliques import clique_pairs, groups
from features.graph.csr import CSR

DAY_US = 86_400 * 1_000_000


def exclusive_pairs(keys: pl.DataFrame, incidence: pl.DataFrame, n: int, c: float) -> CSR:
    """Accounts linked through shared keys, each key adding 1 / log(d + c) to the pairs of its
    users (d = `accounts` of the key). `keys` (key, accounts) and `incidence` (node, key)."""
    if incidence.height == 0:
        return csr.empty(n)
    ordered = incidence.sort("key", "node")
    group_ptr, members = groups(ordered)
    present = ordered["key"].unique().sort()
    d = (
        pl.DataFrame({"key": present})
        .join(keys.select("key", "accounts"), on="key", how="left")
        .sort("key")["accounts"]
        .to_numpy()
        .astype(np.float64)
    )
    weight = 1.0 / np.log(d + c)
    src, dst, w = clique_pairs(group_ptr, members, weight)
    return csr.from_edges(n, src, dst, w)


def history_start(usages: list[pl.DataFrame], n: int) -> np.ndarray:
    """Per node: the first time (epoch us) it was seen using any identifier (int64 max when
    never), the start of its own history in the data."""
    start = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    for usage in usages:
        if usage.height:
            seen = usage["first_seen"].dt.epoch("us").to_numpy().astype(np.int64)
            np.minimum.at(start, usage["node"].to_numpy().astype(np.int64), seen)
    return start


def novelty_uses(
    usage: pl.DataFrame, start: np.ndarray, created_us: np.ndarray, config: GraphConfig
) -> pl.DataFrame:
    """(node, h, value, first_seen) uses of one identifier kind that are co-timed novelty (see
    the module doc), with `accounts` = every account using the identifier."""
    history = int(config.novelty_history_days * DAY_US)
    age = int(config.novelty_min_age_days * DAY_US)
    window = int(config.novelty_window_days * DAY_US)
    node = usage["node"].to_numpy().astype(np.int64)
    seen = usage["first_seen"].dt.epoch("us").to_numpy().astype(np.int64)
    novel = (seen - start[node] >= history) & (seen - created_us[node] >= age)
    uses = usage.with_columns(
        t=pl.Series(seen, dtype=pl.Int64),
        novel=pl.Series(novel, dtype=pl.Boolean),
    )
    per_id = uses.group_by("h").agg(
        accounts=pl.len().cast(pl.Int64),
        born=pl.col("t").min(),
        t0=pl.col("t").filter(pl.col("novel")).min(),
    )
    per_id = per_id.filter(pl.col("t0").is_not_null() & (pl.col("born") >= pl.col("t0") - window))
    found = uses.filter(pl.col("novel")).join(per_id, on="h", how="inner")
    found = found.filter(pl.col("t") <= pl.col("t0") + window)
    found = found.filter(pl.len().over("h") >= 2)
    return found.select("node", "h", "value", "first_seen", "accounts")


def novelty_keys(
    uses: dict[str, pl.DataFrame], hub_max: int, offset: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Numbered novelty keys (from `offset` on) in the `Graphs.keys` layout, and their
    incidence; identifiers used by more than `hub_max` accounts are hubs and left out."""
    frames = [
        frame.with_columns(pl.lit(kind).alias("of")) for kind, frame in uses.items() if frame.height
    ]
    schema = {"node": pl.Int64, "key": pl.Int64}
    if not frames:
        return empty_keys(), pl.DataFrame(schema=schema)
    found = pl.concat(frames).filter(pl.col("accounts") <= hub_max)
    found = found.with_columns(value=pl.format("{}:{}", "of", "value"))
    keys = (
        found.group_by("value")
        .agg(pl.col("accounts").first(), pl.col("first_seen").min())
        .sort("value")
        .with_columns(key=pl.int_range(pl.len(), dtype=pl.Int64) + offset)
    )
    incidence = found.join(keys.select("value", "key"), on="value", how="inner")
    incidence = incidence.select(pl.col("node").cast(pl.Int64), "key").sort("node", "key")
    keys = keys.select(
        "key",
        pl.lit("novelty").alias("kind"),
        pl.col("value").cast(pl.String),
        pl.lit(None, dtype=pl.String).alias("target"),
        "accounts",
        "first_seen",
    )
    return keys, incidence


def empty_keys() -> pl.DataFrame:
    """A keys frame without rows (the `Graphs.keys` layout before `engagement`)."""
    return pl.DataFrame(
        schema={
            "key": pl.Int64,
            "kind": pl.String,
            "value": pl.String,
            "target": pl.String,
            "accounts": pl.Int64,
            "first_seen": pl.Datetime("us", "UTC"),
        }
    )


def mutual_graph(directed: CSR, c: float) -> CSR:
    """Pairs related both ways (u -> v and v -> u), weight 1 / log(max mutual degree + c)."""
    n = directed.n
    src, dst, _ = directed.edges()
    if src.size == 0:
        return csr.empty(n)
    forward = src * n + dst
    backward = np.sort(dst * n + src)
    where = np.minimum(np.searchsorted(backward, forward), backward.size - 1)
    both = (backward[where] == forward) & (src < dst)
    a, b = src[both], dst[both]
    degree = np.bincount(np.concatenate([a, b]), minlength=n).astype(np.float64)
    weight = 1.0 / np.log(np.maximum(degree[a], degree[b]) + c)
    return csr.from_edges(n, a, b, weight)


def created_epoch_us(accounts: pl.DataFrame) -> np.ndarray:
    """Registration time per node (accounts sorted by id), epoch us; unknown = the earliest
    int64 (so an unknown registration never blocks a novelty use)."""
    created = accounts.sort("account_id")["created_at"].dt.epoch("us")
    return created.fill_null(np.iinfo(np.int64).min // 2).to_numpy().astype(np.int64)


def candidate_graph(
    parts: list[CSR], n: int, min_weight: float, scales: list[float] | None = None
) -> CSR:
    """The union of the link graphs (each times its scale), keeping pairs whose summed
    strength reaches `min_weight`."""
    if not parts:
        return csr.empty(n)
    union = csr.add(parts, scales)
    src, dst, w = union.edges()
    keep = w >= min_weight
    return csr.from_edges(n, src[keep], dst[keep], w[keep], undirected=False)


__all__ = [
    "candidate_graph",
    "created_epoch_us",
    "exclusive_pairs",
    "history_start",
    "mutual_graph",
    "novelty_keys",
    "novelty_uses",
]
