"""Headline kernels against their plain-Python twins, and the text rules against Unicode."""

from __future__ import annotations

import unicodedata

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from features.behaviour import reference as ref
from features.behaviour import text_kernels as tk
from features.behaviour.content import CLICKBAIT_PHRASES, lexicon
from features.behaviour.seam import string_buffers

PHRASES = [ref.word_tokens(p) for p in CLICKBAIT_PHRASES]
PIECES = (
    *CLICKBAIT_PHRASES,
    "You WON\u2019T Believe",
    "SHOCKING",
    "Top 10",
    "ÉCOLE école",
    "Ωμέγα ΔΕΛΤΑ",
    "Москва МОСКВА",
    "中文标题",
    "ＡＢＣ１２",
    "！？",
    "🙂",
    "\u3000",
    "\u00a0",
    "×÷",
)
HEADLINES = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(alphabet="aZ9!? -'.\té\u2019Я", max_size=8)),
    max_size=6,
).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), HEADLINES), max_size=10))
def test_headline_stats_match_reference(texts) -> None:
    offsets, data = string_buffers(pl.Series(texts, dtype=pl.String))
    stats, sig, has = tk.headline_stats(offsets, data, *lexicon())
    for row, s, h, text in zip(stats, sig, has, texts, strict=True):
        want = ref.headline_stats(text or "", PHRASES)
        assert (*row.tolist(), int(s) if h else None) == want, text


@settings(max_examples=60, deadline=None)
@given(st.lists(HEADLINES, max_size=8))
def test_token_sequences_match_reference(texts) -> None:
    bounds, hashes = tk.token_sequences(*string_buffers(pl.Series(texts, dtype=pl.String)))
    for i, text in enumerate(texts):
        assert hashes[bounds[i] : bounds[i + 1]].tolist() == ref.word_tokens(text), text


def test_signature_ignores_numbers_case_order_and_punctuation() -> None:
    texts = ["Top 10 tips, today!", "today: TOP 7 tips", "tips top today", "top tips tomorrow"]
    _, sig, has = tk.headline_stats(*string_buffers(pl.Series(texts)), *lexicon())
    assert has.all() and sig[0] == sig[1] == sig[2] != sig[3]


def test_clickbait_phrases_count_without_overlap() -> None:
    texts = ["You won't believe it, you WON\u2019T BELIEVE it", "secretary", "secrets exposed"]
    stats, _, _ = tk.headline_stats(*string_buffers(pl.Series(texts)), *lexicon())
    assert stats[:, tk.HEADLINE_COLUMNS.index("hits")].tolist() == [2, 0, 2]


def test_capital_rules_agree_with_unicode() -> None:
    for cp in range(0x30000):
        lower = tk.lower_capital(cp)
        if lower >= 0:
            assert unicodedata.category(chr(cp)) == "Lu" and chr(cp).lower() == chr(lower)
        assert ref.capital(chr(cp)) == (lower >= 0), hex(cp)


def test_white_space_is_unicode_white_space() -> None:
    assert set(map(chr, tk.WHITE_SPACE.tolist())) == ref.WHITE_SPACE
    assert all(ch.isspace() for ch in ref.WHITE_SPACE)


def test_string_buffers_of_a_slice() -> None:
    series = pl.Series(["zero", "one", None, "three"]).slice(1, 3)
    offsets, data = string_buffers(series)
    assert len(offsets) == 4
    texts = [bytes(data[offsets[i] : offsets[i + 1]]).decode() for i in range(3)]
    assert texts == ["one", "", "three"] and np.all(np.diff(offsets) >= 0)
