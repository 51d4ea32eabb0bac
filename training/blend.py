"""The booster blended with the anomaly surprise, weighted by leave-one-reason-out stacking.

A booster learns the abuse moderators have labelled; a kind nobody has labelled yet looks
ordinary to it. The isolation forests (features.anomaly) need no labels: each family score
says how unusual an account is in one respect (identity, novelty, reports, ...). One more
respect is relational: the FRAUDAR density of the label-free candidate ring the account sits in
(`g_ring_score`, 0 outside any), since few accounts sit in dense blocks. Each column's tail
probability in the base is turned into a surprise, s = -log(1 - share below) (0.7 for a median
account, about log(n) for the most unusual one), and the account's surprise is that of its
most unusual respect. The model's log-odds are then

    raw = bias + booster_weight x booster log-odds + surprise_weight x max surprise

How much to trust the surprise is learned, not set: the labelled data is made to show what an
unseen kind looks like. For each closing reason (`labels.reason`) with enough training
positives, boosters are trained without that reason's positives (and without one fold of
the training groups, `folds` times), and score the left-out fold: the blinded reason's
positives are then a kind the booster never saw, the other reasons' positives kinds it knows.
A logistic regression over (blind log-odds, max surprise), with both weights kept
non-negative (an unusual account is never less suspicious for it), fitted on those stacked
out-of-fold rows gives the three numbers. Labels without reasons (or of fewer than two
reasons) leave the booster as it is (weight 1, surprise weight 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl
from scipy.optimize import minimize

from training.boost import dataset
from training.config import BlendConfig

PREFIX = "anomaly_"
OVERALL = "anomaly_score"  # the forest over every column; the blend takes the families
RING = "g_ring_score"  # density of the account's candidate ring (label-free; 0 in none)
KNOTS = 200  # reference knots per family, evenly spaced in surprise


@dataclass(frozen=True)
class Blend:
    """Weights of the booster log-odds and the max surprise, and each family's reference
    knots (score values at evenly spaced surprise levels of the training base)."""

    columns: tuple[str, ...]  # anomaly family columns (and RING), among the model's features
    knots: tuple[tuple[float, ...], ...]  # per column: score at each level of `levels`
    levels: tuple[float, ...]  # surprise levels of the knots
    bias: float = 0.0
    booster_weight: float = 1.0
    surprise_weight: float = 0.0
    mean_surprise: float = 0.0  # mean max surprise over the base (reasons are relative to it)

    def per_family(self, x: np.ndarray, names: list[str]) -> np.ndarray:
        """Per row of the model matrix `x` and family column: its surprise (nulls ordinary)."""
        levels = np.asarray(self.levels)
        return np.column_stack(
            [
                level_of(np.nan_to_num(x[:, names.index(c)], nan=-np.inf), np.asarray(k), levels)
                for c, k in zip(self.columns, self.knots, strict=True)
            ]
        ).reshape(x.shape[0], len(self.columns))

    def surprise(self, x: np.ndarray, names: list[str]) -> np.ndarray:
        """Per row of the model matrix `x`: the largest surprise over the family columns."""
        per = self.per_family(x, names)
        return per.max(axis=1, initial=0.0)

    def apply(self, raw: np.ndarray, x: np.ndarray, names: list[str]) -> np.ndarray:
        """The blended log-odds of booster log-odds `raw` over the model matrix `x`."""
        if self.surprise_weight == 0.0 and self.booster_weight == 1.0 and self.bias == 0.0:
            return raw
        surprise = self.surprise(x, names) if self.surprise_weight else 0.0
        return self.bias + self.booster_weight * raw + self.surprise_weight * surprise

    def contributions(self, contrib: np.ndarray, x: np.ndarray, names: list[str]) -> np.ndarray:
        """TreeSHAP contributions (last column bias) of the blended log-odds: the booster's
        scaled, plus the surprise term (relative to the base mean) on the family column that
        gave the largest surprise; rows still sum to the blended log-odds."""
        out = contrib * self.booster_weight
        out[:, -1] += self.bias + self.surprise_weight * self.mean_surprise
        if self.surprise_weight == 0.0 or not self.columns:
            return out
        per = self.per_family(x, names)
        where = np.array([names.index(c) for c in self.columns])[per.argmax(axis=1)]
        term = self.surprise_weight * (per.max(axis=1) - self.mean_surprise)
        np.add.at(out, (np.arange(len(x)), where), term)
        return out

    def to_dict(self) -> dict:
        """Plain JSON-able form."""
        return {
            "columns": list(self.columns),
            "knots": [list(k) for k in self.knots],
            "levels": list(self.levels),
            "bias": self.bias,
            "booster_weight": self.booster_weight,
            "surprise_weight": self.surprise_weight,
            "mean_surprise": self.mean_surprise,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Blend:
        """Inverse of `to_dict`."""
        return cls(
            tuple(data["columns"]),
            tuple(tuple(float(v) for v in k) for k in data["knots"]),
            tuple(float(v) for v in data["levels"]),
            float(data["bias"]),
            float(data["booster_weight"]),
            float(data["surprise_weight"]),
            float(data["mean_surprise"]),
        )


def level_of(values: np.ndarray, knots: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The surprise level of each value, linear between knots; a value that several knots
    share (a tie in the base, e.g. every account without payments) takes the lowest of their
    levels (the share strictly below it), so a mass of identical ordinary accounts is not
    made to look rare. np.interp takes the last of equal knots, hence the mirrored call."""
    return np.interp(-values, -knots[::-1], levels[::-1])


def family_columns(names: list[str]) -> tuple[str, ...]:
    """The respects of unusualness among the model's features: the anomaly family columns
    (the overall score when the table has no family forests), then the candidate-ring
    density when the table has it."""
    families = tuple(n for n in names if n.startswith(PREFIX) and n != OVERALL)
    families = families or tuple(n for n in names if n == OVERALL)
    return (*families, *(n for n in names if n == RING)) if families else ()


def reference(values: np.ndarray, knots: int = KNOTS) -> tuple[tuple[float, ...], np.ndarray]:
    """Knots of one family's base distribution at surprise levels 0 .. log(n + 1): the score
    below which a share 1 - exp(-s) of the base lies (nulls left out)."""
    values = values[np.isfinite(values)]
    levels = np.linspace(0.0, np.log(max(values.size, 1) + 1.0), knots)
    if values.size == 0:
        return tuple(np.zeros(knots)), levels
    shares = np.clip(-np.expm1(-levels), 0.0, 1.0)
    return tuple(np.maximum.accumulate(np.quantile(values, shares))), levels


def neutral(columns: tuple[str, ...], table: np.ndarray) -> Blend:
    """A blend with each family's base reference and the booster alone (weights 1, 0)."""
    refs = [reference(table[:, j]) for j in range(len(columns))]
    levels = refs[0][1] if refs else np.zeros(1)
    return Blend(columns, tuple(r[0] for r in refs), tuple(levels.tolist()))


def nonnegative_logistic(z: np.ndarray, y: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
    """Intercept and weights (all >= 0) of an L2-penalised logistic regression on standardised
    columns of `z`, returned on the original scale."""
    mu, sd = z.mean(axis=0), z.std(axis=0) + 1e-12
    s = (z - mu) / sd
    n = len(y)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        margin = theta[0] + s @ theta[1:]
        value = np.sum(np.logaddexp(0.0, margin) - y * margin) / n
        residual = (0.5 * (1.0 + np.tanh(0.5 * margin)) - y) / n
        penalty = l2 * theta[1:] / n
        grad = np.concatenate([[residual.sum()], s.T @ residual + penalty])
        return value + 0.5 * l2 * float(theta[1:] @ theta[1:]) / n, grad

    bounds = [(None, None)] + [(0.0, None)] * z.shape[1]
    theta = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds).x
    weights = theta[1:] / sd
    return float(theta[0] - weights @ mu), weights


def blind_reasons(y: np.ndarray, reason: np.ndarray, minimum: int) -> list[str]:
    """Reasons with at least `minimum` training positives (sorted), when at least two are."""
    values, counts = np.unique(reason[(y == 1) & (reason != "")], return_counts=True)
    chosen = sorted(str(v) for v, c in zip(values, counts, strict=True) if c >= minimum)
    return chosen if len(chosen) >= 2 else []


def group_fold(groups: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """A fold number per row; every group is in one fold (seeded)."""
    unique, inverse = np.unique(groups, return_inverse=True)
    return (np.random.default_rng(seed).permutation(len(unique)) % folds)[inverse]


def blind_scores(
    x: np.ndarray,
    y: np.ndarray,
    reason: np.ndarray,
    fold: np.ndarray,
    reasons: list[str],
    fit: Callable[[np.ndarray], lgb.Booster],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stacked rows (row index, blind log-odds, target) from boosters that never saw the
    blinded reason's positives nor the scored fold; `fit(rows)` trains one on those rows."""
    index, raw, target = [], [], []
    for blinded in reasons:
        hidden = (y == 1) & (reason == blinded)
        for k in np.unique(fold):
            train = (fold != k) & ~hidden
            if y[train].min() == y[train].max():
                continue
            rows = np.flatnonzero(fold == k)
            index.append(rows)
            raw.append(fit(train).predict(x[rows], raw_score=True))
            target.append(y[rows])
    if not index:
        return np.zeros(0, int), np.zeros(0), np.zeros(0)
    return np.concatenate(index), np.concatenate(raw), np.concatenate(target)


def fit_blend(
    train: pl.DataFrame,
    x: np.ndarray,
    table: pl.DataFrame,
    names: list[str],
    categorical: list[str],
    params: dict,
    rounds: int,
    config: BlendConfig,
) -> tuple[Blend | None, list[str]]:
    """The blend for a booster trained on `train` (account_id, label, reason, group rows,
    matrix `x`) for `rounds` rounds; `table` is the whole base (the families' reference).
    None when the model has no anomaly columns or the blend is off; notes say why not."""
    columns = family_columns(names)
    if not config.enabled or not columns:
        return None, []
    base = neutral(columns, table.select(columns).to_numpy().astype(np.float64))
    y = train["label"].cast(pl.Int64).to_numpy()
    reason = train["reason"].cast(pl.String).fill_null("").to_numpy()
    reasons = blind_reasons(y, reason, config.min_positives)
    if not reasons:
        return base, ["anomaly blend left out: fewer than two closing reasons with enough labels"]
    fold = group_fold(train["group"].cast(pl.String).to_numpy(), config.folds, config.seed)
    params = {**params, "verbose": -1}

    def fit(rows: np.ndarray) -> lgb.Booster:
        data = dataset(x[rows], y[rows], names, categorical)
        return lgb.train(params, data, num_boost_round=rounds)

    index, raw, target = blind_scores(x, y, reason, fold, reasons, fit)
    surprise = base.surprise(x[index], names)
    bias, (w_raw, w_surprise) = nonnegative_logistic(
        np.column_stack([raw, surprise]), target, config.l2
    )
    if w_raw <= 0.0:  # the booster's order must still count: without it, keep it alone
        return base, ["anomaly blend left out: the stacked booster weight came out zero"]
    whole = base.surprise(table.select(columns).to_numpy().astype(np.float64), list(columns))
    blend = Blend(
        base.columns, base.knots, base.levels, bias, float(w_raw), float(w_surprise),
        float(whole.mean()),
    )  # fmt: skip
    return blend, []


def blend_of(
    design: Any, booster: lgb.Booster, params: dict, config: BlendConfig
) -> tuple[Blend | None, list[str]]:
    """fit_blend for a booster trained on a training.fit.Design's train part (as many rounds
    as it kept)."""
    rounds = max(1, booster.best_iteration or booster.current_iteration())
    x, names = design.x["train"], design.names
    return fit_blend(
        design.rows["train"], x, design.table, names, design.categorical, params, rounds, config
    )
