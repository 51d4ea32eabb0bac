"""Reviewers' decisions merged into the data folder's labels, keeping the history.

DECISIONS.csv columns: account_id, decision (closed / cleared / escalated), decided_at
(ISO 8601, UTC if no offset), reviewer, note; optionally reason (fraud, fake, porn, ...).

- closed -> a label 1 row, cleared -> a label 0 row, appended to `labels` with
  labelled_at = decided_at and audit columns source='review', decision, reviewer, note.
  Earlier rows are never changed or removed: the labels table is the history, and the loader
  (features.io.load.latest_labels) takes each account's latest row (by labelled_at, then file
  order), so a later decision supersedes an earlier one.
- Decisions recorded by `ringwatch review` (`--from-review LIST_FOLDER`) are dated at the
  list's snapshot (see `at_snapshot`): a retrain at that snapshot knows them.
- escalated -> no label (the account is still under review); recorded in the log only.
- Every decision (escalations included) is appended to `review_decisions.parquet` in the data
  folder. Each decision has a `decision_id` (a digest of account, decision, time, reviewer)
  stored in both the log and its label row, so a merge is idempotent: decisions already in the
  log are skipped, and a label row already written (a run killed between the two writes) is
  not written twice.
- Refused: decisions dated more than `tolerance` after the data's latest time (events, edges,
  account creations, labels; a decision in 2099 would outrank every real one forever), and
  two different decisions for one account at the same instant (naming both rows).
- labels.parquet / labels.csv are rewritten atomically in their own format; a labels/ folder
  of parts gets one new part file. A lock file stops two merges at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from common.atomic import atomic_file
from common.errors import ContractError, UserError
from detection.output import locked
from features.io.contract import TS, Column
from features.io.parse import converted, parse_column
from features.io.sanity import TimeWindow
from features.io.tables import check_csv, find_table, read_table, scan_table

DECISIONS = {"closed": 1, "cleared": 0, "escalated": None}
REQUIRED = ("account_id", "decision", "decided_at")
OPTIONAL = ("reviewer", "note", "reason")
LOG = "review_decisions.parquet"
KEY = ("account_id", "decision", "decided_at", "reviewer")
TOLERANCE = timedelta(days=60)  # how far after the data's latest time a decision may be dated
REVIEW_EPOCH = timedelta(hours=1)  # review decisions: dated within this before the snapshot
LOG_SCHEMA = {
    "decision_id": pl.String,
    "account_id": pl.String,
    "decision": pl.String,
    "decided_at": TS,
    "reviewer": pl.String,
    "note": pl.String,
    "reason": pl.String,
    "source_file": pl.String,
    "merged_at": TS,
}


@dataclass(frozen=True)
class FeedbackResult:
    """What a merge did."""

    labels_added: int
    escalated: int
    skipped: int  # decisions already merged earlier
    labels_path: Path
    log_path: Path

    def to_dict(self) -> dict:
        """Plain JSON-able form."""
        return {
            "status": "ok",
            "labels_added": self.labels_added,
            "escalated": self.escalated,
            "skipped": self.skipped,
            "labels": str(self.labels_path),
            "log": str(self.log_path),
        }


def row_name(i: int, account: object) -> str:
    """'row 3 (account_id 'a17')': a CSV data row by its line number in the file."""
    return f"row {i + 2} (account_id {account!r})"


def parse_times(raw: pl.Series, file: str) -> pl.Series:
    """decided_at as UTC timestamps, or a UserError naming the first row that does not parse."""
    column = Column("decided_at", TS, True, "")
    for i, value in enumerate(raw.to_list()):
        if value is None or not str(value).strip():
            raise UserError(f"{file}: {row_name(i, None)}: decided_at is empty")
    try:
        return parse_column(raw, column, file)
    except ContractError:
        for i, value in enumerate(raw.to_list()):
            try:
                parse_column(pl.Series("decided_at", [value]), column, file)
            except ContractError:
                raise UserError(
                    f"{file}: row {i + 2}: decided_at {value!r} is not an ISO 8601 time"
                ) from None
        raise


def read_decisions(path: Path, known: pl.Series) -> pl.DataFrame:
    """The decisions file checked row by row against the accounts in `known`."""
    file = str(path)
    if not path.is_file():
        raise UserError(f"{file}: no such decisions file")
    check_csv(path)
    try:
        frame = pl.read_csv(path, infer_schema=False, null_values=[""])
    except Exception as error:  # polars raises many kinds on unreadable files
        raise ContractError(file, f"cannot be read as CSV: {str(error).splitlines()[0]}") from None
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    for name in REQUIRED:
        if name not in frame.columns:
            raise ContractError(file, "required column is missing", name)
    if frame.height == 0:
        raise ContractError(file, "holds no decisions")
    frame = frame.with_columns(
        [pl.lit(None, dtype=pl.String).alias(c) for c in OPTIONAL if c not in frame.columns]
    ).with_columns(
        pl.col("account_id").str.strip_chars(),
        pl.col("decision").str.strip_chars().str.to_lowercase(),
    )
    known_set = known.implode()
    checks = frame.with_row_index("i").with_columns(
        unknown=~pl.col("account_id").is_in(known_set) | pl.col("account_id").is_null(),
        bad=~pl.col("decision").is_in(list(DECISIONS)) | pl.col("decision").is_null(),
    )
    for row in checks.filter(pl.col("unknown") | pl.col("bad")).head(1).iter_rows(named=True):
        where = f"{file}: {row_name(row['i'], row['account_id'])}"
        if row["unknown"]:
            raise UserError(f"{where}: account is not in the accounts table")
        raise UserError(
            f"{where}: decision {row['decision']!r} is not one of {', '.join(DECISIONS)}"
        )
    times = parse_times(frame["decided_at"], file)
    return frame.with_columns(times).with_row_index("row").select("row", *REQUIRED, *OPTIONAL)


def decision_ids(frame: pl.DataFrame) -> pl.Series:
    """A stable id per decision: sha256 of account, decision, time and reviewer (16 hex)."""
    keys = frame.select(
        pl.concat_str(
            [pl.col(c).cast(pl.String).fill_null("") for c in KEY], separator="\x1f"
        ).alias("key")
    )["key"]
    digests = [hashlib.sha256(k.encode()).hexdigest()[:16] for k in keys.to_list()]
    return pl.Series("decision_id", digests, dtype=pl.String)


def new_log_rows(decisions: pl.DataFrame, log: pl.DataFrame, source: str) -> pl.DataFrame:
    """Decisions not logged before (by decision id), as log rows."""
    rows = decisions.with_columns(
        decision_ids(decisions),
        source_file=pl.lit(source),
        merged_at=pl.lit(datetime.now(UTC), dtype=TS),
    ).select([pl.col(c).cast(t) for c, t in LOG_SCHEMA.items()])
    rows = rows.unique("decision_id", keep="first", maintain_order=True)
    if "decision_id" not in log.columns:  # a log written before decision ids
        log = log.with_columns(decision_ids(log))
    return rows.join(log.select("decision_id"), on="decision_id", how="anti")


def label_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """closed/cleared decisions as labels rows with audit columns."""
    return rows.filter(pl.col("decision") != "escalated").select(
        "account_id",
        pl.col("decision").replace_strict(DECISIONS, return_dtype=pl.Int8).alias("label"),
        pl.col("decided_at").alias("labelled_at"),
        "reason",
        pl.lit("review").alias("source"),
        "decision",
        "reviewer",
        "note",
        "decision_id",
    )


def written_ids(folder: Path) -> pl.Series:
    """Decision ids already in the labels table (rows of a merge killed before its log)."""
    path = find_table(folder, "labels")
    if path is None or not path.exists():
        return pl.Series("decision_id", [], dtype=pl.String)
    frame = read_table(path)
    if "decision_id" not in frame.columns:
        return pl.Series("decision_id", [], dtype=pl.String)
    return frame["decision_id"].cast(pl.String).drop_nulls()


def append_labels(folder: Path, new: pl.DataFrame) -> Path:
    """Append rows to the labels table in its own format, atomically; returns its path."""
    path = find_table(folder, "labels") or folder / "labels.parquet"
    if path.is_dir():
        part = path / f"review-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}.parquet"
        with atomic_file(part) as tmp:
            new.write_parquet(tmp)
        return path
    if path.suffix == ".csv":
        old = read_table(path) if path.exists() else pl.DataFrame()
        merged = pl.concat([old, new.select(pl.all().cast(pl.String))], how="diagonal")
        with atomic_file(path) as tmp:
            merged.write_csv(tmp)
        return path
    old = read_table(path) if path.exists() else pl.DataFrame()
    merged = pl.concat([old, new], how="diagonal_relaxed") if old.width else new
    with atomic_file(path) as tmp:
        merged.write_parquet(tmp)
    return path


TIME_COLUMNS = {"events": "ts", "edges": "ts", "accounts": "created_at", "labels": "labelled_at"}


def latest_time(folder: Path) -> datetime | None:
    """The latest time any input table of `folder` records (one streaming pass a table)."""
    found = []
    for table, column in TIME_COLUMNS.items():
        path = find_table(folder, table)
        if path is None:
            continue
        scan = scan_table(path)
        stored = scan.collect_schema().get(column)
        if stored is None:
            continue
        with contextlib.suppress(TypeError, pl.exceptions.PolarsError):  # validate says why
            found.append(scan.select(converted(column, stored, TS).max()).collect().item())
    known = [t for t in found if t is not None]
    return max(known) if known else None


def check_dates(decisions: pl.DataFrame, latest: datetime | None, file: str) -> None:
    """Refuse decisions dated after the data's latest time plus TOLERANCE, or after the input
    contract's plausible window (the labels table must stay loadable)."""
    window = TimeWindow.from_env()
    floor, ceiling = window.bounds()
    early = decisions.filter(pl.col("decided_at") < pl.lit(floor, dtype=TS))
    if early.height:
        row = early.row(0, named=True)
        raise UserError(
            f"{file}: {row_name(row['row'], row['account_id'])}: decided_at "
            f"{row['decided_at']:%Y-%m-%d} is before {floor:%Y-%m-%d} ({window.describe()})"
        )
    limit = min(latest + TOLERANCE, ceiling) if latest else ceiling
    late = decisions.filter(pl.col("decided_at") > pl.lit(limit, dtype=TS))
    if late.height:
        row = late.row(0, named=True)
        raise UserError(
            f"{file}: {row_name(row['row'], row['account_id'])}: decided_at "
            f"{row['decided_at']:%Y-%m-%d %H:%M} is after {limit:%Y-%m-%d %H:%M} (the data's "
            f"latest time plus {TOLERANCE.days} days, at most now + {window.ahead}); "
            f"{late.height} such decision(s) refused"
        )


def check_conflicts(decisions: pl.DataFrame, log: pl.DataFrame, file: str) -> None:
    """Two different decisions for one account at one instant: an error naming both rows."""
    seen = decisions.select("row", "account_id", "decided_at", "decision")
    pairs = seen.join(seen, on=["account_id", "decided_at"], suffix="_other").filter(
        (pl.col("decision") != pl.col("decision_other")) & (pl.col("row") < pl.col("row_other"))
    )
    if pairs.height:
        p = pairs.sort("row", "row_other").row(0, named=True)
        raise UserError(
            f"{file}: {row_name(p['row'], p['account_id'])} ({p['decision']}) and row "
            f"{p['row_other'] + 2} ({p['decision_other']}) decide the same account at the same "
            f"time {p['decided_at']:%Y-%m-%d %H:%M:%S}; keep one"
        )
    logged = log.select("account_id", "decided_at", "decision", "source_file")
    clash = seen.join(logged, on=["account_id", "decided_at"], suffix="_logged").filter(
        pl.col("decision") != pl.col("decision_logged")
    )
    if clash.height:
        c = clash.sort("row").row(0, named=True)
        raise UserError(
            f"{file}: {row_name(c['row'], c['account_id'])} ({c['decision']}) conflicts with "
            f"the {c['decision_logged']!r} decision at the same time already merged from "
            f"{c['source_file']}; keep one"
        )


def known_accounts(data: Path) -> pl.Series:
    """The account ids of data folder `data` (UserError when it is not one)."""
    accounts = find_table(data, "accounts") if data.is_dir() else None
    if accounts is None:
        raise UserError(f"{data}: not a data folder (no accounts table)")
    return read_table(accounts)["account_id"].cast(pl.String)


def merge_feedback(decisions_file: Path, data: Path) -> FeedbackResult:
    """Merge a reviewers' decisions CSV into the labels of data folder `data` (module doc)."""
    data = Path(data)
    decisions = read_decisions(Path(decisions_file), known_accounts(data))
    check_dates(decisions, latest_time(data), str(decisions_file))
    return merge_decisions(decisions, data, Path(decisions_file).name, str(decisions_file))


def at_snapshot(decisions: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Review decisions dated in the data's clock: at the snapshot of the list they judged,
    each `id` microseconds after REVIEW_EPOCH before it (so the order made is kept, no two
    share an instant, and a retrain at that snapshot knows them; the wall-clock time stays
    in decisions.sqlite)."""
    start = as_of - REVIEW_EPOCH
    return decisions.with_columns(
        decided_at=pl.lit(start, dtype=TS) + pl.duration(microseconds=pl.col("id"))
    ).drop("id")


def merge_review(list_folder: Path, data: Path | None = None) -> FeedbackResult:
    """Merge the decisions `ringwatch review` recorded beside a list (decisions.sqlite) into
    the labels of `data` (default: the data folder the list was scored on)."""
    from detection.review.listing import read_manifest
    from detection.review.store import read_decisions as read_review

    list_folder = Path(list_folder)
    manifest = read_manifest(list_folder)
    data = Path(data or manifest.get("inputs", {}).get("source") or "")
    decisions = read_review(list_folder)
    unknown = decisions.filter(~pl.col("account_id").is_in(known_accounts(data).implode()))
    if unknown.height:
        raise UserError(f"{list_folder}: account {unknown['account_id'][0]!r} is not in {data}")
    as_of = datetime.fromisoformat(manifest["as_of"]).astimezone(UTC)
    source = f"review:{list_folder.name}"
    return merge_decisions(at_snapshot(decisions, as_of), data, source)


def merge(decisions: Path | None, data: Path | None, from_review: Path | None) -> FeedbackResult:
    """`ringwatch feedback`: a decisions CSV into `data`, or a list's review decisions."""
    if (decisions is None) == (from_review is None):
        raise UserError("give either a decisions CSV or --from-review LIST_FOLDER")
    if from_review is not None:
        return merge_review(from_review, data)
    if data is None:
        raise UserError("--data DATA_FOLDER is needed with a decisions CSV")
    return merge_feedback(decisions, data)


def merge_decisions(
    decisions: pl.DataFrame, data: Path, source: str, file: str | None = None
) -> FeedbackResult:
    """Append checked decisions (account_id, decision, decided_at, reviewer, note, reason) to
    the labels and the log of `data`, skipping those merged before. Decisions read from a
    CSV file (`file`; they carry their row numbers) are checked against the log first."""
    log_path = data / LOG
    with locked(data / ".labels.lock"):
        log = pl.read_parquet(log_path) if log_path.exists() else pl.DataFrame(schema=LOG_SCHEMA)
        if file is not None:
            check_conflicts(decisions, log, file)
        rows = new_log_rows(decisions, log, source)
        labels = label_rows(rows).filter(~pl.col("decision_id").is_in(written_ids(data).implode()))
        labels_path = find_table(data, "labels") or data / "labels.parquet"
        if labels.height:
            labels_path = append_labels(data, labels)
        with atomic_file(log_path) as tmp:
            pl.concat([log, rows], how="diagonal_relaxed").write_parquet(tmp)
    return FeedbackResult(
        labels_added=labels.height,
        escalated=int((rows["decision"] == "escalated").sum()),
        skipped=decisions.height - rows.height,
        labels_path=labels_path,
        log_path=log_path,
    )
