"""Numba kernels over headline text (Arrow UTF-8 buffers): shape counts, clickbait phrases and
an order-free token-set signature, all in one pass over the bytes.

The rules are written out here because no Unicode database is available inside numba:
- capitals: A-Z, Latin-1 À-Þ (not ×), Greek Α-Ω, Cyrillic Ѐ-Я and full-width Ａ-Ｚ; each is
  lower-cased by its fixed offset;
- digits: 0-9 and full-width ０-９;
- blank: only Unicode White_Space characters;
- tokens: maximal runs of letters (case-folded as above); separators are ASCII non-letters,
  Latin-1 punctuation and symbols (U+0080-U+00BF, ×, ÷), general punctuation, symbols and
  emoji (U+2000-U+2BFF, U+1F000-U+1FAFF), CJK punctuation (U+3000-U+303F) and full-width
  punctuation and digits. Everything else (letters of any script) belongs to tokens.
A token's hash is 64-bit FNV-1a over its (lower-cased) code points. Each kernel has a plain
Python twin in `features.behaviour.reference`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from features.behaviour.kernels import FNV_OFFSET, FNV_PRIME

#: Columns of `headline_stats`, in order.
HEADLINE_COLUMNS = ("non_blank", "chars", "caps", "digits", "exclaim", "question", "hits")
SINGLE_SPACES = (0x9, 0xA, 0xB, 0xC, 0xD, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F)
#: Unicode White_Space code points (a headline made only of these is blank).
WHITE_SPACE = np.array([*SINGLE_SPACES, 0x3000, *range(0x2000, 0x200B)], dtype=np.int64)


MASK_SHIFT = 52  # a phrase's first token is screened by the top 12 bits of its hash


def phrase_filter(phrase_bounds: np.ndarray, phrase_tokens: np.ndarray) -> np.ndarray:
    """A 4096-slot screen of the phrases' first tokens (false positives are only slower)."""
    mask = np.zeros(1 << (64 - MASK_SHIFT), dtype=np.bool_)
    mask[phrase_tokens[phrase_bounds[:-1]] >> np.uint64(MASK_SHIFT)] = True
    return mask


@njit(cache=True, inline="always")
def decode(data: np.ndarray, i: int) -> tuple[int, int]:
    """The code point starting at byte i of valid UTF-8, and the index after it."""
    b0 = np.int64(data[i])
    if b0 < 0x80:
        return b0, i + 1
    if b0 < 0xE0:
        return ((b0 & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F), i + 2
    if b0 < 0xF0:
        cp = ((b0 & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6)
        return cp | (np.int64(data[i + 2]) & 0x3F), i + 3
    cp = ((b0 & 0x07) << 18) | ((np.int64(data[i + 1]) & 0x3F) << 12)
    cp |= (np.int64(data[i + 2]) & 0x3F) << 6
    return cp | (np.int64(data[i + 3]) & 0x3F), i + 4


@njit(cache=True, inline="always")
def lower_capital(cp: int) -> int:
    """The lower-case form of a capital the rules know, else -1."""
    if cp < 0xC0:
        return cp + 32 if 0x41 <= cp <= 0x5A else -1
    if cp <= 0xDE and cp != 0xD7:
        return cp + 32
    if (0x391 <= cp <= 0x3A9 and cp != 0x3A2) or 0x410 <= cp <= 0x42F or 0xFF21 <= cp <= 0xFF3A:
        return cp + 32
    if 0x400 <= cp <= 0x40F:
        return cp + 80
    return -1


@njit(cache=True, inline="always")
def is_digit(cp: int) -> bool:
    """ASCII or full-width decimal digit."""
    return 0x30 <= cp <= 0x39 or 0xFF10 <= cp <= 0xFF19


@njit(cache=True, inline="always")
def is_separator(cp: int) -> bool:
    """Code points that end a token (see the module docstring)."""
    if cp < 0x80:
        return not (0x41 <= cp <= 0x5A or 0x61 <= cp <= 0x7A)
    return (
        cp <= 0xBF
        or cp == 0xD7
        or cp == 0xF7
        or 0x2000 <= cp <= 0x2BFF
        or 0x3000 <= cp <= 0x303F
        or 0xFF00 <= cp <= 0xFF20
        or 0xFF3B <= cp <= 0xFF40
        or 0xFF5B <= cp <= 0xFF65
        or 0x1F000 <= cp <= 0x1FAFF
    )


@njit(cache=True)
def token_sequences(offsets: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each string's token hashes in reading order, as CSR (token offsets, hashes)."""
    n = offsets.shape[0] - 1
    bounds = np.zeros(n + 1, dtype=np.int64)
    hashes = np.empty(data.shape[0], dtype=np.uint64)
    k = 0
    for s in range(n):
        i, hi = offsets[s], offsets[s + 1]
        inside, h = False, FNV_OFFSET
        while i < hi:
            cp, i = decode(data, i)
            if is_separator(cp):
                if inside:
                    hashes[k] = h
                    k += 1
                inside = False
                continue
            lower = lower_capital(cp)
            h = (h if inside else FNV_OFFSET) ^ np.uint64(cp if lower < 0 else lower)
            h *= FNV_PRIME
            inside = True
        if inside:
            hashes[k] = h
            k += 1
        bounds[s + 1] = k
    return bounds, hashes[:k].copy()


@njit(cache=True)
def _phrase_at(seq: np.ndarray, p: int, k: int, bounds: np.ndarray, tokens: np.ndarray, q: int):
    """Length of phrase q if it starts at token p of seq[:k], else 0."""
    length = bounds[q + 1] - bounds[q]
    if p + length > k:
        return 0
    for j in range(length):
        if seq[p + j] != tokens[bounds[q] + j]:
            return 0
    return length


@njit(cache=True)
def _headline(data, lo, hi, row, seq, ordered, bounds, tokens, first_mask) -> tuple[int, bool]:
    """Fill one string's counts into `row`; return its signature and whether it has tokens.
    `seq` and `ordered` are scratch space at least as long as the string."""
    i, k, inside, h, lower = lo, 0, False, FNV_OFFSET, -1
    non_blank, chars, caps, digits, exclaim, question = 0, 0, 0, 0, 0, 0  # kept in registers
    while i <= hi:
        cp = -1
        if i < hi:
            cp, i = decode(data, i)
            chars += 1
            if non_blank == 0 and cp not in WHITE_SPACE:
                non_blank = 1
            lower = lower_capital(cp)
            caps += lower >= 0
            digits += is_digit(cp)
            exclaim += cp == 0x21 or cp == 0xFF01
            question += cp == 0x3F or cp == 0xFF1F
        else:
            i += 1  # past the end: flush the last token
        if cp < 0 or is_separator(cp):
            if inside:
                seq[k] = h
                k += 1
            inside = False
            continue
        h = (h if inside else FNV_OFFSET) ^ np.uint64(cp if lower < 0 else lower)
        h *= FNV_PRIME
        inside = True
    hits, p = 0, 0
    while p < k:
        step = 1
        if first_mask[seq[p] >> MASK_SHIFT]:
            for q in range(bounds.shape[0] - 1):
                length = _phrase_at(seq, p, k, bounds, tokens, q)
                if length > 0:
                    hits += 1
                    step = length
                    break
        p += step
    row[0], row[1], row[2], row[3] = non_blank, chars, caps, digits
    row[4], row[5], row[6] = exclaim, question, hits
    if k == 0:
        return FNV_OFFSET, False
    for a in range(k):  # insertion sort: headlines hold few tokens
        x, j = seq[a], a
        while j > 0 and ordered[j - 1] > x:
            ordered[j] = ordered[j - 1]
            j -= 1
        ordered[j] = x
    h = FNV_OFFSET
    for j in range(k):
        if j == 0 or ordered[j] != ordered[j - 1]:
            h = (h ^ ordered[j]) * FNV_PRIME
    return h, True


@njit(cache=True, parallel=True)
def headline_stats(
    offsets: np.ndarray,
    data: np.ndarray,
    phrase_bounds: np.ndarray,
    phrase_tokens: np.ndarray,
    first_mask: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per string: `HEADLINE_COLUMNS` counts (hits = non-overlapping lexicon phrases, earliest
    first, the first listed phrase winning a tie), the token-set signature and whether it has
    any token. Phrases are CSR token-hash sequences (`token_sequences` of the lexicon);
    `first_mask` (`phrase_filter`) screens tokens that cannot start a phrase. Blocks of
    strings run in parallel, each with its own scratch space."""
    n = offsets.shape[0] - 1
    stats = np.zeros((n, len(HEADLINE_COLUMNS)), dtype=np.int64)
    sig = np.zeros(n, dtype=np.uint64)
    has = np.zeros(n, dtype=np.bool_)
    n_blocks = min(n, 64)
    for b in prange(n_blocks):
        first, last = b * n // n_blocks, (b + 1) * n // n_blocks
        longest = 1
        for s in range(first, last):
            longest = max(longest, offsets[s + 1] - offsets[s])
        seq = np.empty(longest, dtype=np.uint64)
        ordered = np.empty(longest, dtype=np.uint64)
        for s in range(first, last):
            h, found = _headline(
                data, offsets[s], offsets[s + 1], stats[s], seq, ordered,
                phrase_bounds, phrase_tokens, first_mask,
            )  # fmt: skip
            if found:
                sig[s] = h
                has[s] = True
    return stats, sig, has
