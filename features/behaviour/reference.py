"""Slow, obvious twins of the numba kernels (plain Python), used as test and benchmark oracles.

Each function handles one account (or one string) with the most direct method: calendar
arithmetic through `datetime`, brute-force window counting, `statistics.median`. They share
no code with `features.behaviour.kernels`.
"""

from __future__ import annotations

import math
import statistics
import unicodedata
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise

NAN = float("nan")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MASK64 = 0xFFFFFFFFFFFFFFFF
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def moment(ts_us: int) -> datetime:
    """A microsecond epoch timestamp as a UTC datetime."""
    return EPOCH + timedelta(microseconds=ts_us)


def group_order(aidx: Sequence[int], ts: Sequence[int], n_groups: int) -> tuple[list, list]:
    """Rows ordered by (account, time) via `sorted`, and each account's start offset."""
    order = sorted(range(len(aidx)), key=lambda i: (aidx[i], ts[i]))
    counts = Counter(aidx)
    offsets = [0]
    for g in range(n_groups):
        offsets.append(offsets[-1] + counts.get(g, 0))
    return order, offsets


def entropy_bits(values: Sequence) -> float:
    """Shannon entropy (bits) of the empirical distribution of `values`."""
    counts = Counter(values)
    total = len(values)
    return -sum(c / total * math.log2(c / total) for _, c in sorted(counts.items()))


def burst_stats(ts: Sequence[int], window_us: int, min_events: int) -> tuple[int, int]:
    """(events inside some window [t, t + window] holding >= min_events events, largest window
    count), by trying every event time as a window start."""
    in_burst: set[int] = set()
    best = 0
    for start in set(ts):
        members = [i for i, t in enumerate(ts) if start <= t <= start + window_us]
        best = max(best, len(members))
        if len(members) >= min_events:
            in_burst.update(members)
    return len(in_burst), best


def timing_stats(
    times: Sequence[int], window_us: int, min_events: int, night: tuple[int, int]
) -> list[float]:
    """The `kernels.TIMING_COLUMNS` of one account's event times (any order); NaN = undefined."""
    ts = sorted(times)
    m = len(ts)
    out = [NAN] * 10
    if m == 0:
        return out
    gaps = [b - a for a, b in pairwise(ts)]
    seconds = [g / 1_000_000 for g in gaps]
    if gaps:
        mean = sum(seconds) / len(seconds)
        out[0] = mean
        if len(gaps) >= 2:
            std = math.sqrt(sum((s - mean) ** 2 for s in seconds) / len(seconds))
            out[1] = std / mean if mean > 0 else NAN
            out[2] = (std - mean) / (std + mean) if std + mean > 0 else NAN
            out[3] = entropy_bits([min((g // 1_000_000).bit_length(), 63) for g in gaps])
    moments = [moment(t) for t in ts]
    out[4] = entropy_bits([d.hour for d in moments])
    out[5] = sum(night[0] <= d.hour < night[1] for d in moments) / m
    out[6] = sum(d.weekday() < 5 for d in moments) / m
    out[7] = len({d.date() for d in moments})
    in_burst, best = burst_stats(ts, window_us, min_events)
    out[8] = in_burst / m
    out[9] = best
    return out


def periodicity(times: Sequence[int], tolerance: float) -> tuple[float, float]:
    """(median gap in seconds, share of gaps within ±tolerance × median); NaN below 3 events."""
    ts = sorted(times)
    gaps = [b - a for a, b in pairwise(ts)]
    if len(gaps) < 2:
        return NAN, NAN
    median = statistics.median(gaps) / 1_000_000
    regular = sum(abs(g / 1_000_000 - median) <= tolerance * median for g in gaps)
    return median, regular / len(gaps)


def fnv1a64(text: str) -> int:
    """64-bit FNV-1a of the UTF-8 bytes of `text`."""
    h = FNV_OFFSET
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * FNV_PRIME) & MASK64
    return h


CAPITAL_RANGES = ((0x41, 0x5A), (0xC0, 0xDE), (0x391, 0x3A9), (0x400, 0x42F), (0xFF21, 0xFF3A))
SEPARATOR_RANGES = (
    (0x80, 0xBF), (0xD7, 0xD7), (0xF7, 0xF7), (0x2000, 0x2BFF), (0x3000, 0x303F),
    (0xFF00, 0xFF20), (0xFF3B, 0xFF40), (0xFF5B, 0xFF65), (0x1F000, 0x1FAFF),
)  # fmt: skip
WHITE_SPACE = set("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}


def capital(ch: str) -> bool:
    """An upper-case letter of the alphabets the text rules cover."""
    covered = any(lo <= ord(ch) <= hi for lo, hi in CAPITAL_RANGES)
    return covered and unicodedata.category(ch) == "Lu"


def separates(ch: str) -> bool:
    """Whether a character ends a word token."""
    if ch.isascii():
        return not ("a" <= ch <= "z" or "A" <= ch <= "Z")
    return any(lo <= ord(ch) <= hi for lo, hi in SEPARATOR_RANGES)


def word_tokens(text: str) -> list[int]:
    """FNV-1a hashes (over lower-cased code points) of the word tokens, in reading order."""
    out, word = [], ""
    for ch in text + " ":
        if separates(ch):
            if word:
                h = FNV_OFFSET
                for c in word:
                    h = ((h ^ ord(c)) * FNV_PRIME) & MASK64
                out.append(h)
            word = ""
        else:
            word += ch.lower() if capital(ch) else ch
    return out


def phrase_hits(words: list[int], phrases: Sequence[Sequence[int]]) -> int:
    """Non-overlapping phrase occurrences, scanning left to right, first listed phrase first."""
    hits, p = 0, 0
    while p < len(words):
        for phrase in phrases:
            if tuple(words[p : p + len(phrase)]) == tuple(phrase):
                hits, p = hits + 1, p + len(phrase)
                break
        else:
            p += 1
    return hits


def headline_stats(text: str, phrases: Sequence[Sequence[int]]) -> tuple:
    """`text_kernels.HEADLINE_COLUMNS` of one headline, then its signature (None: no token)."""
    words = word_tokens(text)
    signature = None
    if words:
        signature = FNV_OFFSET
        for h in sorted(set(words)):
            signature = ((signature ^ h) * FNV_PRIME) & MASK64
    return (
        int(any(ch not in WHITE_SPACE for ch in text)),
        len(text),
        sum(capital(ch) for ch in text),
        sum(ch in "0123456789" or "\uff10" <= ch <= "\uff19" for ch in text),
        text.count("!") + text.count("\uff01"),
        text.count("?") + text.count("\uff1f"),
        phrase_hits(words, phrases),
        signature,
    )
