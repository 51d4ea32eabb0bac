"""Vectorised headline rendering: template ids plus per-slot uniforms become post texts."""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from experiments.simulate.words import STYLES, TEMPLATES, VOCAB

TEMPLATE_NAMES: tuple[str, ...] = tuple(TEMPLATES)
TEMPLATE = {name: i for i, name in enumerate(TEMPLATE_NAMES)}
STYLE_NAMES: tuple[str, ...] = tuple(STYLES)
STYLE = {name: i for i, name in enumerate(STYLE_NAMES)}
SLOTS = 6  # most vocabulary slots any template has
_WORDS = {name: pl.Series(name, words, dtype=pl.String) for name, words in VOCAB.items()}


def _parse(template: str) -> list[tuple[bool, str]]:
    """A template as (is_slot, text) parts."""
    parts = re.split(r"(\{[a-z_]+\})", template)
    return [(p.startswith("{"), p.strip("{}")) for p in parts if p]


_PARTS = [_parse(TEMPLATES[name]) for name in TEMPLATE_NAMES]
assert max(sum(s for s, _ in parts) for parts in _PARTS) <= SLOTS


def pick_templates(style: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A template id for each post, drawn from its style's weighted templates."""
    out = np.zeros(len(style), dtype=np.int16)
    for code, name in enumerate(STYLE_NAMES):
        rows = np.flatnonzero(style == code)
        if rows.size == 0:
            continue
        names = list(STYLES[name])
        weights = np.asarray([STYLES[name][n] for n in names], dtype=np.float64)
        chosen = rng.choice(len(names), size=rows.size, p=weights / weights.sum())
        out[rows] = np.asarray([TEMPLATE[n] for n in names], dtype=np.int16)[chosen]
    return out


def render(template: np.ndarray, u: np.ndarray, caps: np.ndarray | None = None) -> pl.Series:
    """Texts for template ids `template` with slot words chosen by uniforms `u` (n, SLOTS)."""
    pieces = []
    for code in np.unique(template):
        rows = np.flatnonzero(template == code)
        columns, slot = [], 0
        for is_slot, text in _PARTS[int(code)]:
            if is_slot:
                words = _WORDS[text]
                index = np.minimum((u[rows, slot] * len(words)).astype(np.int64), len(words) - 1)
                columns.append(words.gather(index))
                slot += 1
            else:
                columns.append(pl.Series([text]).new_from_index(0, rows.size))
        text_series = pl.select(pl.concat_str(columns)).to_series()
        pieces.append(pl.DataFrame({"row": rows, "text": text_series}))
    if not pieces:
        return pl.Series("text", [], dtype=pl.String)
    text = pl.concat(pieces).sort("row")["text"]
    if caps is not None and caps.any():
        text = pl.select(
            pl.when(pl.Series(caps)).then(text.str.to_uppercase()).otherwise(text)
        ).to_series()
    return text.alias("text")


def render_styles(style: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """Fresh, varied texts for posts of the given styles."""
    template = pick_templates(style, rng)
    u = rng.random((len(style), SLOTS))
    caps = (style == STYLE["clickbait"]) & (rng.random(len(style)) < 0.3)
    return render(template, u, caps)
