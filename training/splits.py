"""Leak-free splits of labelled accounts: time-aware, ring-aware, both (default), or random.

A *group* is a ring or connected shared-identifier component (`groups`: account_id ->
component_id); accounts without one are their own group. Ring-aware splits keep every group on
one side. Time-aware splits order groups by their LATEST label time, so within a class every
training label was decided before any validation group was finished, and validation before
test. By default bad groups (holding any bad label) and all-good groups are cut separately
and, among bad groups, each reason (their most common `reason`) are cut separately
(`stratify`), so that each part keeps the class and reason mix even when closures come in
waves (and every per-reason head has validation examples); the price is that the time order
holds within each stratum, not across them. `random` ignores
groups and time and exists only to compare with published benchmarks (and to show how much
the leak inflates the figures).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import polars as pl

from training.config import SplitConfig

PARTS = ("train", "valid", "test")
GOOD = "good"


@dataclass(frozen=True)
class Split:
    """Which part each labelled account is in, and how the split was made."""

    assignments: pl.DataFrame  # account_id, group, part; sorted by account_id
    kind: str
    cuts: dict[str, datetime] = field(default_factory=dict)  # last train / valid label time
    notes: tuple[str, ...] = ()

    def ids(self, part: str) -> pl.Series:
        """Account ids of one part, sorted."""
        return self.assignments.filter(pl.col("part") == part)["account_id"]

    def counts(self) -> dict[str, int]:
        """Labelled accounts per part."""
        return {p: int((self.assignments["part"] == p).sum()) for p in PARTS}


def attach_groups(labelled: pl.DataFrame, groups: pl.DataFrame | None) -> pl.DataFrame:
    """Add a `group` column: the account's component, or its own id when it has none."""
    own = pl.lit("account:") + pl.col("account_id")
    if groups is None or groups.height == 0:
        return labelled.with_columns(own.alias("group"))
    comp = groups.select(
        pl.col("account_id").cast(pl.String),
        (pl.lit("group:") + pl.col("component_id").cast(pl.String)).alias("group"),
    ).unique("account_id", keep="first")
    joined = labelled.join(comp, on="account_id", how="left")
    return joined.with_columns(pl.coalesce("group", own).alias("group"))


def _group_table(frame: pl.DataFrame, use_time: bool, seed: int) -> pl.DataFrame:
    """One row per group: stratum, size, latest label time, seeded tie-breaker; in order."""
    table = (
        frame.group_by("group")
        .agg(
            pl.len().alias("size"),
            pl.col("labelled_at").max().alias("t"),
            pl.col("stratum")
            .filter(pl.col("stratum") != GOOD)
            .mode()
            .sort()
            .first()
            .fill_null(GOOD)
            .alias("stratum"),
        )
        .sort("group")
    )
    rng = np.random.default_rng(seed)
    table = table.with_columns(pl.Series("tie", rng.permutation(table.height)))
    keys = ["stratum", "t", "tie"] if use_time else ["stratum", "tie"]
    return table.sort(keys)


def _cut_parts(table: pl.DataFrame, valid_share: float, test_share: float) -> pl.DataFrame:
    """Assign ordered groups to parts by where each one's middle falls in its stratum's count."""
    total = pl.col("size").sum().over("stratum")
    middle = pl.col("size").cum_sum().over("stratum") - pl.col("size") / 2
    train_end = ((1 - valid_share - test_share) * total).round(6)  # no float fuzz at the cut
    valid_end = ((1 - test_share) * total).round(6)
    part = (
        pl.when(middle < train_end)
        .then(pl.lit("train"))
        .when(middle < valid_end)
        .then(pl.lit("valid"))
        .otherwise(pl.lit("test"))
    )
    return table.with_columns(part.alias("part"))


def _cuts(table: pl.DataFrame) -> dict[str, datetime]:
    """Latest label time of the train and valid parts, per stratum (good, bad[:reason])."""
    cuts: dict[str, datetime] = {}
    for stratum in sorted(table["stratum"].unique()):
        for part in ("train", "valid"):
            times = table.filter((pl.col("part") == part) & (pl.col("stratum") == stratum))["t"]
            if times.len():
                cuts[f"{part}_last_label_{stratum}"] = times.max()
    return cuts


def strata(labelled: pl.DataFrame, stratify: bool) -> pl.Expr:
    """Each account's stratum: good, bad, or bad:<reason> (one stratum when not stratified)."""
    if not stratify or "label" not in labelled.columns:
        return pl.lit(GOOD)
    bad = pl.lit("bad")
    if "reason" in labelled.columns:
        bad = pl.when(pl.col("reason").is_null()).then(bad).otherwise("bad:" + pl.col("reason"))
    return pl.when(pl.col("label") == 1).then(bad).otherwise(pl.lit(GOOD))


def split_labelled(
    labelled: pl.DataFrame, groups: pl.DataFrame | None, config: SplitConfig
) -> Split:
    """Split labelled accounts (account_id, labelled_at[, label]) into train / valid / test.

    With a `label` column (and `reason`) and `config.stratify`, all-good groups and bad groups
    of each reason are split separately, so every part keeps the mix (see the module doc).
    """
    notes: list[str] = []
    kind = config.kind
    stratum = strata(labelled, config.stratify).alias("stratum")
    frame = labelled.select("account_id", "labelled_at", stratum)
    has_time = frame["labelled_at"].null_count() < frame.height
    use_time = kind in ("strict", "time") and has_time
    use_groups = kind in ("strict", "ring")
    if kind in ("strict", "time") and not has_time:
        notes.append("labels have no labelled_at: the split is not time-aware")
    elif use_time and frame["labelled_at"].null_count():
        missing = frame["labelled_at"].null_count()
        notes.append(f"{missing} labels without labelled_at are treated as the oldest")
        frame = frame.with_columns(pl.col("labelled_at").fill_null(frame["labelled_at"].min()))
    if use_groups:
        frame = attach_groups(frame, groups)
    else:
        frame = frame.with_columns((pl.lit("account:") + pl.col("account_id")).alias("group"))
    if not use_groups and groups is not None and kind == "random":
        notes.append("random split: ring members may straddle train and test (leaky)")
    table = _group_table(frame, use_time, config.seed)
    table = _cut_parts(table, config.valid_share, config.test_share)
    assignments = (
        frame.join(table.select("group", "part"), on="group", how="left")
        .select("account_id", "group", "part")
        .sort("account_id")
    )
    return Split(assignments, kind, _cuts(table) if use_time else {}, tuple(notes))
