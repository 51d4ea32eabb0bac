"""Changes between two lists: why an account left is told apart (score fell, capacity, cleared)."""

from __future__ import annotations

import polars as pl

from detection.diff import change_counts, diff_lists


def listed(rows: list[tuple[str, str, float, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["account_id", "action", "score", "rank"], orient="row"
    ).with_columns(ring_id=pl.lit(None, dtype=pl.String))


def test_why_an_account_left_the_list() -> None:
    before = listed(
        [("a", "close", 0.99, 1), ("b", "close", 0.99, 2), ("c", "review", 0.8, 3),
         ("d", "watch", 0.6, 4), ("e", "review", 0.75, 5)]
    )  # fmt: skip
    now = listed([("a", "close", 0.99, 1), ("e", "close", 0.95, 2), ("f", "close", 0.99, 3)])
    scores = pl.DataFrame(
        {"account_id": list("abcdef"), "score": [0.99, 0.99, 0.2, 0.99, 0.95, 0.99]}
    )
    changes = diff_lists(before, now, scores, cleared={"d"}, watch=0.5)
    kinds = dict(zip(changes["account_id"], changes["change"], strict=True))
    assert kinds == {"f": "new", "e": "escalated", "b": "at_capacity", "c": "score_fell",
                     "d": "cleared"}  # fmt: skip
    b = changes.filter(pl.col("account_id") == "b").row(0, named=True)
    assert b["score"] == 0.99 and b["previous_score"] == 0.99 and b["action"] is None
    counts = change_counts(changes)
    assert counts["dropped"] == 3 and counts["at_capacity"] == 1 and counts["new"] == 1
