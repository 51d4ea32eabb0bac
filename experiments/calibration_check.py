"""How flat is the top of the list? Plain vs centred isotonic calibration on a simulated world.

python -m experiments.calibration_check --accounts 20000 --camouflage heavy

Trains the default model twice on the same world (same trees; only the calibration differs)
and prints, for each method: accounts whose calibrated score reads 1.000, the largest group
of accounts sharing one 3-decimal score among the top 500, distinct 3-decimal scores in the
top 500, and the held-out Brier score and expected calibration error.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl

METHODS = ("isotonic", "smooth_isotonic")


def flatness(scores: np.ndarray, top: int = 500) -> dict[str, float]:
    """Ties in the displayed (3-decimal) scores of the best `top` accounts."""
    shown = np.round(np.sort(scores)[::-1], 3)
    head = shown[:top]
    _, counts = np.unique(head, return_counts=True)
    return {
        "reads_1.000": int((shown >= 1.0).sum()),
        "largest_tie_top": int(counts.max()),
        "distinct_top": int(counts.size),
    }


def check(accounts: int, camouflage: str, seed: int) -> list[dict]:
    """One row per calibration method on one simulated world."""
    from experiments.simulate import WorldConfig, simulate_to
    from features.io.load import labels_known_at, load_dataset
    from features.pipeline import feature_table
    from training.config import TrainConfig
    from training.fit import fit_model

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "world"
        world = WorldConfig(accounts=accounts, camouflage=camouflage, seed=seed)
        simulate_to(world.check(), data)
        ds = load_dataset(data)
        table = feature_table(ds, Path(tmp) / "cache")
        known = labels_known_at(ds)  # training's one rule for the labels at the snapshot
        rows = []
        for method in METHODS:
            config = replace(TrainConfig(), calibration=method)
            fit = fit_model(
                table.frame, known, table.rings.components, config, graphs=table.graphs,
                known=known,
            )  # fmt: skip
            scores = fit.scored["score"].to_numpy()
            rows.append(
                {
                    "world": f"{accounts:,} {camouflage}",
                    "method": method,
                    **flatness(scores),
                    "test_brier": round(fit.metrics.get("test_brier", float("nan")), 4),
                    "test_ece": round(fit.metrics.get("test_ece", float("nan")), 4),
                    "test_ap": round(fit.metrics.get("test_average_precision", float("nan")), 4),
                }
            )
    return rows


def main() -> None:
    """Print the comparison as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--camouflage", default="light")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    frame = pl.DataFrame(check(args.accounts, args.camouflage, args.seed))
    with pl.Config(
        tbl_formatting="MARKDOWN", tbl_hide_column_data_types=True, tbl_rows=-1, tbl_width_chars=300
    ):
        print(frame)


if __name__ == "__main__":
    main()
