"""Bitcoin-Alpha trust ratings with REV2's fraud labels: signed, weighted, timestamped.

Sources (no header rows): `alpha_network.csv` = rater, ratee, rating (−10..+10), unix time;
`alpha_gt.csv` = user, label (−1 = fraudulent, +1 = benign; 240 rows = 237 users, as three
users are listed twice with the same label).

Mapping: user k → account `t0000k`; `created_at` = the user's first rating given or received
(the platform's registration time is not in the data); each rating → an edge `rates`
(rater → ratee, weight = rating, ts) and two events so that behavioural features see both sides:
`rate` on the rater (target_id = ratee, amount = rating) and, on the ratee, `report_received`
for a negative rating (in the contract's vocabulary a negative trust rating is another user
reporting the account) or `rating_received` for a positive one (target_id = rater, amount =
rating). Labels: −1 → 1 (reason `fraud`), +1 → 0; `labelled_at`
is left empty because the release does not say when the labels were decided.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from experiments.importers.common import (
    malformed,
    read_or_fail,
    source_file,
    unix_seconds,
)

NETWORK, TRUTH = "alpha_network.csv", "alpha_gt.csv"
RELATION = "rates"
NOTES = (
    "labels exist for 237 users only (240 rows, 3 duplicated); evaluate on those",
    "created_at is the first rating given or received, not a registration time",
    "REV2 derived the labels from ratings that are part of this network (see data README)",
)


def _csv(path: Path, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A header-less CSV with the given columns; a wrong column count or type is a UserError."""
    frame = read_or_fail(
        path, lambda p: pl.read_csv(p, has_header=False, infer_schema=False), "a header-less CSV"
    )
    if frame.width != len(schema):
        expected = f"expected {len(schema)} columns ({', '.join(schema)}), found {frame.width}"
        raise malformed(path, expected)
    frame = frame.rename(dict(zip(frame.columns, schema, strict=True)))
    for name, dtype in schema.items():
        parsed = frame[name].str.strip_chars().cast(dtype, strict=False)
        broken = parsed.is_null() & frame[name].is_not_null()
        if broken.any() or frame[name].null_count():
            examples = frame.filter(broken)[name].head(3).to_list()
            raise malformed(path, f"column {name}: values that are not {dtype} (e.g. {examples})")
        frame = frame.with_columns(parsed.alias(name))
    return frame


def _account(column: str) -> pl.Expr:
    """A numeric user id as the account id (`t` + zero-padded number)."""
    return pl.lit("t") + pl.col(column).cast(pl.String).str.zfill(5)


def read(source_dir: Path) -> dict[str, pl.DataFrame]:
    """The Bitcoin-Alpha folder as contract tables (accounts, events, edges, labels)."""
    network_path = source_file(source_dir, NETWORK)
    truth_path = source_file(source_dir, TRUTH)
    ratings = _csv(
        network_path,
        {"rater": pl.Int64(), "ratee": pl.Int64(), "rating": pl.Float64(), "time": pl.Int64()},
    )
    truth = _csv(truth_path, {"user": pl.Int64(), "label": pl.Int64()})
    if not truth["label"].is_in([-1, 1]).all():
        raise malformed(truth_path, "column label: values other than -1 and +1")
    truth = truth.unique()  # the release lists 3 users twice, with the same label
    conflicting = truth.filter(pl.col("user").is_duplicated())["user"].unique().to_list()
    if conflicting:
        raise malformed(truth_path, f"users with both labels (e.g. {conflicting[:3]})")
    ratings = ratings.with_columns(
        src=_account("rater"), dst=_account("ratee"), ts=unix_seconds("time")
    )
    edges = ratings.select("src", "dst", relation=pl.lit(RELATION), weight="rating", ts="ts")
    given = ratings.select(
        account_id="src", ts="ts", action=pl.lit("rate"), target_id="dst", amount="rating"
    )
    received = ratings.select(
        account_id="dst",
        ts="ts",
        action=pl.when(pl.col("rating") < 0)
        .then(pl.lit("report_received"))
        .otherwise(pl.lit("rating_received")),
        target_id="src",
        amount="rating",
    )
    events = pl.concat([given, received]).sort("account_id", "ts", "action")
    first_seen = events.group_by("account_id").agg(created_at=pl.col("ts").min())
    labelled = truth.select(account_id=_account("user"))
    accounts = (
        pl.concat([first_seen.select("account_id"), labelled])
        .unique()
        .join(first_seen, on="account_id", how="left")
        .sort("account_id")
    )
    labels = truth.select(
        account_id=_account("user"),
        label=(pl.col("label") == -1).cast(pl.Int8),
        reason=pl.when(pl.col("label") == -1).then(pl.lit("fraud")),
    ).sort("account_id")
    return {"accounts": accounts, "events": events, "edges": edges, "labels": labels}
