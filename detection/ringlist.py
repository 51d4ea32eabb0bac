"""Rings among the candidates: members, evidence and scores reviewers act on ring by ring.

Also the links needed to draw a ring: which member used which shared identifier (device, IP,
payment instrument), which lockstep targets they acted on together, and explicit relations
between members.
"""

from __future__ import annotations

import polars as pl

#: Identifier columns of `events` that can bind ring members together.
IDENTIFIER_KINDS = ("device", "ip", "instrument")
LINKS_SCHEMA = {"account_id": pl.String, "kind": pl.String, "other": pl.String}


def rings_from_membership(membership: pl.DataFrame) -> pl.DataFrame:
    """A minimal rings table (ring_id, size, members, score) when only membership is known."""
    return (
        membership.group_by("ring_id")
        .agg(
            size=pl.len().cast(pl.Int64),
            members=pl.col("account_id").sort(),
            score=pl.col("ring_score").max(),
        )
        .sort("ring_id")
    )


def rings_among(candidates: pl.DataFrame, rings: pl.DataFrame | None) -> pl.DataFrame:
    """The rings with at least one listed member, strongest listed member first.

    Columns: ring_id, size, listed (members on the list), max_score / mean_score (members'
    calibrated scores), close/review/watch (members per suggested action), ring_score (the
    ring finder's density score), members, then every evidence column of `rings`.
    """
    inlist = candidates.filter(pl.col("ring_id").is_not_null())
    if rings is None:
        rings = rings_from_membership(inlist.select("account_id", "ring_id", pl.col("ring_score")))
    stats = inlist.group_by("ring_id").agg(
        listed=pl.len().cast(pl.Int64),
        max_score=pl.col("score").max(),
        mean_score=pl.col("score").mean(),
        best_rank=pl.col("rank").min(),
        **{a: (pl.col("action") == a).sum().cast(pl.Int64) for a in ("close", "review", "watch")},
    )
    evidence = [c for c in rings.columns if c not in ("ring_id", "size", "score", "members")]
    return (
        rings.join(stats, on="ring_id", how="inner")
        .select(
            "ring_id",
            "size",
            "listed",
            "max_score",
            "mean_score",
            "best_rank",
            "close",
            "review",
            "watch",
            pl.col("score").alias("ring_score"),
            "members",
            *evidence,
        )
        .sort(["best_rank", "ring_id"])
    )


def split_identifier(identifier: str) -> tuple[str | None, str]:
    """('device', 'abc') for 'device:abc'; (None, text) for a bare value (IPv6 stays whole)."""
    kind, sep, value = identifier.partition(":")
    if sep and kind in IDENTIFIER_KINDS:
        return kind, value
    return None, identifier


def ring_links(
    events: pl.DataFrame,
    edges: pl.DataFrame,
    members: list[str],
    identifiers: list[str],
    lockstep_targets: list[str] = (),
) -> pl.DataFrame:
    """(account_id, kind, other): a member used identifier `other` of `kind`, acted in lockstep
    on target `other` (kind 'lockstep'), or has an explicit relation to member `other`."""
    wanted = {kind: set() for kind in IDENTIFIER_KINDS}
    bare: set[str] = set()
    for identifier in identifiers:
        kind, value = split_identifier(identifier)
        (wanted[kind] if kind else bare).add(value)
    inside = pl.Series(members, dtype=pl.String).implode()
    mine = events.filter(pl.col("account_id").is_in(inside))
    parts = []
    for kind in IDENTIFIER_KINDS:
        values = pl.Series(sorted(wanted[kind] | bare), dtype=pl.String).implode()
        parts.append(
            mine.filter(pl.col(kind).is_in(values)).select(
                "account_id", pl.lit(kind).alias("kind"), pl.col(kind).alias("other")
            )
        )
    targets = pl.Series(sorted(lockstep_targets), dtype=pl.String).implode()
    parts.append(
        mine.filter(pl.col("target_id").is_in(targets)).select(
            "account_id", pl.lit("lockstep").alias("kind"), pl.col("target_id").alias("other")
        )
    )
    parts.append(
        edges.filter(pl.col("src").is_in(inside) & pl.col("dst").is_in(inside)).select(
            pl.col("src").alias("account_id"),
            pl.col("relation").alias("kind"),
            pl.col("dst").alias("other"),
        )
    )
    frames = [p.select([pl.col(c).cast(t) for c, t in LINKS_SCHEMA.items()]) for p in parts]
    return pl.concat(frames).unique().sort(["account_id", "kind", "other"])
