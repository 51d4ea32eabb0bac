"""Change and novelty: what an account does in its recent window that it never did before.

Patterns nobody has labelled yet (an account taken over and turned to abuse, a dormant account
woken up) show first as a break with the account's own past, whatever the abuse is: events from
devices, IPs and payment instruments it never used, actions it never took, a first payment
after a long history, payments right after profile edits, a change in how much it does. Each
is measured against the account's own events only, so it streams per account-hash bucket.

The recent window is the last `novelty_days` days before the snapshot (events with
ts > as_of - novelty_days); the account's *history* is everything at or before the window's
start. Shares and the change ratio need a history: null for accounts with none (they have no
past to break with), and null when the window holds no event of the kind shared.
"""

from __future__ import annotations

import polars as pl

from features.behaviour.identity import with_crowding
from features.behaviour.kernels import DAY, HOUR
from features.behaviour.seam import CODE

#: Identifier columns whose first use by an account is tracked, and their feature prefix.
NOVEL_IDENTIFIERS = {"device": "device", "ip": "ip", "instrument": "instrument"}
#: Columns whose values are "new" when the account's first use falls inside the window.
NOVEL_COLUMNS = {**NOVEL_IDENTIFIERS, "code": "action"}


def first_uses(ev: pl.DataFrame, column: str, start: int) -> pl.DataFrame:
    """Distinct (aidx, value) pairs of `column` used inside the window: when the account first
    used the value (`first_us`) and how many of its recent events carry it (`n_recent`)."""
    recent = pl.col("ts") > start
    return (
        ev.lazy()
        .filter(pl.col(column).is_not_null())
        .group_by("aidx", pl.col(column).alias("key"))
        .agg(pl.col("ts").min().alias("first_us"), recent.sum().alias("n_recent"))
        .filter(pl.col("n_recent") > 0)
        .collect()
    )


def new_share(uses: pl.DataFrame, prefix: str, start: int) -> pl.DataFrame:
    """Per account with recent values: the share of its recent events on values it first
    used inside the window (never before)."""
    n_recent = pl.col("n_recent")
    share = n_recent.filter(pl.col("first_us") > start).sum() / n_recent.sum()
    return uses.group_by("aidx").agg(share.alias(f"new_{prefix}_share"))


def new_pairs(uses: pl.DataFrame, established: pl.DataFrame, start: int) -> pl.DataFrame:
    """Distinct (aidx, key) pairs of identifiers that accounts with a history (`established`:
    one aidx column) first used inside the window, for the cross-account sharers count."""
    fresh = uses.lazy().filter(pl.col("first_us") > start).select("aidx", "key")
    return fresh.join(established.lazy(), on="aidx", how="semi").collect()


def crowded_new(crowded: pl.LazyFrame | pl.DataFrame, prefix: str) -> pl.DataFrame:
    """Per account: the most other established accounts that newly took up, inside the window,
    one of the identifiers it newly took up (crews moving into old accounts share new kit),
    from new-identifier pairs that already carry `n_accounts` (with_crowding)."""
    others = pl.col("n_accounts").max() - 1
    return crowded.lazy().group_by("aidx").agg(others.alias(f"new_{prefix}_sharers")).collect()


def new_sharers(pairs: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """crowded_new of the gathered new-identifier pairs of every bucket."""
    return crowded_new(with_crowding(pairs.lazy()), prefix)


def history(ev: pl.DataFrame, start: int, days: int) -> pl.DataFrame:
    """Per account: whether it has a history before the window, the activity change ratio,
    and when it first paid (µs), for the payment-history features."""
    before = pl.col("ts") <= start
    first_us = pl.col("ts").min()
    history_days = pl.max_horizontal((start - first_us) / DAY, pl.lit(1.0))
    rate_before = before.sum() / history_days
    rate_recent = (~before).sum() / days
    return (
        ev.lazy()
        .group_by("aidx")
        .agg(
            before.any().alias("has_history"),
            pl.when(before.any()).then(rate_recent / rate_before).alias("activity_change_ratio"),
            first_us.alias("novelty_first_us"),
            pl.col("ts").filter(pl.col("code") == CODE["payment"]).min().alias("first_pay_us"),
        )
        .collect()
    )


def edit_to_payment(ev: pl.DataFrame) -> pl.DataFrame:
    """Per account that paid after a profile edit: hours from the latest edit at or before a
    payment to that payment, the shortest over its payments."""
    code = pl.col("code")
    payments = ev.lazy().filter(code == CODE["payment"]).select("aidx", "ts").sort("ts")
    edits = (
        ev.lazy()
        .filter(code == CODE["profile_edit"])
        .select("aidx", pl.col("ts").alias("edit_us"))
        .sort("edit_us")
    )
    matched = payments.join_asof(  # both sides sorted by time, so within every account too
        edits,
        left_on="ts",
        right_on="edit_us",
        by="aidx",
        strategy="backward",
        check_sortedness=False,
    )
    return (
        matched.filter(pl.col("edit_us").is_not_null())
        .group_by("aidx")
        .agg(((pl.col("ts") - pl.col("edit_us")).min() / HOUR).alias("edit_to_payment_hours"))
        .collect()
    )


def novelty_features(
    ev: pl.DataFrame, as_of: int, days: int
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """Per account with events: the novelty shares, activity change ratio, first-payment
    history and edit-to-payment time (see the module doc for nulls); and per identifier kind
    the (aidx, key) pairs newly taken up by established accounts, for `new_sharers`."""
    start = as_of - days * DAY
    base = history(ev, start, days)
    established = base.filter(pl.col("has_history")).select("aidx")
    out = base.lazy()
    pairs = {}
    for column, prefix in NOVEL_COLUMNS.items():
        uses = first_uses(ev, column, start)
        out = out.join(new_share(uses, prefix, start).lazy(), on="aidx", how="left")
        if column in NOVEL_IDENTIFIERS:
            pairs[f"new_{column}"] = new_pairs(uses, established, start)
    out = out.join(edit_to_payment(ev).lazy(), on="aidx", how="left")
    shares = [f"new_{prefix}_share" for prefix in NOVEL_COLUMNS.values()]
    first_pay = pl.col("first_pay_us")
    frame = out.select(
        "aidx",
        *(pl.when(pl.col("has_history")).then(pl.col(name)).alias(name) for name in shares),
        "activity_change_ratio",
        ((as_of - first_pay) / DAY).alias("days_since_first_payment"),
        ((first_pay - pl.col("novelty_first_us")) / DAY).alias("history_days_before_payment"),
        "edit_to_payment_hours",
    ).collect()
    return frame, pairs
