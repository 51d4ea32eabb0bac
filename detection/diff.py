"""What changed since the previous list in the same output root.

Accounts are *new* (not listed before), *escalated* (a more severe suggested action), or left
the list, for one of three reasons a reviewer must tell apart:
- *cleared*: a reviewer cleared it on the previous list (its decisions.sqlite);
- *at_capacity*: it still scores at least the entry threshold (watch) but the list was full:
  still suspicious, just not among the top K this week (`score` says how much it scores now);
- *score_fell*: its score fell below the entry threshold.

The previous list is the latest finished `<root>/<YYYY-MM-DD>/` folder (it has a manifest)
dated before this run's as-of date. Partial or hidden folders are never read.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from detection.config import ACTIONS
from detection.manifest import MANIFEST

SEVERITY = {action: len(ACTIONS) - i for i, action in enumerate(ACTIONS)}  # close = 3
CHANGES = ("new", "escalated", "score_fell", "at_capacity", "cleared")
LEFT = CHANGES[2:]  # the kinds of leaving the list ("dropped" in summaries)
LABELS = {
    "new": "new",
    "escalated": "escalated",
    "score_fell": "score fell",
    "at_capacity": "left the list at capacity",
    "cleared": "cleared by a reviewer",
}
CHANGE_SCHEMA = {
    "account_id": pl.String,
    "change": pl.String,
    "action": pl.String,
    "previous_action": pl.String,
    "score": pl.Float64,
    "previous_score": pl.Float64,
    "rank": pl.Int64,
    "previous_rank": pl.Int64,
    "ring_id": pl.String,
}


def run_date(folder: Path) -> date | None:
    """The as-of date a finished output folder is named for, or None for anything else."""
    try:
        day = date.fromisoformat(folder.name)
    except ValueError:
        return None
    finished = (folder / MANIFEST).is_file() and (folder / "candidates.parquet").is_file()
    return day if folder.is_dir() and finished else None


def previous_run(root: Path, day: date) -> Path | None:
    """The latest finished list in `root` dated before `day`, if any."""
    if not root.is_dir():
        return None
    dated = [(d, p) for p in root.iterdir() if (d := run_date(p)) is not None and d < day]
    return max(dated)[1] if dated else None


PREVIOUS_COLUMNS = ("account_id", "action", "score", "rank", "ring_id")


def read_list(folder: Path) -> pl.DataFrame:
    """The columns of a finished list that a diff needs; ValueError naming what is wrong."""
    try:
        frame = pl.read_parquet(folder / "candidates.parquet")
    except (OSError, pl.exceptions.PolarsError) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ValueError(f"cannot be read ({first})") from None
    missing = [c for c in PREVIOUS_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"lacks column(s) {', '.join(missing)}")
    return frame


def read_previous(root: Path, day: date) -> tuple[Path | None, pl.DataFrame | None, list[str]]:
    """The latest readable list in `root` dated before `day`, its candidates and a warning
    for every damaged later one skipped (a damaged list never blocks the next week)."""
    if not root.is_dir():
        return None, None, []
    dated = sorted(
        ((d, p) for p in root.iterdir() if (d := run_date(p)) is not None and d < day),
        reverse=True,
    )
    warnings = []
    for _, folder in dated:
        try:
            return folder, read_list(folder), warnings
        except ValueError as error:
            file = folder / "candidates.parquet"
            warnings.append(f"previous list {file} {error}; skipped, compared with an older one")
    return None, None, warnings


def diff_lists(
    previous: pl.DataFrame | None,
    current: pl.DataFrame,
    scores: pl.DataFrame | None = None,
    cleared: set[str] | frozenset[str] = frozenset(),
    watch: float = 0.5,
) -> pl.DataFrame:
    """One row per changed account (module doc), by change then rank. `scores` (account_id,
    score: the whole base now) gives the current score of accounts that left the list;
    `cleared` holds the accounts a reviewer cleared on the previous list."""
    if previous is None:
        return pl.DataFrame(schema=CHANGE_SCHEMA)
    keep = ["account_id", "action", "score", "rank", "ring_id"]
    before = previous.select(keep).rename({c: f"previous_{c}" for c in keep[1:]})
    joined = current.select(keep).join(before, on="account_id", how="full", coalesce=True)
    if scores is not None:
        now = scores.select("account_id", pl.col("score").alias("_now"))
        joined = joined.join(now, on="account_id", how="left").with_columns(
            score=pl.coalesce("score", "_now")
        )
    severity = pl.col("action").replace_strict(SEVERITY, default=0, return_dtype=pl.Int64)
    before_severity = pl.col("previous_action").replace_strict(
        SEVERITY, default=0, return_dtype=pl.Int64
    )
    gone = pl.col("action").is_null()
    change = (
        pl.when(pl.col("previous_action").is_null())
        .then(pl.lit("new"))
        .when(
            gone & pl.col("account_id").is_in(pl.Series(sorted(cleared), dtype=pl.String).implode())
        )
        .then(pl.lit("cleared"))
        .when(gone & (pl.col("score") >= watch))
        .then(pl.lit("at_capacity"))
        .when(gone)
        .then(pl.lit("score_fell"))
        .when(severity > before_severity)
        .then(pl.lit("escalated"))
    )
    order = pl.col("change").replace_strict(
        {c: i for i, c in enumerate(CHANGES)}, return_dtype=pl.Int64
    )
    return (
        joined.with_columns(change=change, ring_id=pl.coalesce("ring_id", "previous_ring_id"))
        .filter(pl.col("change").is_not_null())
        .with_columns(_order=order, _rank=pl.coalesce("rank", "previous_rank"))
        .sort(["_order", "_rank", "account_id"])
        .select([pl.col(c).cast(t) for c, t in CHANGE_SCHEMA.items()])
    )


def change_counts(changes: pl.DataFrame) -> dict[str, int]:
    """How many accounts changed in each way, and "dropped": all that left the list."""
    counts = {c: int((changes["change"] == c).sum()) for c in CHANGES}
    return {**counts, "dropped": sum(counts[c] for c in LEFT)}


def cleared_on(folder: Path | None) -> set[str]:
    """Accounts whose latest decision on the list in `folder` is 'cleared'."""
    if folder is None:
        return set()
    from detection.review.store import FILE, DecisionStore

    if not (folder / FILE).is_file():
        return set()
    latest = DecisionStore(folder).latest()
    return set(latest.filter(pl.col("decision") == "cleared")["account_id"].to_list())
