"""The close-candidate list: rank, cut by review capacity or precision target, keep rings whole.

An account with a calibrated score of at least the watch threshold is a *seed*; seeds are taken
best first. When a seed belongs to a ring, the whole ring enters the list with it (a reviewer
acts on a ring at once), so a ring that crosses the cut is never split and the list can be
a little longer than the capacity. Every row says whether it entered on its own score
(`included_by = "score"`) or as a ring mate (`"ring"`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from detection.config import ScoreConfig

MEMBERSHIP_SCHEMA = {
    "account_id": pl.String,
    "ring_id": pl.String,
    "ring_score": pl.Float64,
    "ring_size": pl.Int64,
}
NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Selection:
    """The candidate rows and how the cut was made."""

    candidates: pl.DataFrame  # ranked list rows (see `select_candidates`)
    mode: str  # "capacity" or "min_precision"
    seeds: int  # accounts at or above the watch threshold
    by_score: int  # rows that entered on their own score
    by_ring: int  # ring mates pulled in to keep rings whole
    expected_precision: float  # mean calibrated score of the list (nan when empty)
    cut: dict = field(default_factory=dict)  # where the cut fell (see `cut_edge`)

    def summary(self) -> dict:
        """Plain JSON-able form (for the manifest and --json)."""
        return {
            "mode": self.mode,
            "seeds": self.seeds,
            "by_score": self.by_score,
            "by_ring": self.by_ring,
            "expected_precision": None
            if np.isnan(self.expected_precision)
            else round(self.expected_precision, 6),
            "cut": self.cut,
        }


def one_ring_each(membership: pl.DataFrame | None) -> pl.DataFrame:
    """account_id -> its ring (the highest-scoring one if the finder gave several)."""
    if membership is None or membership.height == 0:
        return pl.DataFrame(schema=MEMBERSHIP_SCHEMA)
    frame = membership.select(
        [pl.col(name).cast(dtype) for name, dtype in MEMBERSHIP_SCHEMA.items()]
    )
    return (
        frame.sort(["account_id", "ring_score", "ring_id"], descending=[False, True, False])
        .unique("account_id", keep="first")
        .sort("account_id")
    )


def entry_steps(ranked: pl.DataFrame, watch: float, keep_rings_whole: bool) -> pl.DataFrame:
    """account_id, seed (position among seeds, or null) and entry: the number of seeds the list
    must take before this account is in it (its ring's first seed; NEVER if it never enters).

    `ranked` is sorted best first and holds ring_id (null outside rings).
    """
    frame = ranked.select("account_id", "score", "ring_id").with_columns(
        seed=pl.when(pl.col("score") >= watch).then(pl.int_range(pl.len(), dtype=pl.Int64))
    )
    own = pl.col("seed").fill_null(NEVER)
    if not keep_rings_whole:
        return frame.with_columns(entry=own)
    first = (
        frame.filter(pl.col("seed").is_not_null() & pl.col("ring_id").is_not_null())
        .group_by("ring_id")
        .agg(ring_first=pl.col("seed").min())
    )
    return frame.join(first, on="ring_id", how="left", maintain_order="left").with_columns(
        entry=pl.min_horizontal(own, pl.col("ring_first").fill_null(NEVER))
    )


def cut_by_capacity(entry: np.ndarray, capacity: int) -> int:
    """How many seeds the list takes: the top `capacity` (rings crossing the cut come whole)."""
    return int(min(capacity, np.count_nonzero(entry < NEVER)))


def cut_by_precision(entry: np.ndarray, score: np.ndarray, n_seeds: int, target: float) -> int:
    """How many seeds the list takes: the longest list whose mean calibrated score (its
    expected precision, ring mates included) is at least `target`."""
    if n_seeds == 0:
        return 0
    listed = entry < NEVER
    steps = entry[listed]
    count = np.cumsum(np.bincount(steps, minlength=n_seeds))
    total = np.cumsum(np.bincount(steps, weights=score[listed], minlength=n_seeds))
    mean = np.divide(total, count, out=np.zeros(n_seeds), where=count > 0)
    ok = np.flatnonzero(mean >= target)
    return int(ok[-1]) + 1 if ok.size else 0


def action_expr(config: ScoreConfig) -> pl.Expr:
    """close / review / watch by calibrated score; ring mates below watch are watched too."""
    score = pl.col("score")
    return (
        pl.when(score >= config.close_threshold)
        .then(pl.lit("close"))
        .when(score >= config.review_threshold)
        .then(pl.lit("review"))
        .otherwise(pl.lit("watch"))
    )


def edge_row(ranked: pl.DataFrame, at: pl.Series) -> dict | None:
    """rank (in the base), score and raw score of the one row of `ranked` where `at` holds."""
    keep = [c for c in ("rank", "score", "raw_score") if c in ranked.columns]
    rows = ranked.filter(at).select(keep).head(1).to_dicts()
    return rows[0] if rows else None


def cut_edge(ranked: pl.DataFrame, seed: pl.Series, taken: int) -> dict:
    """Where the cut fell, so a reviewer sees why one account is in and the next out: the last
    account taken on its own score, the first eligible one left out, how many eligible
    accounts were left out and how many share the last one's P(bad) to 3 decimals (they are
    ordered by the raw model score)."""
    taken = min(taken, int(seed.count()))  # a capacity above the seeds takes them all
    if taken == 0:
        return {}
    last_in = edge_row(ranked, seed == taken - 1)
    shown = round(last_in["score"], 3)
    eligible = ranked["score"].filter(seed.is_not_null())
    return {
        "last_in": last_in,
        "first_out": edge_row(ranked, seed == taken),  # None: every eligible account is in
        "left_out": int(seed.count()) - taken,
        "same_shown_score": int((eligible.round(3) == shown).sum()),
    }


def describe_cut(cut: dict) -> str:
    """The cut in one sentence (report and console): scores of the last in, the first out."""
    if not cut or cut.get("first_out") is None:
        return ""

    def side(row: dict) -> str:
        raw = f", model score {row['raw_score']:.3f}" if "raw_score" in row else ""
        return f"rank {row['rank']:,} in the base: P(bad) {row['score']:.4f}{raw}"

    return (
        f"The cut fell between {side(cut['last_in'])} (the last account in on its own score) "
        f"and {side(cut['first_out'])} (the first left out); {cut['left_out']:,} eligible "
        f"accounts were left out, and {cut['same_shown_score']:,} eligible accounts read "
        f"P(bad) {cut['last_in']['score']:.3f}: equal P(bad) are ordered by the model score."
    )


def select_candidates(
    ranked: pl.DataFrame, membership: pl.DataFrame | None, config: ScoreConfig
) -> Selection:
    """The ranked candidate list cut as `config` says (see module doc).

    `ranked` is `detection.score.rank_scores` output (best first). The result holds rank (list
    position), account_id, score, head scores, base_rank (rank in the whole base), ring_id,
    ring_size, ring_score, included_by and action; sorted by rank.
    """
    rings = one_ring_each(membership)
    ranked = ranked.join(rings, on="account_id", how="left", maintain_order="left")
    steps = entry_steps(ranked, config.watch_threshold, config.keep_rings_whole)
    entry = steps["entry"].to_numpy()
    n_seeds = int(steps["seed"].count())
    if config.min_precision is not None:
        taken = cut_by_precision(entry, ranked["score"].to_numpy(), n_seeds, config.min_precision)
        mode = "min_precision"
    else:
        taken = cut_by_capacity(entry, int(config.capacity or 0))
        mode = "capacity"
    seed = steps["seed"]
    listed = ranked.with_columns(
        included_by=pl.when(seed.is_not_null() & (seed < taken))
        .then(pl.lit("score"))
        .otherwise(pl.lit("ring")),
    ).filter(pl.Series(entry < taken))
    heads = [c for c in ranked.columns if c.startswith("score_")]
    raw = ["raw_score"] if "raw_score" in ranked.columns else []  # orders equal scores
    candidates = listed.sort("rank").select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"),
        "account_id",
        "score",
        *raw,
        *heads,
        pl.col("rank").alias("base_rank"),
        "ring_id",
        "ring_size",
        "ring_score",
        "included_by",
        action_expr(config).alias("action"),
    )
    by_ring = int((candidates["included_by"] == "ring").sum())
    precision = float(candidates["score"].mean()) if candidates.height else float("nan")
    cut = cut_edge(ranked, seed, taken)
    return Selection(
        candidates, mode, n_seeds, candidates.height - by_ring, by_ring, precision, cut
    )


def expected_precision_curve(ranked: pl.DataFrame, up_to: int) -> np.ndarray:
    """Expected precision (running mean of calibrated scores) of the top 1..up_to accounts."""
    top = ranked["score"].head(up_to).to_numpy()
    return np.cumsum(top) / np.arange(1, top.size + 1)
