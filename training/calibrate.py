"""Calibration of raw booster scores into probabilities a reviewer can read as "P(bad)".

Fitted on the validation part (never on training rows). Stored as plain numbers (JSON), so a
saved model needs no pickle.

Methods:
- `smooth_isotonic` (default): centred isotonic regression (Oron & Flournoy 2017, "CIR"):
  isotonic regression (pool adjacent violators) gives blocks of validation accounts at the
  rate of bad accounts among them; each block becomes one point, (mean raw score of its
  accounts, its rate), and the curve interpolates linearly between these points, so it is
  strictly increasing instead of flat in steps. The lowest and highest blocks are smoothed
  with one pseudo-bad and one pseudo-good account ((bad + 1) / (n + 2)), so neither claims
  certainty. Beyond the first and last points it keeps rising with the Platt slope (at most
  1 per log-odds unit) towards a bound set by the evidence: never above 1 - 0.5 / (n_top + 2),
  never below 0.5 / (n_bottom + 2). So no account reads 1.000 unless the validation data could
  say so, equal raw scores are the only ties, and the top of a list is not one flat step.
- `isotonic`: the plain step function (flat steps tie many accounts; a 1e-9 x sigmoid
  tie-breaker keeps the booster's order inside each step). Kept for models saved with it.
- `platt`: a logistic fit of the raw score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

TIE_BREAK = 1e-9
METHODS = ("smooth_isotonic", "isotonic", "platt", "identity")
#: The tails' slope is Platt's, kept within these bounds: separated validation data makes
#: Platt's slope huge (flat tails again), and the raw score is already in log-odds units.
MIN_SLOPE, MAX_SLOPE = 0.05, 1.0


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, numerically safe."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


@dataclass(frozen=True)
class Calibrator:
    """Maps raw booster scores (log-odds margins) to calibrated probabilities."""

    method: str  # "smooth_isotonic", "isotonic", "platt" or "identity"
    x: tuple[float, ...] = ()  # isotonic knots (raw score)
    y: tuple[float, ...] = ()  # isotonic values
    a: float = 1.0  # platt slope (smooth_isotonic: the tails' slope)
    b: float = 0.0  # platt intercept
    lo: float = 0.0  # smooth_isotonic: the bound the lower tail approaches
    hi: float = 1.0  # smooth_isotonic: the bound the upper tail approaches

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw margins."""
        raw = np.asarray(raw, dtype=np.float64)
        if self.method == "smooth_isotonic":
            return self._smooth(raw)
        if self.method == "isotonic":
            base = np.interp(raw, np.asarray(self.x), np.asarray(self.y))
            return np.clip(base + TIE_BREAK * sigmoid(raw), 0.0, 1.0)
        if self.method == "platt":
            return sigmoid(self.a * raw + self.b)
        return sigmoid(raw)

    def _smooth(self, raw: np.ndarray) -> np.ndarray:
        """Linear between the knots; bounded exponential tails outside them."""
        x, y = np.asarray(self.x), np.asarray(self.y)
        inside = np.interp(raw, x, y)
        above = self.hi - (self.hi - y[-1]) * np.exp(-self.a * np.maximum(raw - x[-1], 0.0))
        below = self.lo + (y[0] - self.lo) * np.exp(self.a * np.minimum(raw - x[0], 0.0))
        return np.where(raw > x[-1], above, np.where(raw < x[0], below, inside))

    def to_dict(self) -> dict:
        """Plain JSON-able form."""
        return {
            "method": self.method,
            "x": list(self.x),
            "y": list(self.y),
            "a": self.a,
            "b": self.b,
            "lo": self.lo,
            "hi": self.hi,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Calibrator:
        """Inverse of `to_dict`; an unknown method is a ValueError (never a silent default).

        Models saved before lo/hi existed read them as 0 and 1.
        """
        if data.get("method") not in METHODS:
            raise ValueError(f"unknown calibration method {data.get('method')!r}")
        return cls(
            data["method"], tuple(data["x"]), tuple(data["y"]), data["a"], data["b"],
            data.get("lo", 0.0), data.get("hi", 1.0),
        )  # fmt: skip


def isotonic_blocks(raw: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """(sum of raw scores, accounts, bad accounts) of each block of the isotonic fit."""
    order = np.argsort(raw, kind="stable")
    raw, y = raw[order], y[order]
    fitted = IsotonicRegression(out_of_bounds="clip").fit(raw, y).predict(raw)
    starts = np.flatnonzero(np.r_[True, np.diff(fitted) != 0])
    ends = np.r_[starts[1:], raw.size]
    return np.add.reduceat(raw, starts), ends - starts, np.add.reduceat(y, starts)


def merge_equal(total, n, bad, rate):  # -> tuple of arrays
    """Blocks whose smoothed rates are equal merged into one (rates must rise strictly)."""
    group = np.cumsum(np.r_[True, np.diff(rate) > 0]) - 1
    first = np.flatnonzero(np.r_[True, np.diff(group) > 0])
    return (np.add.reduceat(total, first), np.add.reduceat(n, first),
            np.add.reduceat(bad, first), rate[first])  # fmt: skip


def fit_smooth_isotonic(raw: np.ndarray, y: np.ndarray) -> Calibrator:
    """The `smooth_isotonic` calibrator: centred isotonic regression (see the module doc)."""
    total, n, bad = isotonic_blocks(raw, y)
    rate = bad / n
    rate[[0, -1]] = (bad[[0, -1]] + 1.0) / (n[[0, -1]] + 2.0)  # the ends claim no certainty
    rate = np.maximum.accumulate(rate)
    total, n, bad, rate = merge_equal(total, n, bad, rate)
    centre = total / n  # strictly increasing: blocks are disjoint runs of sorted raw scores
    slope = fit_platt(raw, y).a
    return Calibrator(
        "smooth_isotonic",
        tuple(map(float, centre)),
        tuple(map(float, rate)),
        a=float(np.clip(slope, MIN_SLOPE, MAX_SLOPE)),
        lo=float(0.5 / (n[0] + 2.0)),
        hi=float(1.0 - 0.5 / (n[-1] + 2.0)),
    )


def fit_platt(raw: np.ndarray, y: np.ndarray) -> Calibrator:
    """A logistic fit of the raw margin."""
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y)
    return Calibrator("platt", a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]))


def fit_calibrator(raw: np.ndarray, y: np.ndarray, method: str = "smooth_isotonic") -> Calibrator:
    """Fit a calibration of raw margins against 0/1 labels (methods: see the module doc)."""
    raw = np.asarray(raw, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(np.unique(y)) < 2:
        return Calibrator("identity")
    if method == "smooth_isotonic":
        return fit_smooth_isotonic(raw, y)
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
        return Calibrator(
            "isotonic", tuple(map(float, iso.X_thresholds_)), tuple(map(float, iso.y_thresholds_))
        )
    if method == "platt":
        return fit_platt(raw, y)
    raise ValueError(f"unknown calibration method {method!r}")
