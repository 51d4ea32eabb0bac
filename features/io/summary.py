"""A short account of what a loaded Dataset holds, for `ringwatch validate` and the demo
(detection.console prints it)."""

from __future__ import annotations

from typing import Any

import polars as pl

from features.io.contract import Dataset


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
        "as_of_source": ds.as_of_source,
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
