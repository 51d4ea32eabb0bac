"""Social: who an account follows and engages with, and who follows it (polars aggregates)."""

from __future__ import annotations

import polars as pl

from features.behaviour.seam import CODE, ENGAGEMENTS


def herfindahl(counts: pl.Expr) -> pl.Expr:
    """Herfindahl index of a group's counts: the sum of squared shares (1 = a single target,
    1/k = spread evenly over k targets)."""
    return (counts * counts).sum() / (counts.sum() * counts.sum())


def engagement_features(ev: pl.DataFrame) -> pl.DataFrame:
    """Per account: distinct targets of its likes/comments/shares and how concentrated they are."""
    return (
        ev.lazy()
        .filter(pl.col("code").is_in(ENGAGEMENTS) & pl.col("target").is_not_null())
        .group_by("aidx", "target")
        .agg(pl.len().alias("n"))
        .group_by("aidx")
        .agg(
            pl.len().alias("engage_distinct_targets"),
            (pl.col("n").max() / pl.col("n").sum()).alias("engage_top_target_share"),
            herfindahl(pl.col("n").cast(pl.Float64)).alias("engage_target_hhi"),
        )
        .collect()
    )


def follow_pairs(ev: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """Distinct (src, dst) account pairs of follow events whose target is a known account.

    `keys` maps the hashed account id (`target`) to its position (`dst`); self-follows drop.
    """
    return (
        ev.lazy()
        .filter((pl.col("code") == CODE["follow"]) & pl.col("target").is_not_null())
        .select(pl.col("aidx").alias("src"), "target")
        .join(keys.lazy(), on="target", how="inner")
        .select("src", "dst")
        .filter(pl.col("src") != pl.col("dst"))
        .unique()
        .collect()
    )


def follow_counts(pairs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Accounts followed and followed back per follower (src, follows_given, mutual) and
    followers per account (dst, follows_received). Every reverse pair of `pairs` must be in
    `pairs` too for `mutual` to be complete (then counts of disjoint pair sets add up)."""
    lazy = pairs.lazy()
    back = lazy.join(
        lazy.select(pl.col("dst").alias("src"), pl.col("src").alias("dst")),
        on=["src", "dst"],
        how="semi",
    )
    given = lazy.group_by("src").agg(pl.len().alias("follows_given"))
    mutual = back.group_by("src").agg(pl.len().alias("mutual"))
    given = given.join(mutual, on="src", how="left")
    received = lazy.group_by("dst").agg(pl.len().alias("follows_received"))
    return given.collect(), received.collect()


def follow_ratios(given: pl.DataFrame, received: pl.DataFrame) -> pl.DataFrame:
    """Per account: follows_given, follow_back_ratio and follows_received from the counts."""
    out = given.lazy().select(
        pl.col("src").alias("aidx"),
        "follows_given",
        (pl.col("mutual").fill_null(0) / pl.col("follows_given")).alias("follow_back_ratio"),
    )
    received = received.lazy().rename({"dst": "aidx"})
    return out.join(received, on="aidx", how="full", coalesce=True).collect()


def follow_features(pairs: pl.DataFrame) -> pl.DataFrame:
    """Per account: accounts followed, accounts following it, and the share followed back."""
    return follow_ratios(*follow_counts(pairs))
