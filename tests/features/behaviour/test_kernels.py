"""Numba kernels against their plain-Python twins on random inputs."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from features.behaviour import kernels
from features.behaviour import reference as ref
from features.behaviour.seam import string_buffers

T0 = 1_735_000_000_000_000  # December 2024, in µs
STEPS = (1, 1_000_000, 7_000_000, 600_000_000, 5 * 3_600_000_000)


@st.composite
def sequences(draw) -> list[list[int]]:
    """Per-account event times: empty accounts, single events, ties, bursts and long gaps."""
    groups = []
    for _ in range(draw(st.integers(0, 6))):
        step = draw(st.sampled_from(STEPS))
        ticks = draw(st.lists(st.integers(-40, 40), max_size=25))
        groups.append(sorted(T0 + k * step for k in ticks))
    return groups


def as_csr(groups: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """CSR offsets and concatenated times."""
    offsets = np.zeros(len(groups) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(g) for g in groups])
    flat = np.array([t for g in groups for t in g], dtype=np.int64)
    return offsets, flat


def same(a: float, b: float) -> bool:
    """Equal up to float rounding, NaN equal to NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=80, deadline=None)
@given(
    sequences(),
    st.sampled_from([1, 60, 600]),
    st.integers(1, 6),
    st.sampled_from([(0, 6), (22, 24), (3, 4)]),
)
def test_timing_stats_matches_reference(groups, window_s, min_events, night) -> None:
    offsets, ts = as_csr(groups)
    got = kernels.timing_stats(
        offsets, ts, np.int64(window_s * 1_000_000), np.int64(min_events), *map(np.int64, night)
    )
    assert got.shape == (len(groups), len(kernels.TIMING_COLUMNS))
    for g, times in enumerate(groups):
        want = ref.timing_stats(times, window_s * 1_000_000, min_events, night)
        for column, (x, y) in enumerate(zip(got[g], want, strict=True)):
            assert same(x, y), (kernels.TIMING_COLUMNS[column], times, x, y)


@settings(max_examples=80, deadline=None)
@given(sequences(), st.sampled_from([0.0, 0.1, 0.5]), st.randoms(use_true_random=False))
def test_periodicity_matches_reference(groups, tolerance, random) -> None:
    offsets, ts = as_csr(groups)
    chosen = np.array([random.random() < 0.7 for _ in ts], dtype=np.bool_)
    got = kernels.periodicity(offsets, ts, chosen, tolerance)
    for g, times in enumerate(groups):
        picked = [t for t, c in zip(times, chosen[offsets[g] : offsets[g + 1]], strict=True) if c]
        want = ref.periodicity(picked, tolerance)
        assert same(got[g, 0], want[0]) and same(got[g, 1], want[1]), (picked, got[g], want)


@st.composite
def long_sequences(draw) -> list[list[int]]:
    """Per-account times with enough events for the selection's partitions (over 24 gaps):
    few distinct gap lengths (long runs of equal gaps), or many."""
    groups = []
    for _ in range(draw(st.integers(1, 4))):
        lengths = (
            st.sampled_from([0, 1, 60, 3600]) if draw(st.booleans()) else st.integers(0, 10**7)
        )
        gaps = draw(st.lists(lengths.map(lambda s: s * 1_000_000), min_size=20, max_size=200))
        groups.append([T0 + t for t in np.cumsum([0, *gaps]).tolist()])
    return groups


@settings(max_examples=60, deadline=None)
@given(long_sequences(), st.sampled_from([0.0, 0.1, 0.5]), st.randoms(use_true_random=False))
def test_periodicity_matches_reference_on_long_sequences(groups, tolerance, random) -> None:
    offsets, ts = as_csr(groups)
    chosen = np.array([random.random() < 0.9 for _ in ts], dtype=np.bool_)
    got = kernels.periodicity(offsets, ts, chosen, tolerance)
    for g, times in enumerate(groups):
        picked = [t for t, c in zip(times, chosen[offsets[g] : offsets[g + 1]], strict=True) if c]
        want = ref.periodicity(picked, tolerance)
        assert same(got[g, 0], want[0]) and same(got[g, 1], want[1]), (picked, got[g], want)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=300), st.data())
def test_select_kth_puts_the_kth_smallest_in_place(values, data) -> None:
    k = data.draw(st.integers(0, len(values) - 1))
    a = np.array(values, dtype=np.int64)
    kernels.select_kth(a, k)
    assert sorted(a.tolist()) == sorted(values)  # a permutation
    assert a[k] == sorted(values)[k]
    assert a[:k].max(initial=a[k]) <= a[k] <= a[k + 1 :].min(initial=a[k])


def test_periodicity_of_a_clockwork_poster() -> None:
    times = [T0 + i * 3_600_000_000 + (i % 3) * 1_000_000 for i in range(20)]
    offsets, ts = as_csr([times])
    period, strength = kernels.periodicity(offsets, ts, np.ones(len(ts), np.bool_), 0.1)[0]
    assert abs(period - 3600) <= 2 and strength == 1.0


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(-5, 5)), max_size=120))
def test_group_order_matches_reference(rows) -> None:
    aidx = np.array([a for a, _ in rows], dtype=np.int64)
    ts = np.array([t for _, t in rows], dtype=np.int64) * 1_000_000
    order, offsets = kernels.group_order(aidx, ts, 8)
    want_order, want_offsets = ref.group_order(aidx.tolist(), ts.tolist(), 8)
    assert offsets.tolist() == want_offsets
    assert sorted(order.tolist()) == list(range(len(rows)))  # a permutation
    assert aidx[order].tolist() == aidx[want_order].tolist()
    assert ts[order].tolist() == ts[want_order].tolist()


def test_group_order_sorts_long_groups() -> None:
    rng = np.random.default_rng(1)
    aidx = rng.integers(0, 3, 500).astype(np.int64)
    ts = rng.integers(0, 100, 500).astype(np.int64)
    order, _ = kernels.group_order(aidx, ts, 3)
    assert np.all(np.diff(aidx[order] * 1000 + ts[order]) >= 0)


TEXT = st.text(alphabet="abcXYZ 019!?.,-'éÉü中\u2019\t", max_size=30)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), TEXT), max_size=12))
def test_fnv1a64_matches_reference(texts) -> None:
    offsets, data = string_buffers(pl.Series(texts, dtype=pl.String))
    got = kernels.fnv1a64(offsets, data)
    assert [int(h) for h in got] == [ref.fnv1a64(t or "") for t in texts]


def test_known_fnv_values() -> None:
    offsets, data = string_buffers(pl.Series(["", "a"]))
    assert [int(h) for h in kernels.fnv1a64(offsets, data)] == [
        0xCBF29CE484222325,
        0xAF63DC4C8601EC8C,
    ]
