"""Evaluation pictures (PNG on the Agg canvas): curves, calibration, histograms, importance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

TOP_FEATURES = 20


def _subplots(figsize: tuple[float, float]) -> tuple[Figure, object]:
    """A figure on the Agg canvas (no pyplot: no global figure state) and its axes."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _save(fig: Figure, path: Path) -> Path:
    """Write a figure as PNG."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return Path(path)


def pr_curve(y: np.ndarray, p: np.ndarray, path: Path, title: str = "held-out") -> Path:
    """Precision against recall over every threshold."""
    precision, recall, _ = precision_recall_curve(y, p)
    fig, ax = _subplots((5, 4))
    ax.step(recall, precision, where="post")
    ax.axhline(np.mean(y), color="grey", ls=":", label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title=f"Precision-recall ({title})", ylim=(0, 1.02))
    ax.legend(loc="lower left")
    return _save(fig, path)


def roc(y: np.ndarray, p: np.ndarray, path: Path, title: str = "held-out") -> Path:
    """True- against false-positive rate."""
    fpr, tpr, _ = roc_curve(y, p)
    fig, ax = _subplots((5, 4))
    ax.plot(fpr, tpr)
    ax.plot([0, 1], [0, 1], color="grey", ls=":")
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title=f"ROC ({title})")
    return _save(fig, path)


def calibration(y: np.ndarray, p: np.ndarray, path: Path, bins: int = 10) -> Path:
    """Observed bad rate against predicted probability, per equal-width bin."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    mids, observed, counts = [], [], []
    for b in range(bins):
        mask = which == b
        if mask.any():
            mids.append(p[mask].mean())
            observed.append(y[mask].mean())
            counts.append(int(mask.sum()))
    fig, ax = _subplots((5, 4))
    ax.plot([0, 1], [0, 1], color="grey", ls=":")
    ax.scatter(mids, observed, s=[10 + 90 * c / max(counts) for c in counts])
    ax.plot(mids, observed)
    ax.set(xlabel="predicted P(bad)", ylabel="observed bad rate", title="Calibration (held-out)")
    return _save(fig, path)


def score_histogram(y: np.ndarray, p: np.ndarray, path: Path) -> Path:
    """Distribution of calibrated scores for good and bad held-out accounts."""
    fig, ax = _subplots((5, 4))
    edges = np.linspace(0, 1, 41)
    ax.hist(p[y == 0], bins=edges, alpha=0.6, label="good (0)", density=True)
    ax.hist(p[y == 1], bins=edges, alpha=0.6, label="bad (1)", density=True)
    ax.set(xlabel="P(bad)", ylabel="density", title="Scores by class (held-out)")
    ax.legend()
    return _save(fig, path)


def importance(gain: dict[str, float], path: Path) -> Path:
    """Total gain per feature, the largest first."""
    items = sorted(gain.items(), key=lambda kv: kv[1], reverse=True)[:TOP_FEATURES][::-1]
    fig, ax = _subplots((6, 0.3 * len(items) + 1.2))
    ax.barh([k for k, _ in items], [v for _, v in items])
    ax.set(xlabel="total gain", title="Feature importance (gain)")
    return _save(fig, path)


def contribution_summary(
    contrib: np.ndarray, values: np.ndarray, names: list[str], path: Path
) -> Path:
    """SHAP-style beeswarm: each row's contribution per feature, coloured by feature value rank."""
    contrib = contrib[:, : len(names)]
    order = np.argsort(np.abs(contrib).mean(axis=0))[::-1][:TOP_FEATURES][::-1]
    rng = np.random.default_rng(0)
    fig, ax = _subplots((6.5, 0.32 * len(order) + 1.4))
    for row, j in enumerate(order):
        v = values[:, j]
        finite = np.isfinite(v)
        colour = np.full(len(v), 0.5)
        if finite.sum() > 1:
            ranks = np.argsort(np.argsort(v[finite]))
            colour[finite] = ranks / max(len(ranks) - 1, 1)
        jitter = rng.uniform(-0.3, 0.3, size=len(v))
        ax.scatter(contrib[:, j], row + jitter, c=colour, cmap="coolwarm", s=4, alpha=0.7)
    ax.set_yticks(range(len(order)), [names[j] for j in order])
    ax.axvline(0, color="grey", lw=0.8)
    ax.set(xlabel="contribution to log-odds (pred_contrib)", title="Feature contributions (sample)")
    return _save(fig, path)
