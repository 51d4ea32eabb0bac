"""Benchmark of weekly scoring: chunked prediction, TreeSHAP cost, and a full `score_base` run.

python -m experiments.bench_score [--accounts 1000000] [--features 60] [--trees 200]
                                  [--chunk 100000] [--capacity 500] [--out DIR]

A synthetic feature table (features already built, as in the issue's target) and a real
LightGBM RingwatchModel trained on a 50,000-row sample. Measures:
- predict throughput (rows/s) and pred_contrib throughput on 2,000 rows (the ~100x gap);
- `score_chunks` over the whole base, and the peak memory it adds above the feature table;
- `score_base` end to end (score, cut, explain the list, rings, files, report, manifest).
Prints one line per measurement and a JSON summary. Timings vary with machine load: say so.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from detection.manifest import MANIFEST
from experiments.measure import PeakRss


def feature_table(n: int, n_features: int, seed: int = 0) -> tuple[pl.DataFrame, np.ndarray]:
    """account_id + `n_features` float columns; about 2 % bad accounts that shift 8 features."""
    rng = np.random.default_rng(seed)
    bad = rng.random(n) < 0.02
    x = rng.normal(size=(n, n_features)).astype(np.float64)
    x[:, :8] += 1.5 * bad[:, None]
    frame = pl.DataFrame(x, schema=[f"f{i:02d}" for i in range(n_features)])
    ids = pl.Series("account_id", [f"a{i:08d}" for i in range(n)])
    return frame.insert_column(0, ids), bad


def ring_membership(n: int, seed: int = 1) -> pl.DataFrame:
    """A few thousand rings of 3 to 20 accounts (membership frame)."""
    rng = np.random.default_rng(seed)
    rows, start, ring = [], 0, 0
    while start < n and ring < 3000:
        size = int(rng.integers(3, 21))
        start += int(rng.integers(50, 400))
        members = range(start, min(start + size, n))
        rows += [(f"a{m:08d}", f"R{ring:06d}", float(size), len(members)) for m in members]
        start, ring = start + size, ring + 1
    return pl.DataFrame(
        rows, schema=["account_id", "ring_id", "ring_score", "ring_size"], orient="row"
    )


def train(frame: pl.DataFrame, bad: np.ndarray, trees: int):  # -> RingwatchModel
    """A real LightGBM model with isotonic calibration on a 50,000-row sample."""
    import lightgbm as lgb

    from training.calibrate import fit_calibrator
    from training.model import RingwatchModel

    names = frame.columns[1:]
    sample = min(frame.height, 50_000)
    x = frame.select(names).head(sample).to_numpy()
    y = bad[:sample].astype(np.int8)
    params = {
        "objective": "binary",
        "verbose": -1,
        "num_leaves": 31,
        "seed": 0,
        "min_data_in_leaf": 20,
    }
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=trees)
    calibrator = fit_calibrator(booster.predict(x, raw_score=True), y)
    return RingwatchModel(booster, calibrator, list(names), name="bench", version="1")


def timed(func):  # -> (result, seconds)
    """Run `func` and time it."""
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=60)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--capacity", type=int, default=500)
    parser.add_argument("--out", type=Path, default=None, help="keep the output here")
    args = parser.parse_args()

    from detection.config import ScoreConfig
    from detection.pipeline import score_base
    from detection.score import score_chunks

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (shared?)")
    frame, bad = feature_table(args.accounts, args.features)
    table_mb = frame.estimated_size() / 2**20
    print(f"feature table: {frame.height:,} x {args.features} ({table_mb:,.0f} MiB)")
    model, fit_s = timed(lambda: train(frame, bad, args.trees))
    print(f"trained {args.trees} trees in {fit_s:.1f} s")

    probe = frame.head(20_000).select(model.feature_names)
    _, predict_s = timed(lambda: model.predict(probe))
    few = probe.head(2_000)
    _, contrib_s = timed(lambda: model.contributions(few))
    predict_rate, contrib_rate = probe.height / predict_s, few.height / contrib_s
    print(
        f"predict: {predict_rate:,.0f} rows/s; pred_contrib: {contrib_rate:,.0f} rows/s "
        f"({predict_rate / contrib_rate:.0f}x slower)"
    )

    figures = {
        "accounts": args.accounts,
        "features": args.features,
        "trees": args.trees,
        "chunk": args.chunk,
        "table_mib": round(table_mb, 1),
        "predict_rows_per_s": round(predict_rate),
        "contrib_rows_per_s": round(contrib_rate),
    }
    for chunk in sorted({args.chunk, 20_000}):
        with PeakRss() as memory:
            _, seconds = timed(lambda c=chunk: score_chunks(model, frame, c))
        print(
            f"score_chunks(chunk={chunk:,}): {seconds:.1f} s "
            f"({args.accounts / seconds:,.0f} rows/s), peak +{memory.extra_mb:,.0f} MiB"
        )
        figures[f"score_chunks_s_chunk_{chunk}"] = round(seconds, 2)
        figures[f"score_chunks_peak_added_mib_chunk_{chunk}"] = round(memory.extra_mb, 1)

    membership = ring_membership(args.accounts)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        config = ScoreConfig(capacity=args.capacity, chunk_size=args.chunk)
        as_of = datetime(2024, 1, 28, tzinfo=UTC)
        with PeakRss() as memory:
            result, seconds = timed(
                lambda: score_base(
                    frame, model, as_of, out, config, membership=membership, overwrite=True
                )
            )
        timings = json.loads((result.folder / MANIFEST).read_text())["timings"]
    print(
        f"score_base end to end: {seconds:.1f} s, peak +{memory.extra_mb:,.0f} MiB; "
        f"steps: {timings}"
    )
    figures |= {
        "score_base_s": round(seconds, 2),
        "score_base_peak_added_mib": round(memory.extra_mb, 1),
        "score_base_steps": timings,
        "candidates": result.summary["candidates"],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
