"""A short account of what a loaded Dataset holds, for `ringwatch validate` and the demo."""

from __future__ import annotations

from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table as RichTable

from features.contract import Dataset


def event_summary(events: pl.LazyFrame) -> dict[str, Any]:
    """Rows, time range, accounts with events and rows per action, from streaming aggregates."""
    totals, actions = pl.collect_all(
        [
            events.select(
                rows=pl.len(),
                first=pl.col("ts").min(),
                last=pl.col("ts").max(),
                accounts=pl.col("account_id").n_unique(),
            ),
            events.group_by("action").len().sort("action"),
        ]
    )
    row = totals.row(0, named=True)
    return {
        "rows": row["rows"],
        "events_from": row["first"].isoformat() if row["rows"] else None,
        "events_to": row["last"].isoformat() if row["rows"] else None,
        "accounts_with_events": row["accounts"] if row["rows"] else 0,
        "actions": dict(actions.rows()),
    }


def summarise(ds: Dataset) -> dict[str, Any]:
    """Rows per table, time range, accounts with events, labels by reason."""
    events = event_summary(ds.events)
    labels = ds.labels
    by_reason = (
        labels.group_by("reason", "label").len().sort("reason", "label", nulls_last=True).rows()
    )
    return {
        "source": str(ds.source),
        "as_of": ds.as_of.isoformat(),
        "rows": {
            "accounts": ds.accounts.height,
            "events": events["rows"],
            "edges": ds.edges.height,
            "labels": labels.height,
        },
        "events_from": events["events_from"],
        "events_to": events["events_to"],
        "accounts_with_events": events["accounts_with_events"],
        "actions": events["actions"],
        "relations": dict(ds.edges.group_by("relation").len().sort("relation").rows()),
        "labels_by_reason": [
            {"reason": reason, "label": int(label), "accounts": n} for reason, label, n in by_reason
        ],
        "attributes": list(ds.attributes),
        "warnings": list(ds.warnings),
    }


def print_summary(ds: Dataset, console: Console | None = None) -> dict[str, Any]:
    """Print the summary as tables; returns it too."""
    console = console or Console()
    summary = summarise(ds)
    for warning in summary["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(f"[bold green]valid:[/] {summary['source']} (as of {summary['as_of']})")
    table = RichTable()
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in summary["rows"].items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(
        f"events {summary['events_from']} → {summary['events_to']}; "
        f"{summary['accounts_with_events']:,} accounts with events"
    )
    if summary["labels_by_reason"]:
        labels = RichTable(title="labels by reason")
        for column in ("reason", "label", "accounts"):
            labels.add_column(column)
        for row in summary["labels_by_reason"]:
            labels.add_row(str(row["reason"]), str(row["label"]), f"{row['accounts']:,}")
        console.print(labels)
    if summary["attributes"]:
        console.print(f"attribute columns: {', '.join(summary['attributes'])}")
    return summary


def label_counts(labels: pl.DataFrame) -> dict[int, int]:
    """How many accounts carry each label value."""
    return {int(k): v for k, v in labels.group_by("label").len().rows()}
