"""The `ringwatch bench rings` figures as text: summaries over seeds, tables, Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from experiments.simulate.config import CAMOUFLAGE_LEVELS
from experiments.simulate.kinds import BAD_KINDS

if TYPE_CHECKING:
    from experiments.bench_rings import BenchResult

RUNS = ("held out", "all labelled", "rules")  # rules: the label-free rule verdict


def summarise(per_seed: pl.DataFrame) -> pl.DataFrame:
    """Mean and standard deviation over seeds per camouflage, archetype and run."""
    figures = ["ring_f1", "purity", "recall_at_k", "ap", "benign", "benign_share", "lookalikes"]
    figures = [f for f in figures if f in per_seed.columns]
    order = {name: i for i, name in enumerate(RUNS)}
    return (
        per_seed.group_by("camouflage", "archetype", "run")
        .agg(
            pl.len().alias("seeds"),
            pl.col("true_rings").sum(),
            *[pl.col(f).mean().alias(f) for f in figures],
            *[pl.col(f).std().alias(f"{f}_std") for f in figures],
        )
        .with_columns(
            pl.col("archetype").replace_strict({a: i for i, a in enumerate(BAD_KINDS)}).alias("_a"),
            pl.col("run").replace_strict(order).alias("_r"),
            pl.col("camouflage")
            .replace_strict({c: i for i, c in enumerate(CAMOUFLAGE_LEVELS)})
            .alias("_c"),
        )
        .sort("_c", "_a", "_r")
        .drop("_a", "_r", "_c")
    )


COLUMNS = (
    ("ring_f1", "ring F1"),
    ("purity", "purity"),
    ("recall_at_k", "recall@K"),
    ("ap", "AP unlabelled"),
)


def cell(row: dict, name: str) -> str:
    """'mean ± std' of a figure (– when not measured)."""
    mean, std = row.get(name), row.get(f"{name}_std")
    if mean is None or (isinstance(mean, float) and np.isnan(mean)):
        return "–"
    if std is None or np.isnan(std):
        return f"{mean:.2f}"
    return f"{mean:.2f} ± {std:.2f}"


def table_rows(summary: pl.DataFrame) -> list[list[str]]:
    """One row per camouflage, archetype and run: the headline figures as text."""
    rows = []
    for row in summary.iter_rows(named=True):
        figures = [cell(row, name) for name, _ in COLUMNS]
        rows.append(
            [row["camouflage"], row["archetype"], row["run"], str(row["true_rings"]), *figures]
        )
    return rows


HEADER = ["camouflage", "archetype", "run", "true rings", *[title for _, title in COLUMNS]]


def benign_summary(per_seed: pl.DataFrame) -> pl.DataFrame:
    """Benign accounts in reported rings per camouflage and run: mean and worst world."""
    return (
        per_seed.group_by("camouflage", "run")
        .agg(
            pl.col("benign").mean().alias("benign_mean"),
            pl.col("benign").max().alias("benign_max"),
            (100 * pl.col("benign_share").max()).alias("worst_share_pct"),
            pl.col("lookalikes").mean().alias("lookalikes_mean"),
        )
        .sort("camouflage", "run")
    )


BENIGN_HEADER = ["camouflage", "run", "mean", "worst world", "worst share of benign", "look-alikes"]


def benign_rows(per_seed: pl.DataFrame) -> list[list[str]]:
    """The benign summary as text rows."""
    return [
        [row["camouflage"], row["run"], f"{row['benign_mean']:.1f}", str(row["benign_max"]),
         f"{row['worst_share_pct']:.3f} %", f"{row['lookalikes_mean']:.1f}"]
        for row in benign_summary(per_seed).iter_rows(named=True)
    ]  # fmt: skip


def markdown(result: BenchResult) -> str:
    """The benchmark as Markdown: how it was run, the table, benign accounts in rings."""
    low, high = result.load
    header, rows = result.table()
    lines = [
        f"`{result.command}` — {result.date}; {result.seconds / 60:.1f} min wall, "
        f"{result.cpu_seconds / 60:.1f} min CPU, load average {low:.1f} → {high:.1f}.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    header, rows = result.benign_table()
    lines += [
        "",
        "Benign accounts in reported rings (per world; held out: every archetype's run):",
        "",
    ]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_report(result: BenchResult, out: Path) -> Path:
    """results.md and per_seed.csv in `out` (each written whole, then renamed)."""
    from common.atomic import atomic_file

    for name, text in (
        ("results.md", markdown(result)),
        ("per_seed.csv", result.per_seed.write_csv()),
    ):
        with atomic_file(out / name) as tmp:
            tmp.write_text(text)
    return out / "results.md"
