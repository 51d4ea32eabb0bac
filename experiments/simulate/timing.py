"""Vectorised timing helpers: group counters, diurnal session starts, schedulers, jitter."""

from __future__ import annotations

import numpy as np

from experiments.simulate.population import DAY, HOUR
from experiments.simulate.rhythms import HOURS, PROFILES, WEEKDAYS

_HOUR_P = np.array([np.asarray(HOURS[p]) / np.sum(HOURS[p]) for p in PROFILES])
_WEEKDAY_W = np.array([WEEKDAYS[p] for p in PROFILES], dtype=np.float64)


def cumcount(counts: np.ndarray) -> np.ndarray:
    """0, 1, ... within each group of np.repeat(..., counts)."""
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)


def segment_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Running sums that restart at each group of `counts` consecutive values."""
    counts = np.asarray(counts, dtype=np.int64)
    total = np.cumsum(values)
    starts = np.cumsum(counts) - counts
    full = counts > 0
    base = np.zeros(len(counts))
    base[full] = total[starts[full]] - values[starts[full]]
    return total - np.repeat(base, counts)


def sample_days(weights: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each entry of `rows`, a column of `weights` (rows of day weights) drawn by its weight."""
    n_rows, n_days = weights.shape
    total = weights.sum(axis=1, keepdims=True)
    cum = np.cumsum(weights / np.where(total > 0, total, 1.0), axis=1)
    cum[:, -1] = 1.0
    keys = (cum + np.arange(n_rows)[:, None]).ravel()
    found = np.searchsorted(keys, rows + rng.random(rows.size), side="right")
    return np.minimum(found - rows * n_days, n_days - 1)


def session_starts(
    rate_per_week: np.ndarray,
    profile: np.ndarray,
    created: np.ndarray,
    tz: np.ndarray,
    horizon: float,
    weekday0: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Human session start times: weekly rhythm, bursty days, diurnal hours in local time.

    Returns (row of the account in the inputs, start seconds from the window start).
    """
    n_days = round(horizon / DAY)
    day_start = np.arange(n_days) * DAY
    alive = np.clip((day_start[None, :] + DAY - created[:, None]) / DAY, 0.0, 1.0)
    weekday = (weekday0 + np.arange(n_days)) % 7
    burst = rng.gamma(0.6, 1 / 0.6, (len(rate_per_week), n_days))
    weights = _WEEKDAY_W[profile][:, weekday] * burst * alive
    alive_share = alive.sum(axis=1) / n_days
    expected = rate_per_week * (horizon / (7 * DAY)) * alive_share
    counts = rng.poisson(expected)
    rows = np.repeat(np.arange(len(rate_per_week)), counts)
    day = sample_days(weights, rows, rng)
    hour = np.zeros(rows.size)
    for code in range(len(PROFILES)):
        mine = np.flatnonzero(profile[rows] == code)
        hour[mine] = rng.choice(24, mine.size, p=_HOUR_P[code])
    start = day * DAY + (hour - tz[rows]) * HOUR + rng.random(rows.size) * HOUR
    start = np.mod(start, horizon)
    keep = start >= created[rows]
    return rows[keep], start[keep]


def scheduled_times(
    period: np.ndarray,
    phase: np.ndarray,
    jitter: np.ndarray,
    first_hour: np.ndarray,
    last_hour: np.ndarray,
    skip: np.ndarray,
    created: np.ndarray,
    tz: np.ndarray,
    horizon: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Near-periodic post times of schedulers (rows with period 0 have none)."""
    active = period > 0
    span = np.where(active, horizon, 0.0)
    counts = np.where(active, np.floor(span / np.where(active, period, 1.0)), 0).astype(np.int64)
    rows = np.repeat(np.arange(len(period)), counts)
    k = cumcount(counts)
    times = phase[rows] + k * period[rows] + rng.normal(0.0, 1.0, rows.size) * jitter[rows]
    local_hour = np.mod(times / HOUR + tz[rows], 24.0)
    keep = (times >= np.maximum(created[rows], 0.0)) & (times < horizon)
    keep &= (local_hour >= first_hour[rows]) & (local_hour < last_hour[rows])
    keep &= rng.random(rows.size) >= skip[rows]
    return rows[keep], times[keep]


def lockstep_delays(median: float, sigma: float, size: int, rng) -> np.ndarray:
    """Reaction delays (seconds) of group members joining a coordinated action."""
    return rng.lognormal(np.log(median), sigma, size)
