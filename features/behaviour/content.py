"""Content: what an account's headlines look like, and whether other accounts post the same ones.

One numba pass over each headline's UTF-8 bytes (`text_kernels.headline_stats`) counts its
characters, capitals, digits and marks, finds clickbait phrases by word tokens, and hashes its
normalised token set. Near-duplicates are headlines with the same signature: the set of
case-folded word tokens, so "Top 10 tips!" and "top 7 TIPS" collide while word order, numbers
and punctuation are ignored. It is exact set equality, not MinHash similarity: one changed
word makes a new signature, a deliberate trade for linear cost on tens of millions of posts.
Scripts written without spaces (CJK) give one token per run, so there only exact repeats of a
run match.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl
import pyarrow as pa

from features.behaviour.identity import with_crowding
from features.behaviour.seam import CODE, string_buffers
from features.behaviour.text_kernels import (
    HEADLINE_COLUMNS,
    headline_stats,
    phrase_filter,
    token_sequences,
)

#: A small curated lexicon of clickbait phrasing, matched as whole word sequences
#: (case-folded; punctuation such as apostrophes and hyphens separates words).
CLICKBAIT_PHRASES = (
    "you won't believe",
    "you wont believe",
    "won't believe",
    "can't believe",
    "what happened next",
    "what happens next",
    "shocking",
    "shocked",
    "unbelievable",
    "jaw-dropping",
    "mind-blowing",
    "will blow your mind",
    "doctors hate",
    "one weird trick",
    "this one trick",
    "weird trick",
    "secret",
    "secrets",
    "exposed",
    "the truth about",
    "gone wrong",
    "you need to see",
    "must see",
    "before it's deleted",
    "they don't want you to know",
    "click here",
    "miracle",
    "will shock you",
    "goes viral",
    "epic fail",
)


@cache
def lexicon() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The phrases as CSR token-hash sequences, plus the screen of their first tokens."""
    bounds, tokens = token_sequences(*string_buffers(pl.Series(CLICKBAIT_PHRASES)))
    return bounds, tokens, phrase_filter(bounds, tokens)


def per_post(posts: pl.DataFrame) -> pl.DataFrame:
    """One row per post: aidx, `non_blank`, the other `HEADLINE_COLUMNS` counts (null for posts
    without a headline) and `sig` (null for headlines without a word token)."""
    stats, sig, has = headline_stats(*string_buffers(posts["text"]), *lexicon())
    blank = stats[:, 0] == 0
    columns = {"aidx": posts["aidx"], "non_blank": stats[:, 0]}
    for i, name in enumerate(HEADLINE_COLUMNS[1:], start=1):
        columns[name] = pl.from_arrow(pa.array(stats[:, i], mask=blank))
    columns["sig"] = pl.from_arrow(pa.array(sig, mask=~has))
    return pl.DataFrame(columns)


def headline_features(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Per account with posts: headline count, emptiness and shape statistics (the counts are
    null on posts without a headline, so plain means run over headlines only)."""
    chars = pl.col("chars").sum()

    def per_char(name: str) -> pl.Expr:
        return pl.when(chars > 0).then(pl.col(name).sum() / chars)

    signed = pl.col("sig").count()
    return rows.group_by("aidx").agg(
        pl.col("non_blank").sum().alias("headlines"),
        (1 - pl.col("non_blank").mean()).alias("headline_empty_share"),
        pl.col("chars").mean().alias("headline_len_mean"),
        per_char("caps").alias("headline_caps_share"),
        per_char("digits").alias("headline_digit_share"),
        pl.col("exclaim").mean().alias("headline_exclaim_mean"),
        pl.col("question").mean().alias("headline_question_mean"),
        pl.col("hits").mean().alias("clickbait_hits_mean"),
        (pl.col("hits") > 0).mean().alias("clickbait_share"),
        pl.when(signed > 0)
        .then(pl.col("sig").drop_nulls().n_unique() / signed)
        .alias("headline_unique_ratio"),
    )


def content_features(ev: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Local headline features per account, and the (aidx, key, n) headline-signature pairs
    the cross-account near-duplicate share is computed from."""
    posts = ev.lazy().filter(pl.col("code") == CODE["post"]).select("aidx", "text").collect()
    rows = per_post(posts).lazy()
    local = headline_features(rows).collect()
    pairs = (
        rows.filter(pl.col("sig").is_not_null())
        .group_by("aidx", pl.col("sig").alias("key"))
        .agg(pl.len().alias("n"))
        .collect()
    )
    return local, pairs


def duplicate_features(pairs: pl.DataFrame) -> pl.DataFrame:
    """Per account: share of its tokenised headlines whose signature another account also used."""
    return crowded_duplicates(with_crowding(pairs.lazy()))


def crowded_duplicates(crowded: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    """duplicate_features from pairs that already carry `n_accounts` (the reduce half)."""
    shared = pl.col("n_accounts") > 1
    return (
        crowded.lazy()
        .group_by("aidx")
        .agg(
            (pl.col("n").filter(shared).sum() / pl.col("n").sum()).alias("headline_dup_other_share")
        )
        .collect()
    )
