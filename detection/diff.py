"""What changed since the previous list in the same output root: new, escalated, dropped.

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
CHANGES = ("new", "escalated", "dropped")
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


def diff_lists(previous: pl.DataFrame | None, current: pl.DataFrame) -> pl.DataFrame:
    """One row per new, escalated (more severe action) or dropped account, by change then rank."""
    if previous is None:
        return pl.DataFrame(schema=CHANGE_SCHEMA)
    keep = ["account_id", "action", "score", "rank", "ring_id"]
    before = previous.select(keep).rename({c: f"previous_{c}" for c in keep[1:]})
    joined = current.select(keep).join(before, on="account_id", how="full", coalesce=True)
    severity = pl.col("action").replace_strict(SEVERITY, default=0, return_dtype=pl.Int64)
    before_severity = pl.col("previous_action").replace_strict(
        SEVERITY, default=0, return_dtype=pl.Int64
    )
    change = (
        pl.when(pl.col("previous_action").is_null())
        .then(pl.lit("new"))
        .when(pl.col("action").is_null())
        .then(pl.lit("dropped"))
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
    """How many accounts are new, escalated and dropped."""
    return {c: int((changes["change"] == c).sum()) for c in CHANGES}
