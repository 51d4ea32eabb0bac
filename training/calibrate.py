"""Calibration of raw booster scores into probabilities a reviewer can read as "P(bad)".

Fitted on the validation part (never on training rows). Stored as plain numbers (JSON), so a
saved model needs no pickle. Isotonic steps are flat, which would tie many accounts; a tiny
monotone tie-breaker (1e-9 x the raw sigmoid) keeps the booster's ranking inside each step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

TIE_BREAK = 1e-9
METHODS = ("isotonic", "platt", "identity")


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, numerically safe."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


@dataclass(frozen=True)
class Calibrator:
    """Maps raw booster scores (log-odds margins) to calibrated probabilities."""

    method: str  # "isotonic", "platt" or "identity"
    x: tuple[float, ...] = ()  # isotonic knots (raw score)
    y: tuple[float, ...] = ()  # isotonic values
    a: float = 1.0  # platt slope
    b: float = 0.0  # platt intercept

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw margins."""
        raw = np.asarray(raw, dtype=np.float64)
        if self.method == "isotonic":
            base = np.interp(raw, np.asarray(self.x), np.asarray(self.y))
            return np.clip(base + TIE_BREAK * sigmoid(raw), 0.0, 1.0)
        if self.method == "platt":
            return sigmoid(self.a * raw + self.b)
        return sigmoid(raw)

    def to_dict(self) -> dict:
        """Plain JSON-able form."""
        return {
            "method": self.method,
            "x": list(self.x),
            "y": list(self.y),
            "a": self.a,
            "b": self.b,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Calibrator:
        """Inverse of `to_dict`; an unknown method is a ValueError (never a silent default)."""
        if data.get("method") not in METHODS:
            raise ValueError(f"unknown calibration method {data.get('method')!r}")
        return cls(data["method"], tuple(data["x"]), tuple(data["y"]), data["a"], data["b"])


def fit_calibrator(raw: np.ndarray, y: np.ndarray, method: str = "isotonic") -> Calibrator:
    """Fit isotonic or Platt calibration of raw margins against 0/1 labels."""
    raw = np.asarray(raw, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(np.unique(y)) < 2:
        return Calibrator("identity")
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
        return Calibrator(
            "isotonic", tuple(map(float, iso.X_thresholds_)), tuple(map(float, iso.y_thresholds_))
        )
    if method == "platt":
        lr = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y)
        return Calibrator("platt", a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]))
    raise ValueError(f"unknown calibration method {method!r}")
