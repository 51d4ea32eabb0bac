"""Reviewers' decisions: an append-only SQLite file beside the list (`decisions.sqlite`).

One row per decision on one account, never updated or deleted (triggers refuse it); a decision
on a whole ring is one row per member sharing a `batch` id. WAL journal and short immediate
transactions make several reviewers (processes or threads) at once safe; each call opens its
own connection, so a store object holds no open handle between requests.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from common.errors import UserError

FILE = "decisions.sqlite"
DECISIONS = ("closed", "cleared", "escalated")
VERBS = {"close": "closed", "clear": "cleared", "escalate": "escalated"}
MAX_REVIEWER, MAX_NOTE = 80, 4000
SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT NOT NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('closed', 'cleared', 'escalated')),
    scope       TEXT NOT NULL CHECK (scope IN ('account', 'ring')),
    ring_id     TEXT,
    batch       TEXT NOT NULL,
    reviewer    TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    decided_at  TEXT NOT NULL,
    list_as_of  TEXT
);
CREATE INDEX IF NOT EXISTS decisions_account ON decisions (account_id, id);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
"""
COLUMNS = ("id", "account_id", "decision", "scope", "ring_id", "batch", "reviewer", "note")
COLUMNS += ("decided_at", "list_as_of")
FRAME_SCHEMA = {
    "id": pl.Int64,
    "account_id": pl.String,
    "decision": pl.String,
    "scope": pl.String,
    "ring_id": pl.String,
    "batch": pl.String,
    "reviewer": pl.String,
    "note": pl.String,
    "decided_at": pl.String,
    "list_as_of": pl.String,
}


@dataclass(frozen=True)
class Decision:
    """One decision as a reviewer gives it (on one account or on every member of a ring)."""

    accounts: tuple[str, ...]
    decision: str  # closed / cleared / escalated
    reviewer: str
    note: str = ""
    ring_id: str | None = None  # set for a decision on a whole ring

    def check(self) -> Decision:
        """Raise UserError on an unknown decision, a missing reviewer or an over-long field."""
        if self.decision not in DECISIONS:
            raise UserError(f"decision {self.decision!r} is not one of {', '.join(DECISIONS)}")
        if not self.reviewer.strip():
            raise UserError("a decision needs the reviewer's name")
        if len(self.reviewer) > MAX_REVIEWER or len(self.note) > MAX_NOTE:
            raise UserError(f"reviewer name ≤ {MAX_REVIEWER} and note ≤ {MAX_NOTE} characters")
        if not self.accounts:
            raise UserError("a decision needs at least one account")
        return self


class DecisionStore:
    """The decisions file of one list folder."""

    def __init__(self, folder: Path, list_as_of: str | None = None) -> None:
        self.path = Path(folder) / FILE
        self.list_as_of = list_as_of
        with self._connect() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in WAL mode that waits for other writers instead of failing."""
        with closing(sqlite3.connect(self.path, timeout=30.0, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA synchronous=NORMAL")
            yield db

    def record(self, decision: Decision) -> int:
        """Append `decision` (one row per account) in one transaction; returns rows written."""
        d = decision.check()
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        scope = "ring" if d.ring_id is not None else "account"
        batch = secrets.token_hex(8)
        rows = [
            (a, d.decision, scope, d.ring_id, batch, d.reviewer.strip(), d.note, now)
            for a in d.accounts
        ]
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO decisions (account_id, decision, scope, ring_id, batch, "
                    "reviewer, note, decided_at, list_as_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(*r, self.list_as_of) for r in rows],
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(rows)

    def _select(self, where: str = "", params: Iterable = ()) -> pl.DataFrame:
        """Rows of the decisions table as a frame, oldest first."""
        query = f"SELECT {', '.join(COLUMNS)} FROM decisions {where} ORDER BY id"
        with self._connect() as db:
            rows = db.execute(query, tuple(params)).fetchall()
        return pl.DataFrame(rows, schema=FRAME_SCHEMA, orient="row")

    def history(self, account_id: str | None = None) -> pl.DataFrame:
        """Every decision (of one account, if given), oldest first."""
        if account_id is None:
            return self._select()
        return self._select("WHERE account_id = ?", (account_id,))

    def latest(self) -> pl.DataFrame:
        """The latest decision of every decided account (what the queue shows)."""
        return (
            self.history()
            .sort("id")
            .group_by("account_id", maintain_order=True)
            .last()
            .sort("account_id")
        )


def read_decisions(folder: Path) -> pl.DataFrame:
    """Every decision of a list folder as `ringwatch feedback` reads them (oldest first): id
    (the order they were made), account_id, decision, decided_at (UTC, wall clock), reviewer,
    note, reason (null)."""
    path = Path(folder) / FILE
    if not path.is_file():
        raise UserError(f"{folder}: no {FILE} (no decisions recorded with `ringwatch review`)")
    frame = DecisionStore(folder).history()
    return frame.select(
        "id",
        "account_id",
        "decision",
        pl.col("decided_at").str.to_datetime(time_zone="UTC", time_unit="us"),
        "reviewer",
        "note",
        pl.lit(None, dtype=pl.String).alias("reason"),
    )


def carry_decisions(old: Path, new: Path) -> bool:
    """Copy the decisions file of list folder `old` (being replaced) into `new`, consistently
    even while reviewers write (SQLite's online backup); False when there is none."""
    source = Path(old) / FILE
    if not source.is_file():
        return False
    with (
        closing(sqlite3.connect(source, timeout=30.0)) as src,
        closing(sqlite3.connect(Path(new) / FILE)) as dst,
    ):
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    return True
