"""The review queue: candidates joined with their latest decision, filtered and paginated."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

PAGE_SIZE = 50
STATUSES = ("all", "undecided", "decided", "closed", "cleared", "escalated")
DECIDED_COLUMNS = {"decision": pl.String, "reviewer": pl.String, "decided_at": pl.String}


@dataclass(frozen=True)
class Filters:
    """What the reviewer asked the queue to show."""

    action: str = "all"  # close / review / watch / all
    status: str = "undecided"  # one of STATUSES
    q: str = ""  # substring of the account id, ring id or a reason
    page: int = 1

    @classmethod
    def parse(cls, query: dict[str, str]) -> Filters:
        """Filters from query parameters; unknown values fall back to the defaults."""
        action = query.get("action", "all")
        status = query.get("status", "undecided")
        try:
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            page = 1
        return cls(
            action if action in ("all", "close", "review", "watch") else "all",
            status if status in STATUSES else "undecided",
            query.get("q", "").strip()[:200],
            page,
        )


def with_decisions(frame: pl.DataFrame, latest: pl.DataFrame, key: str) -> pl.DataFrame:
    """`frame` with the latest decision (decision, reviewer, decided_at, scope) on `key`."""
    cols = latest.select(
        pl.col("account_id").alias(key), "decision", "reviewer", "decided_at", "scope"
    )
    return frame.join(cols, on=key, how="left", maintain_order="left")


def status_filter(status: str) -> pl.Expr:
    """The rows a status filter keeps."""
    if status == "undecided":
        return pl.col("decision").is_null()
    if status == "decided":
        return pl.col("decision").is_not_null()
    if status in ("closed", "cleared", "escalated"):
        return pl.col("decision") == status
    return pl.lit(True)


def reason_text(frame: pl.DataFrame) -> pl.Expr:
    """The reasons of a row as one lower-case string (for the search box)."""
    if "reasons" not in frame.columns:
        return pl.lit("")
    return (
        pl.col("reasons")
        .list.eval(pl.element().struct.field("description"))
        .list.join(" ")
        .fill_null("")
    )


def filter_queue(candidates: pl.DataFrame, latest: pl.DataFrame, f: Filters) -> pl.DataFrame:
    """The candidates (rank order) with their latest decision, as `f` asks."""
    frame = with_decisions(candidates, latest, "account_id")
    if f.action != "all":
        frame = frame.filter(pl.col("action") == f.action)
    frame = frame.filter(status_filter(f.status))
    if f.q:
        needle = f.q.lower()
        text = pl.concat_str(
            pl.col("account_id"), pl.col("ring_id").fill_null(""), reason_text(frame),
            separator=" ",
        ).str.to_lowercase()  # fmt: skip
        frame = frame.filter(text.str.contains(needle, literal=True))
    return frame.sort("rank")


def page_of(frame: pl.DataFrame, page: int, size: int = PAGE_SIZE) -> tuple[pl.DataFrame, int]:
    """(rows of page `page`, number of pages); a page past the end shows the last one."""
    pages = max(1, -(-frame.height // size))
    page = min(page, pages)
    return frame.slice((page - 1) * size, size), pages


def ring_queue(rings: pl.DataFrame, candidates: pl.DataFrame, latest: pl.DataFrame) -> pl.DataFrame:
    """Rings in list order with how many of their members are decided, and how."""
    if rings.height == 0:
        return rings
    members = (
        rings.select("ring_id", "members").explode("members").rename({"members": "account_id"})
    )
    judged = (
        with_decisions(members, latest, "account_id")
        .group_by("ring_id")
        .agg(
            decided=pl.col("decision").is_not_null().sum().cast(pl.Int64),
            closed=(pl.col("decision") == "closed").sum().cast(pl.Int64),
            cleared=(pl.col("decision") == "cleared").sum().cast(pl.Int64),
            escalated=(pl.col("decision") == "escalated").sum().cast(pl.Int64),
            reviewers=pl.col("reviewer").drop_nulls().unique().sort(),
        )
    )
    return rings.join(judged, on="ring_id", how="left", maintain_order="left")


def counts(candidates: pl.DataFrame, latest: pl.DataFrame) -> dict[str, int]:
    """How many listed accounts are decided, per decision, and how many remain."""
    listed = with_decisions(candidates.select("account_id"), latest, "account_id")
    out = {d: int((listed["decision"] == d).sum()) for d in ("closed", "cleared", "escalated")}
    out["undecided"] = int(listed["decision"].is_null().sum())
    return out
