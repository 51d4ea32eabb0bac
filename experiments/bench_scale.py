"""`ringwatch bench scale`: one world through one process and through a Dask LocalCluster.

Each (engine, stage) runs in a fresh process, as the CLI runs it (features → train → score,
each with its own workspace so the cluster run does not reuse the one-process cache), so peak
memory is the stage's own: the client's (ru_maxrss of that process) and, on the cluster, each
worker's (ru_maxrss of every worker process, which lives as long as the stage). The cluster's
task stream gives the seconds spent in each kind of task; from those per-bucket costs a
capacity model sizes a cluster for a larger base (default 20 M accounts, 1 B events, 1 hour).
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from queue import Empty

from common.progress import Say, silent

STAGES = ("features", "train", "score")
GIB = 2**30
BASE_GIB = 0.35  # a process with polars, numba and lightgbm loaded, before any data
#: task name prefixes of the map-reduce steps whose costs scale with events / accounts
EVENT_TASKS = ("split_events", "bucket_stage", "shard_stage", "finish_stage")
ACCOUNT_TASKS = ("score_bucket",)


def peak_gib() -> float:
    """Peak resident memory of this process so far, GiB (runs on the workers too)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def run_stage(stage: str, data: Path, workspace: Path, engine) -> None:
    """One CLI stage through the composition layer the commands call."""
    from detection import commands

    common = dict(data=data, workspace=workspace, engine=engine)
    if stage == "features":
        commands.features(commands.FeaturesRequest(**common))
    elif stage == "train":
        commands.train(commands.TrainRequest(**common, experiment="bench-scale"))
    else:
        out = workspace / "lists"
        model = "models:/ringwatch@challenger"
        commands.score(commands.ScoreRequest(**common, out=out, model=model, overwrite=True))


def task_seconds(stream: list[dict]) -> dict[str, dict[str, float]]:
    """Seconds of compute and number of tasks per task name prefix (from a task stream)."""
    out: dict[str, dict[str, float]] = {}
    for task in stream:
        name = str(task["key"]).split("-")[0]
        busy = sum(s["stop"] - s["start"] for s in task["startstops"] if s["action"] == "compute")
        entry = out.setdefault(name, {"seconds": 0.0, "tasks": 0})
        entry["seconds"] += busy
        entry["tasks"] += 1
    return out


def _child(
    stage: str, data: str, workspace: str, cluster: str | None, memory: str, queue: mp.Queue
) -> None:
    from distributed import get_task_stream

    from features.cluster import open_engine

    start = time.perf_counter()
    result: dict = {"workers": {}, "tasks": {}}
    with open_engine(cluster, Path(workspace), memory) as engine:
        ready = time.perf_counter() - start
        if engine.distributed:
            with get_task_stream(engine.client) as stream:
                run_stage(stage, Path(data), Path(workspace), engine)
            result["tasks"] = task_seconds(stream.data)
            result["workers"] = engine.client.run(peak_gib)
        else:
            run_stage(stage, Path(data), Path(workspace), engine)
    result |= {"wall_s": time.perf_counter() - start, "startup_s": ready, "client_gib": peak_gib()}
    queue.put(result)


def measure(stage: str, data: Path, workspace: Path, cluster: str | None, memory: str) -> dict:
    """One stage in a fresh process; raises when it fails."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    args = (stage, str(data), str(workspace), cluster, memory, queue)
    process = context.Process(target=_child, args=args)
    process.start()
    result = None
    while result is None and (process.is_alive() or not queue.empty()):
        try:  # before join: a large result would block the child's exit
            result = queue.get(timeout=5)
        except Empty:
            continue
    process.join()
    if process.exitcode != 0 or result is None:
        raise RuntimeError(f"bench scale: {stage} on {cluster or 'one process'} failed")
    return result


@dataclass(frozen=True)
class Target:
    """The base a capacity model sizes a cluster for."""

    accounts: int = 20_000_000
    events: int = 1_000_000_000
    hours: float = 1.0
    worker_gib: float = 3.0


def capacity(rows: list[dict], accounts: int, events: int, target: Target) -> dict:
    """Workers, memory and wall time for `target`, from the cluster run's measured costs.

    Task seconds per event (behaviour map-reduce) and per account (scoring) scale linearly;
    what ran on the client (the stage's wall time minus its share of task time spread over
    the workers, and cluster start-up) scales linearly with accounts and stays serial; worker
    memory is a fixed base plus a per-event cost of the largest bucket, which sets how many
    buckets keep a worker under its limit; client memory a fixed base plus a per-account part.
    Linear from one size: fixed costs (start-up, model loading, the report) inflate it on small
    worlds, so size a cluster from a run at 1 M accounts or more."""
    cluster = [r for r in rows if r["engine"] != "one process"]
    workers = max(len(r["workers"]) for r in cluster) or 1
    per_event = sum(r["tasks"].get(t, {}).get("seconds", 0.0) for r in cluster for t in EVENT_TASKS)
    per_account = sum(
        r["tasks"].get(t, {}).get("seconds", 0.0) for r in cluster for t in ACCOUNT_TASKS
    )
    task_total = per_event + per_account
    client_s = sum(r["wall_s"] - r["startup_s"] for r in cluster) - task_total / workers
    buckets = max((r["tasks"].get("bucket_stage", {}).get("tasks", 0) for r in cluster), default=1)
    worker_peak = max(max(r["workers"].values(), default=0.0) for r in cluster)
    scale_a, scale_e = target.accounts / accounts, target.events / events
    task_target = per_event * scale_e + per_account * scale_a
    client_target = max(client_s, 0.0) * scale_a
    budget = target.hours * 3600 - client_target
    needed = math.ceil(task_target / budget) if budget > 0 else None
    per_bucket_event = max(worker_peak - BASE_GIB, 0.01) / max(events / max(buckets, 1), 1)
    bucket_events = (0.7 * target.worker_gib - BASE_GIB) / per_bucket_event
    client_peak = max(r["client_gib"] for r in cluster)
    client_gib = BASE_GIB + max(client_peak - BASE_GIB, 0.0) * scale_a
    return {
        "target": target.__dict__,
        "measured": {
            "accounts": accounts,
            "events": events,
            "workers": workers,
            "buckets": buckets,
            "task_s_events": round(per_event, 1),
            "task_s_accounts": round(per_account, 1),
            "client_serial_s": round(client_s, 1),
            "worker_peak_gib": round(worker_peak, 2),
        },
        "task_hours": round(task_target / 3600, 2),
        "client_serial_hours": round(client_target / 3600, 2),
        "workers_for_target": needed,
        "events_per_bucket": int(bucket_events),
        "buckets": math.ceil(target.events / max(bucket_events, 1)),
        "client_gib": round(client_gib, 1),
    }


def bench_scale(data: Path, work: Path, cluster: str, memory: str, say: Say = silent) -> list[dict]:
    """Every stage through one process and through the cluster; one row per (engine, stage)."""
    rows = []
    for engine in (None, cluster):
        workspace = work / ("single" if engine is None else "cluster")
        for stage in STAGES:
            say(f"{engine or 'one process'}: {stage}")
            r = measure(stage, data, workspace, engine, memory)
            rows.append({"engine": engine or "one process", "stage": stage, **r})
    return rows


def to_markdown(rows: list[dict], model: dict) -> str:
    """The stage table and the capacity model as Markdown."""
    lines = [
        "| engine | stage | wall s | start-up s | client peak GiB | worker peaks GiB |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        peaks = ", ".join(f"{v:.2f}" for v in r["workers"].values()) or "—"
        lines.append(
            f"| {r['engine']} | {r['stage']} | {r['wall_s']:.1f} | "
            f"{r['startup_s']:.1f} | {r['client_gib']:.2f} | {peaks} |"
        )
    t, m = model["target"], model["measured"]
    workers = model["workers_for_target"]
    lines += [
        "",
        f"Capacity model for {t['accounts']:,} accounts / {t['events']:,} events in "
        f"{t['hours']} h with {t['worker_gib']} GiB workers (from {m['accounts']:,} accounts, "
        f"{m['events']:,} events, {m['buckets']} buckets on {m['workers']} workers): "
        f"{model['task_hours']} task-hours on the workers, {model['client_serial_hours']} h "
        f"serial on the client (graph stage, assembly, list), client memory "
        f"~{model['client_gib']} GiB; {model['buckets']} buckets of ≤ "
        f"{model['events_per_bucket']:,} events; "
        + (
            f"**{workers} workers**."
            if workers
            else "**not reachable**: the client's serial part alone exceeds the time budget."
        ),
    ]
    return "\n".join(lines)


def main(
    accounts: int, data: Path | None, cluster: str, memory: str, out: Path, say: Say = silent
) -> str:
    """Simulate (unless `data` is given), run both engines, write scale.md and scale.json;
    the Markdown written."""
    from experiments.simulate import WorldConfig, simulate_to
    from features.io.load import load_dataset

    out.mkdir(parents=True, exist_ok=True)
    if data is None:
        data = out / "data"
        if not (data / "accounts.parquet").exists():
            say(f"simulating {accounts:,} accounts into {data}")
            simulate_to(WorldConfig(accounts=accounts).check(), data, overwrite=True)
    ds = load_dataset(data)
    n_accounts, n_events = ds.accounts.height, ds.n_events
    rows = bench_scale(data, out / "work", cluster, memory, say)
    model = capacity(rows, n_accounts, n_events, Target())
    load = " ".join(f"{v:.2f}" for v in __import__("os").getloadavg())
    header = (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load}, "
        f"{n_accounts:,} accounts, {n_events:,} events, --cluster {cluster} "
        f"--worker-memory {memory}\n\n"
    )
    text = header + to_markdown(rows, model)
    (out / "scale.md").write_text(text + "\n")
    (out / "scale.json").write_text(json.dumps({"rows": rows, "model": model}, indent=2))
    return text
