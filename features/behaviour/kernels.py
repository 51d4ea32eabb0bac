"""Numba kernels for the per-account sequence work polars expresses badly.

Inputs are CSR-style: account g owns `ts[offsets[g]:offsets[g + 1]]`, sorted ascending, with
int64 microseconds since the epoch (UTC). Strings arrive as Arrow buffers (int64 offsets,
uint8 UTF-8 bytes). Each kernel has a slow, obvious twin in `features.behaviour.reference` and a
hypothesis test comparing them. Undefined values come back as NaN; the caller turns them
into nulls.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SECOND = 1_000_000
HOUR = 3600 * SECOND
DAY = 24 * HOUR
#: Columns of `timing_stats`, in order.
TIMING_COLUMNS = (
    "iet_mean_s",
    "iet_cv",
    "iet_burstiness",
    "iet_entropy_bits",
    "hour_entropy_bits",
    "night_share",
    "weekday_share",
    "active_days",
    "burst_share",
    "max_events_in_burst_window",
)
IET_BINS = 64
FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)


@njit(cache=True)
def group_order(aidx: np.ndarray, ts: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Permutation that sorts rows by (aidx, ts), and CSR offsets of each aidx in 0..n_groups-1.

    A counting sort by account, then each account's few rows sorted by time: linear in the
    rows, unlike a general two-key sort.
    """
    n = aidx.shape[0]
    offsets = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(n):
        offsets[aidx[i] + 1] += 1
    for g in range(n_groups):
        offsets[g + 1] += offsets[g]
    fill = offsets[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[fill[aidx[i]]] = i
        fill[aidx[i]] += 1
    values = ts[order]  # times in account order, contiguous for the per-account sorts
    for g in range(n_groups):
        lo, hi = offsets[g], offsets[g + 1]
        if hi - lo > 64:
            by_time = np.argsort(values[lo:hi], kind="mergesort")
            order[lo:hi] = order[lo:hi][by_time]
            continue
        for a in range(lo + 1, hi):  # insertion sort: most accounts have few events
            row, value, j = order[a], values[a], a
            while j > lo and values[j - 1] > value:
                order[j], values[j] = order[j - 1], values[j - 1]
                j -= 1
            order[j], values[j] = row, value
    return order, offsets


@njit(cache=True)
def _entropy_bits(counts: np.ndarray, total: float) -> float:
    """Shannon entropy in bits of a histogram holding `total` observations."""
    h = 0.0
    for c in counts:
        if c > 0:
            p = c / total
            h -= p * np.log2(p)
    return h


@njit(cache=True)
def _bit_length(x: np.int64) -> int:
    """Number of bits needed for non-negative x (0 for 0): the log2 bin of an interval."""
    n = 0
    while x > 0:
        x >>= 1
        n += 1
    return n


@njit(cache=True)
def timing_stats(
    offsets: np.ndarray,
    ts: np.ndarray,
    burst_window_us: np.int64,
    burst_min: np.int64,
    night_start: np.int64,
    night_end: np.int64,
) -> np.ndarray:
    """Per-account timing features (columns `TIMING_COLUMNS`) over sorted event times."""
    n = offsets.shape[0] - 1
    out = np.full((n, len(TIMING_COLUMNS)), np.nan)
    hours = np.zeros(24, dtype=np.int64)
    bins = np.zeros(IET_BINS, dtype=np.int64)
    for g in range(n):
        lo, hi = offsets[g], offsets[g + 1]
        m = hi - lo
        if m == 0:
            continue
        # intervals: mean, population std, log2-binned entropy
        if m >= 2:
            total = 0.0
            for i in range(lo + 1, hi):
                total += (ts[i] - ts[i - 1]) / SECOND
            mean = total / (m - 1)
            out[g, 0] = mean
            if m >= 3:
                ss = 0.0
                bins[:] = 0
                for i in range(lo + 1, hi):
                    d = (ts[i] - ts[i - 1]) / SECOND - mean
                    ss += d * d
                    bins[min(_bit_length((ts[i] - ts[i - 1]) // SECOND), IET_BINS - 1)] += 1
                std = np.sqrt(ss / (m - 1))
                if mean > 0.0:
                    out[g, 1] = std / mean
                if std + mean > 0.0:
                    out[g, 2] = (std - mean) / (std + mean)
                out[g, 3] = _entropy_bits(bins, m - 1.0)
        # hour of day, night, weekday, distinct days
        hours[:] = 0
        weekday = 0
        days = 0
        last_day = np.int64(-(2**62))
        for i in range(lo, hi):
            day = ts[i] // DAY
            hours[(ts[i] - day * DAY) // HOUR] += 1
            if (day + 3) % 7 < 5:  # 1970-01-01 was a Thursday; Monday = 0
                weekday += 1
            if day != last_day:
                days += 1
                last_day = day
        night = 0
        for h in range(24):
            if night_start <= h < night_end:
                night += hours[h]
        out[g, 4] = _entropy_bits(hours, float(m))
        out[g, 5] = night / m
        out[g, 6] = weekday / m
        out[g, 7] = days
        # tight bursts: windows [t, t + w] holding at least burst_min events
        covered_until = lo  # events before this index are already marked as in a burst
        in_burst = 0
        best = 0
        end = lo
        for j in range(lo, hi):
            if j > lo and ts[j] == ts[j - 1]:
                continue  # same window as the previous start
            if end < j:
                end = j
            while end + 1 < hi and ts[end + 1] - ts[j] <= burst_window_us:
                end += 1
            size = end - j + 1
            best = max(best, size)
            if size >= burst_min:
                start = max(j, covered_until)
                if end + 1 > start:
                    in_burst += end + 1 - start
                    covered_until = end + 1
        out[g, 8] = in_burst / m
        out[g, 9] = best
    return out


@njit(cache=True)
def _insertion_sort(a: np.ndarray, lo: int, hi: int) -> None:
    """Sort a[lo:hi] in place: the cheapest sort for a few values."""
    for i in range(lo + 1, hi):
        x, j = a[i], i
        while j > lo and a[j - 1] > x:
            a[j] = a[j - 1]
            j -= 1
        a[j] = x


@njit(cache=True)
def select_kth(a: np.ndarray, k: int) -> None:
    """Rearrange `a` in place so that a[k] is its k-th smallest value, a[:k] <= a[k] <= a[k+1:].

    Quickselect (median-of-three pivot) with branch-free partitions: values below the pivot to
    the front, then values equal to it (so runs of equal gaps cost one pass, not quadratic
    time); linear on average, where a full sort would be k log k.
    """
    lo, hi = 0, a.shape[0]
    while hi - lo > 24:
        x, y, z = a[lo], a[(lo + hi) >> 1], a[hi - 1]
        pivot = max(min(x, y), min(max(x, y), z))
        below = lo
        for i in range(lo, hi):
            value = a[i]
            a[i] = a[below]
            a[below] = value
            below += value < pivot
        if k < below:
            hi = below
            continue
        equal = below
        for i in range(below, hi):
            value = a[i]
            a[i] = a[equal]
            a[equal] = value
            equal += value == pivot
        if k < equal:
            return
        lo = equal
    _insertion_sort(a, lo, hi)


@njit(cache=True)
def periodicity(
    offsets: np.ndarray, ts: np.ndarray, chosen: np.ndarray, tolerance: float
) -> np.ndarray:
    """Per account, over its `chosen` events (e.g. posts): median gap (s) between consecutive
    ones and the share of gaps within ±tolerance × median (1 = clockwork); NaN below three.

    The median comes from a selection, not a sort: the share needs no order.
    """
    n = offsets.shape[0] - 1
    out = np.full((n, 2), np.nan)
    longest = 0
    for g in range(n):
        longest = max(longest, offsets[g + 1] - offsets[g])
    scratch = np.empty(longest + 1, dtype=np.int64)
    for g in range(n):
        lo, hi = offsets[g], offsets[g + 1]
        m = 0
        for i in range(lo, hi):  # branch-free compaction of the chosen times
            scratch[m] = ts[i]
            m += chosen[i]
        k = m - 1
        if k < 2:
            continue
        for i in range(k):
            scratch[i] = scratch[i + 1] - scratch[i]
        gaps = scratch[:k]
        half = k // 2
        select_kth(gaps, half)
        if k % 2 == 1:
            median = gaps[half] / SECOND
        else:  # the lower middle gap is the largest of the lower half
            lower = gaps[0]
            for i in range(1, half):
                lower = max(lower, gaps[i])
            median = (lower + gaps[half]) / 2 / SECOND
        band = tolerance * median
        regular = 0
        for i in range(k):
            regular += abs(gaps[i] / SECOND - median) <= band
        out[g, 0] = median
        out[g, 1] = regular / k
    return out


@njit(cache=True)
def fnv1a64(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """64-bit FNV-1a hash of each string's UTF-8 bytes: a stable hash for account bucketing."""
    n = offsets.shape[0] - 1
    out = np.empty(n, dtype=np.uint64)
    for s in range(n):
        h = FNV_OFFSET
        for i in range(offsets[s], offsets[s + 1]):
            h = (h ^ np.uint64(data[i])) * FNV_PRIME
        out[s] = h
    return out
