"""Reporting of the quality benchmark: mean ± std table (rich, Markdown, CSV) and MLflow runs."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from rich.table import Table as RichTable

from common.atomic import atomic_file

METRICS = ("auroc", "auprc", "rec_at_k")
METRIC_TITLES = {"auroc": "AUROC", "auprc": "AUPRC", "rec_at_k": "Rec@K"}


def summarise(per_seed: pl.DataFrame) -> pl.DataFrame:
    """Mean and std over seeds of each metric, per dataset × method × protocol."""
    aggregates = []
    for metric in METRICS:
        aggregates += [
            pl.col(metric).mean().alias(f"{metric}_mean"),
            pl.col(metric).std().alias(f"{metric}_std"),
        ]
    return (
        per_seed.group_by("dataset", "method", "protocol")
        .agg(
            *aggregates,
            pl.col(METRICS[0]).count().alias("seeds"),
            pl.col("test_accounts").mean().round(0).cast(pl.Int64).alias("test_accounts"),
            pl.col("neighbourhood_train_share").mean().alias("neighbourhood_train_share"),
            pl.col("seconds").sum().alias("seconds"),
        )
        .sort("dataset", "protocol", "method")
    )


def paired(per_seed: pl.DataFrame, method: str, peer: str) -> pl.DataFrame:
    """`method` minus `peer` per dataset × protocol, paired by seed (the same splits): mean
    AUROC and AUPRC difference, its standard error, seeds won, and a verdict: `beats` or
    `loses` when the mean difference is more than two standard errors from 0, else `tie`."""
    keys = ["dataset", "protocol", "seed"]
    ours = per_seed.filter(pl.col("method") == method).select(*keys, *METRICS)
    theirs = per_seed.filter(pl.col("method") == peer).select(*keys, *METRICS)
    joined = ours.join(theirs, on=keys, suffix="_peer").drop_nulls()
    diff = joined.with_columns(
        [(pl.col(m) - pl.col(f"{m}_peer")).alias(f"{m}_diff") for m in METRICS]
    )
    table = (
        diff.group_by("dataset", "protocol")
        .agg(
            pl.col("auroc_diff").mean().alias("auroc_diff"),
            (pl.col("auroc_diff").std() / pl.len().sqrt()).fill_null(0.0).alias("auroc_se"),
            pl.col("auprc_diff").mean().alias("auprc_diff"),
            (pl.col("auroc_diff") > 0).sum().alias("won"),
            pl.len().alias("seeds"),
        )
        .sort("dataset", "protocol")
    )
    margin = 2 * pl.col("auroc_se")
    verdict = (
        pl.when(pl.col("auroc_diff") - margin > 0)
        .then(pl.lit("beats"))
        .when(pl.col("auroc_diff") + margin < 0)
        .then(pl.lit("loses"))
        .otherwise(pl.lit("tie"))
    )
    return table.with_columns(verdict.alias("verdict"))


def paired_markdown(table: pl.DataFrame, method: str, peer: str) -> list[str]:
    """The paired comparison as Markdown lines (empty when there is nothing to compare)."""
    if table.height == 0:
        return []
    lines = [
        "",
        f"{method} − {peer}, paired by seed (same splits): mean difference ± standard error; "
        "`beats` / `loses` when more than two standard errors from 0, else `tie`.",
        "",
        "| dataset | protocol | AUROC diff | AUPRC diff | seeds won | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for row in table.iter_rows(named=True):
        lines.append(
            f"| {row['dataset']} | {row['protocol']} | {row['auroc_diff']:+.4f} ± "
            f"{row['auroc_se']:.4f} | {row['auprc_diff']:+.4f} | {row['won']} of "
            f"{row['seeds']} | {row['verdict']} |"
        )
    return lines


def cell(mean: float | None, std: float | None) -> str:
    """`0.951 ± 0.004`, or `n/a`."""
    if mean is None or np.isnan(mean):
        return "n/a"
    return f"{mean:.3f} ± {std or 0.0:.3f}"


def share(row: dict) -> str:
    """The neighbourhood train share of a summary row, or a dash when there is no graph."""
    value = row["neighbourhood_train_share"]
    return "–" if value is None or np.isnan(value) else f"{value:.2f}"


def markdown(
    summary: pl.DataFrame, header: list[str], notes: list[str], extra: list[str] = ()
) -> str:
    """The summary as a Markdown document: one table, `extra` lines, then the notes."""
    lines = [*header, ""]
    lines.append(
        "| dataset | protocol | method | AUROC | AUPRC | Rec@K | test accounts "
        "| nbhd. train share | seeds | time (s) |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for row in summary.iter_rows(named=True):
        metrics = [cell(row[f"{m}_mean"], row[f"{m}_std"]) for m in METRICS]
        lines.append(
            f"| {row['dataset']} | {row['protocol']} | {row['method']} | "
            + " | ".join(metrics)
            + f" | {row['test_accounts']} | {share(row)} | {row['seeds']} | {row['seconds']:.0f} |"
        )
    lines += [*extra, "", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def summary_table(summary: pl.DataFrame) -> RichTable:
    """The summary as a rich table (detection.console prints it)."""
    table = RichTable(title="quality benchmark (mean ± std over seeds)")
    for column in ("dataset", "protocol", "method", *METRIC_TITLES.values(), "nbhd. train share"):
        table.add_column(
            column, justify="right" if column not in ("dataset", "protocol", "method") else "left"
        )
    for row in summary.iter_rows(named=True):
        metrics = [cell(row[f"{m}_mean"], row[f"{m}_std"]) for m in METRICS]
        table.add_row(row["dataset"], row["protocol"], row["method"], *metrics, share(row))
    return table


def log_mlflow(
    workspace: Path, dataset: str, params: dict, per_seed: pl.DataFrame, summary: pl.DataFrame
) -> None:
    """One MLflow experiment per dataset (`bench-quality-<name>`), one run per method × protocol;
    `params` (scheme, strict kind, label counts) are logged on every run."""
    import mlflow

    from training.tracking import get_or_create_experiment, use_workspace

    use_workspace(workspace)
    experiment = get_or_create_experiment(f"bench-quality-{dataset}")
    for row in summary.filter(pl.col("dataset") == dataset).iter_rows(named=True):
        with mlflow.start_run(
            experiment_id=experiment, run_name=f"{row['method']}/{row['protocol']}"
        ):
            mlflow.log_params(
                {
                    "dataset": dataset,
                    "method": row["method"],
                    "protocol": row["protocol"],
                    "seeds": row["seeds"],
                    **params,
                }
            )
            finite = {k: v for k, v in row.items() if isinstance(v, float) and np.isfinite(v)}
            mlflow.log_metrics(finite)
            seeds = per_seed.filter(
                (pl.col("dataset") == dataset)
                & (pl.col("method") == row["method"])
                & (pl.col("protocol") == row["protocol"])
            )
            for seed_row in seeds.iter_rows(named=True):
                values = {
                    f"seed_{m}": seed_row[m]
                    for m in METRICS
                    if seed_row[m] is not None and np.isfinite(seed_row[m])
                }
                if values:
                    mlflow.log_metrics(values, step=int(seed_row["seed"]))


def write_outputs(out: Path, summary: pl.DataFrame, per_seed: pl.DataFrame, text: str) -> None:
    """results.md, results.csv (mean/std) and per_seed.csv, each written atomically."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_file(out / "results.md") as tmp:
        tmp.write_text(text)
    with atomic_file(out / "results.csv") as tmp:
        summary.write_csv(tmp)
    with atomic_file(out / "per_seed.csv") as tmp:
        per_seed.write_csv(tmp)


def mlflow_params(ctx: Any) -> dict:  # ctx: bench_quality.Context
    """What every MLflow run of a dataset records besides method and protocol."""
    return {
        "scheme": ctx.scheme.describe(),
        "strict_kind": ctx.strict.kind,
        "labelled_accounts": ctx.labels.height,
        "bad_accounts": int(ctx.labels["label"].sum()),
    }


def header_lines(command: str, wall: float, cpu: float, load: tuple, lines: list[str]) -> list:
    """The Markdown header: command, timing and machine load, one line per dataset."""
    return [
        "# Quality benchmark",
        "",
        f"`{command}` — run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: wall time "
        f"{wall / 60:.1f} min, CPU time of this process {cpu / 60:.1f} min, {os.cpu_count()} "
        f"cores, 1-min load average {load[0]:.1f} before / {load[1]:.1f} after (above ~1, other "
        "work shared the machine and stretched the wall time).",
        "",
        *[f"- {line}" for line in lines],
        "- nbhd. train share: of the 1- and 2-hop walks from test accounts to labelled "
        "accounts, the share ending at training accounts (how much of a test account's "
        "labelled neighbourhood the model saw labels of).",
    ]
