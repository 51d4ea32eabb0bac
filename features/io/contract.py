"""The input data contract: which tables and columns an account base holds, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

import polars as pl

TS = pl.Datetime("us", "UTC")

#: The actions every platform has; the vocabulary is open, but these get their own features.
CORE_ACTIONS = (
    "post",
    "login",
    "follow",
    "like",
    "comment",
    "share",
    "payment",
    "chargeback",
    "report_received",
    "profile_edit",
)


@dataclass(frozen=True)
class Column:
    """One column of an input table."""

    name: str
    dtype: pl.DataType
    required: bool
    description: str


@dataclass(frozen=True)
class Table:
    """One input table: its file stem, whether it must exist, and its columns."""

    name: str
    required: bool
    columns: tuple[Column, ...]
    description: str

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}


ACCOUNTS = Table(
    "accounts",
    True,
    (
        Column("account_id", pl.String(), True, "unique, non-null account id"),
        Column("created_at", TS, False, "registration time (UTC)"),
        Column("category", pl.String(), False, "brand, media, government, creator, ..."),
        Column("verified", pl.Boolean(), False, "platform-verified account"),
        Column("followers", pl.Int64(), False, "follower count at the snapshot"),
    ),
    "one row per account; any further numeric or boolean column is an attribute feature",
)

EVENTS = Table(
    "events",
    False,
    (
        Column("account_id", pl.String(), True, "the acting account"),
        Column("ts", TS, True, "event time (UTC)"),
        Column(
            "action",
            pl.String(),
            True,
            "post, login, follow, like, comment, share, payment, "
            "chargeback, report_received, profile_edit, ... (open vocabulary)",
        ),
        Column("target_id", pl.String(), False, "account or content acted on"),
        Column("ip", pl.String(), False, "source IP address"),
        Column("device", pl.String(), False, "device fingerprint"),
        Column("instrument", pl.String(), False, "payment instrument fingerprint (payments)"),
        Column("text", pl.String(), False, "headline or title of a post"),
        Column("amount", pl.Float64(), False, "payment amount"),
    ),
    "one row per action of an account",
)

EDGES = Table(
    "edges",
    False,
    (
        Column("src", pl.String(), True, "account id"),
        Column("dst", pl.String(), True, "account id"),
        Column("relation", pl.String(), True, "follows, interacts, same_phone, ..."),
        Column("weight", pl.Float64(), False, "edge weight (default 1)"),
        Column("ts", TS, False, "when the edge appeared (UTC)"),
    ),
    "explicit account-to-account relations",
)

LABELS = Table(
    "labels",
    False,
    (
        Column("account_id", pl.String(), True, "account id"),
        Column("label", pl.Int8(), True, "1 = closed or confirmed bad, 0 = known good"),
        Column("labelled_at", TS, False, "when the label was decided (UTC)"),
        Column(
            "reason", pl.String(), False, "fraud, fake, porn, violence, clickbait, card_fraud, ..."
        ),
    ),
    "moderators' decisions; needed for training",
)

TABLES: tuple[Table, ...] = (ACCOUNTS, EVENTS, EDGES, LABELS)


@dataclass(frozen=True)
class Dataset:
    """A validated account base, cut at the snapshot time `as_of`.

    Every table is present with its full canonical schema (optional columns filled with
    nulls, absent tables empty), so later stages never branch on what the input held.
    `attributes` names the extra numeric/boolean columns of `accounts`. `labels` holds one row
    per account (its latest decision, the training target); `label_history` every decision.

    `events`, the one table that grows with activity (billions of rows), is a LazyFrame: a
    scan of the stored files, typed and cut, that each stage reads (only the columns it needs)
    in a streaming query. An in-memory DataFrame given here (tests, small bases) is held as
    its lazy view.
    """

    source: Path
    as_of: datetime
    accounts: pl.DataFrame
    events: pl.LazyFrame
    edges: pl.DataFrame
    labels: pl.DataFrame
    attributes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    label_history: pl.DataFrame | None = None  # every label row (labels holds the latest)
    as_of_source: str = "given"  # where the snapshot time came from (--as-of, latest event, ...)

    def __post_init__(self) -> None:
        if isinstance(self.events, pl.DataFrame):
            object.__setattr__(self, "events", self.events.lazy())

    @cached_property
    def n_events(self) -> int:
        """Rows of `events` (one streaming count, remembered)."""
        return self.events.select(pl.len()).collect().item()
