"""The behavioural feature builder: one numeric row per account from its events up to `as_of`.

Accounts are split into stable account-hash buckets; each bucket's events are read, normalised
and turned into per-account features on their own (an account's own events all fall in its
bucket). Cross-account features (identifier crowding, follows received and followed back,
headlines shared with other accounts, new identifiers that other established accounts took up
too) come from small distinct-pair tables gathered over all buckets. The result does not
depend on the bucket count (floats up to last-bit rounding).

Accounts without events: counts are 0 (and so are crowding and payment_total: nobody shares
an identifier it never used); means, shares, ratios, timing and recency are null (undefined).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from features.behaviour.activity import activity_features
from features.behaviour.buckets import account_buckets, bucket_count
from features.behaviour.content import content_features, duplicate_features
from features.behaviour.identity import IDENTIFIERS, identifier_pairs, identity_features
from features.behaviour.kernels import DAY
from features.behaviour.money import money_features
from features.behaviour.novelty import NOVEL_IDENTIFIERS, new_sharers, novelty_features
from features.behaviour.reports import report_features
from features.behaviour.seam import account_index, as_of_us, event_source, hashed
from features.behaviour.social import (
    engagement_features,
    follow_features,
    follow_pairs,
)
from features.behaviour.specs import integer_columns, rows
from features.behaviour.spill import bucket_frames
from features.behaviour.timing import timing_features
from features.config import BehaviourConfig

ZERO_FILLED_FLOATS = ("payment_total", *(f"{p}_crowding_mean" for p in IDENTIFIERS.values()))
PAIR_KINDS = (*IDENTIFIERS, "headline", "follow", *(f"new_{c}" for c in NOVEL_IDENTIFIERS))


def join_all(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Per-account frames joined on aidx (the first holds every account of the bucket)."""
    out = frames[0].lazy()
    for frame in frames[1:]:
        out = out.join(frame.lazy(), on="aidx", how="left")
    return out.collect()


def bucket_features(
    ev: pl.DataFrame, keys: pl.DataFrame, n_accounts: int, as_of: int, config: BehaviourConfig
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """Per-account features of one bucket, and its distinct-pair tables for the cross stage."""
    content, headline_pairs = content_features(ev)
    novelty, novel_pairs = novelty_features(ev, as_of, config.novelty_days)
    local = join_all(
        [
            activity_features(ev, as_of, config.windows_days),
            timing_features(ev, n_accounts, config),
            money_features(ev),
            report_features(ev),
            engagement_features(ev),
            content,
            novelty,
        ]
    )
    pairs = {kind: identifier_pairs(ev, kind) for kind in IDENTIFIERS}
    pairs["headline"] = headline_pairs
    pairs["follow"] = follow_pairs(ev, keys)
    return local, pairs | novel_pairs


def cross_features(pairs: dict[str, list[pl.DataFrame]]) -> list[pl.DataFrame]:
    """Features that compare an account with all others, from the gathered pair tables."""
    out = [
        identity_features(pl.concat(pairs[k], how="vertical_relaxed"), p)
        for k, p in IDENTIFIERS.items()
    ]
    out.append(duplicate_features(pl.concat(pairs["headline"], how="vertical_relaxed")))
    out.append(follow_features(pl.concat(pairs["follow"], how="vertical_relaxed")))
    out += [
        new_sharers(pl.concat(pairs[f"new_{c}"], how="vertical_relaxed"), p)
        for c, p in NOVEL_IDENTIFIERS.items()
    ]
    return out


def ratio(numerator: str, denominator: str) -> pl.Expr:
    """numerator / denominator, null where the denominator is 0 or null."""
    den = pl.col(denominator)
    return pl.when(den > 0).then(pl.col(numerator) / den)


def derived(as_of: int) -> list[pl.Expr]:
    """Features combining groups or account attributes: ages, recency, rates."""
    age = (as_of - pl.col("created_us")) / DAY
    return [
        ratio("events_total", "active_days").alias("events_per_active_day"),
        ((as_of - pl.col("first_us")) / DAY).alias("days_since_first_event"),
        ((as_of - pl.col("last_us")) / DAY).alias("days_since_last_event"),
        age.alias("account_age_days"),
        ((pl.col("first_post_us") - pl.col("created_us")) / DAY).alias("first_post_age_days"),
        pl.when(age.is_not_null())
        .then(pl.col("followers") / pl.max_horizontal(age, pl.lit(1.0)))
        .alias("followers_per_day"),
        ratio("n_chargeback", "n_payment").alias("chargeback_rate"),
        ratio("n_report_received", "n_post").alias("reports_per_post"),
    ]


def assemble(
    index: pl.DataFrame, local: pl.DataFrame, cross: list[pl.DataFrame], as_of: int, config
) -> pl.DataFrame:
    """All accounts in account_id order with every feature column, defaults filled, typed."""
    out = index.lazy().join(local.lazy(), on="aidx", how="left")
    for frame in cross:
        out = out.join(frame.lazy(), on="aidx", how="left")
    integers = integer_columns(config.windows_days)
    names = [name for name, *_ in rows(config.windows_days)]
    typed = [
        pl.col(n).fill_null(0).cast(pl.Int64)
        if n in integers
        else pl.col(n).cast(pl.Float64).fill_nan(None).fill_null(0.0)
        if n in ZERO_FILLED_FLOATS
        else pl.col(n).cast(pl.Float64).fill_nan(None)
        for n in names
    ]
    return (
        out.with_columns(derived(as_of)).select("account_id", *typed).sort("account_id").collect()
    )


def build_behaviour_features(
    accounts: pl.DataFrame,
    events: pl.DataFrame | pl.LazyFrame,
    as_of: datetime,
    config: BehaviourConfig = BehaviourConfig(),
) -> pl.DataFrame:
    """One row per account of `accounts` (sorted by account_id): account_id plus the numeric
    behavioural features of `features.behaviour.specs`, from events at or before `as_of`.

    `events` may be a LazyFrame (the Dataset's scan, or `pl.scan_parquet`): with more than one
    bucket it is then read once, in batches, into temporary per-bucket files, so memory holds
    one bucket at a time.
    """
    moment = as_of_us(as_of)
    index = account_index(accounts)
    n_events = event_source(events, moment).select(pl.len()).collect().item()
    n_buckets = bucket_count(n_events, config)
    buckets = account_buckets(index["account_id"], n_buckets)
    keys = index.select(hashed("account_id").alias("target"), pl.col("aidx").alias("dst"))
    locals_: list[pl.DataFrame] = []
    pairs: dict[str, list[pl.DataFrame]] = {kind: [] for kind in PAIR_KINDS}
    chunk = config.spill_chunk_events
    for ev in bucket_frames(events, moment, index, buckets, n_buckets, chunk):
        local, bucket_pairs = bucket_features(ev, keys, index.height, moment, config)
        del ev
        locals_.append(local)
        for kind, frame in bucket_pairs.items():
            pairs[kind].append(frame)
    local = pl.concat(locals_, how="vertical_relaxed", rechunk=True)
    return assemble(index, local, cross_features(pairs), moment, config)
