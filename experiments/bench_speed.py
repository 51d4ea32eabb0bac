"""`ringwatch bench speed`: wall time, throughput and peak memory of every stage, per world size.

Each stage runs in a fresh process (so its peak RSS is its own) and hands its output to the
next through files in a work folder: simulate → load → behaviour → graph+rings → train → score.
Run it on a quiet machine; the README's performance section comes from it.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

STAGES = ("simulate", "load", "behaviour", "graph", "train", "score")


def _simulate(work: Path, accounts: int) -> int:
    from experiments.simulate import WorldConfig, simulate_to

    written = simulate_to(WorldConfig(accounts=accounts).check(), work / "data", overwrite=True)
    return written.rows["events"]


def _load(work: Path, accounts: int) -> int:
    from features.io.load import load_dataset

    return load_dataset(work / "data").n_events


def _behaviour(work: Path, accounts: int) -> int:
    from features.behaviour import build_behaviour_features
    from features.io.load import load_dataset

    ds = load_dataset(work / "data")
    start = time.perf_counter()
    frame = build_behaviour_features(ds.accounts, ds.events, ds.as_of)
    frame.write_parquet(work / "behaviour.parquet")
    _mark(work, "behaviour", time.perf_counter() - start)
    return ds.n_events


def _graph(work: Path, accounts: int) -> int:
    from features.config import GraphConfig
    from features.graph import build_graph_features, build_graphs, find_rings
    from features.io.load import load_dataset
    from features.pipeline import account_attributes

    ds = load_dataset(work / "data")
    behaviour = pl.read_parquet(work / "behaviour.parquet")
    start = time.perf_counter()
    graphs = build_graphs(ds, GraphConfig())
    rings = find_rings(ds, graphs, GraphConfig(), labels=ds.labels)
    graph = build_graph_features(ds, graphs, behaviour, GraphConfig(), rings=rings)
    _mark(work, "graph", time.perf_counter() - start)
    table = account_attributes(ds).join(behaviour, on="account_id").join(graph, on="account_id")
    table.write_parquet(work / "features.parquet")
    rings.components.write_parquet(work / "components.parquet")
    return graphs.n


def _train(work: Path, accounts: int) -> int:
    from features.io.load import load_dataset
    from training.config import TrainConfig
    from training.fit import fit_model

    ds = load_dataset(work / "data")
    features = pl.read_parquet(work / "features.parquet")
    groups = pl.read_parquet(work / "components.parquet")
    start = time.perf_counter()
    fit = fit_model(features, ds.labels, groups, TrainConfig(label_features=False), None)
    _mark(work, "train", time.perf_counter() - start)
    fit.model.save(work / "model")
    return ds.labels.height


def _score(work: Path, accounts: int) -> int:
    from detection.pipeline import score_base
    from features.io.load import load_dataset
    from training.model import RingwatchModel

    ds = load_dataset(work / "data")
    features = pl.read_parquet(work / "features.parquet")
    model = RingwatchModel.load(work / "model")
    start = time.perf_counter()
    score_base(features, model, ds.as_of, work / "lists", overwrite=True)
    _mark(work, "score", time.perf_counter() - start)
    return features.height


RUNNERS: dict[str, Callable[[Path, int], int]] = {
    "simulate": _simulate,
    "load": _load,
    "behaviour": _behaviour,
    "graph": _graph,
    "train": _train,
    "score": _score,
}
UNITS = {
    "simulate": "events",
    "load": "events",
    "behaviour": "events",
    "graph": "accounts",
    "train": "labels",
    "score": "accounts",
}


def _mark(work: Path, stage: str, seconds: float) -> None:
    """Record the seconds of the stage's own work (without loading its inputs)."""
    (work / f"{stage}.seconds").write_text(f"{seconds:.3f}")


def _child(stage: str, work: str, accounts: int, queue: mp.Queue) -> None:
    start = time.perf_counter()
    items = RUNNERS[stage](Path(work), accounts)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB → GiB
    queue.put({"items": items, "wall_s": wall, "peak_gib": peak})


def run_stage(stage: str, work: Path, accounts: int) -> dict:
    """One stage in a fresh process: its item count, wall time, own-work time, peak RSS."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(stage, str(work), accounts, queue))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"bench stage {stage} failed with exit code {process.exitcode}")
    result = queue.get()
    own = work / f"{stage}.seconds"
    result["work_s"] = float(own.read_text()) if own.exists() else result["wall_s"]
    return result


def bench_speed(sizes: list[int], root: Path | None = None, say=print) -> pl.DataFrame:
    """Every stage at every size; one row per (accounts, stage)."""
    rows = []
    for accounts in sizes:
        work = Path(tempfile.mkdtemp(prefix=f"bench-speed-{accounts}-", dir=root))
        try:
            for stage in STAGES:
                say(f"{accounts:,} accounts: {stage}")
                r = run_stage(stage, work, accounts)
                rate = r["items"] / r["work_s"] if r["work_s"] > 0 else float("nan")
                rows.append(
                    {
                        "accounts": accounts,
                        "stage": stage,
                        "items": r["items"],
                        "unit": UNITS[stage],
                        "wall_s": round(r["wall_s"], 1),
                        "work_s": round(r["work_s"], 1),
                        "per_s": round(rate),
                        "peak_gib": round(r["peak_gib"], 2),
                    }
                )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return pl.DataFrame(rows)


def to_markdown(table: pl.DataFrame) -> str:
    """The result as a Markdown table for the README."""
    head = "| accounts | stage | items | wall s | own work s | items/s | peak RSS GiB |"
    lines = [head, "|---:|---|---:|---:|---:|---:|---:|"]
    for r in table.iter_rows(named=True):
        lines.append(
            f"| {r['accounts']:,} | {r['stage']} | {r['items']:,} {r['unit']} | {r['wall_s']} "
            f"| {r['work_s']} | {r['per_s']:,} | {r['peak_gib']} |"
        )
    return "\n".join(lines)


def main(sizes: list[int], out: Path | None) -> pl.DataFrame:
    """Run, print and (optionally) write the table as Markdown and JSON."""
    table = bench_speed(sizes)
    print(to_markdown(table))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "speed.md").write_text(to_markdown(table) + "\n")
        (out / "speed.json").write_text(json.dumps(table.to_dicts(), indent=2))
    return table
