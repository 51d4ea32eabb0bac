"""`ringwatch bench speed`: the weekly run's commands timed one by one, beside a plain peer.

For each world size: simulate a world (not timed), then run `ringwatch features`, `train`,
`score` (after `promote`) each in a fresh process, and a plain peer pipeline — polars
group-by counts of the same events and edges, LightGBM on the labelled rows, Booster.predict
over every account — step by step the same way. Each row gives wall time, CPU time (user +
system, all threads) and the process's peak RSS, and ours over the peer's wall time. Before
the first size (when above 3,000 accounts) a small world runs through every command so
numba's cache is warm; the model is compiled to native code (once per model version) in its
own process before `score`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from common.progress import Say, silent

WARM_ACCOUNTS = 3_000
PEER_ROUNDS = 200  # the peer's LightGBM rounds (ours stops early on a validation part)
PEER_ACTIONS = ("post", "login", "follow", "like", "comment", "share", "payment")


@dataclass(frozen=True)
class Measured:
    """One process: wall seconds, CPU seconds (user + system) and peak RSS in GiB."""

    wall_s: float
    cpu_s: float
    peak_gib: float


def run_measured(args: list[str], log: Path) -> Measured:
    """Run a command in a fresh process (output to `log`) and measure it with wait4."""
    with log.open("ab") as out:
        start = time.perf_counter()
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({process.returncode}); see {log}")
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 2**20)


def ringwatch(*args: str) -> list[str]:
    """The argv of a ringwatch command of this Python's environment."""
    return [str(Path(sys.executable).parent / "ringwatch"), *args]


def this_module(*args: str) -> list[str]:
    """The argv of one of this module's own steps (peer pipeline, compile)."""
    return [sys.executable, "-m", "experiments.bench_speed", *args]


def simulate(accounts: int, folder: Path) -> int:
    """Write a default simulated world of `accounts`; returns its number of events."""
    from experiments.simulate import WorldConfig, simulate_to

    written = simulate_to(WorldConfig(accounts=accounts).check(), folder, overwrite=True)
    return written.rows["events"]


def our_commands(data: Path, work: Path) -> dict[str, list[str]]:
    """The product's commands on `data`, in order (promote and compile are set-up, untimed
    as commands; compile is reported on its own row)."""
    ws = str(work / "workspace")
    return {
        "features": ringwatch(
            "features", str(data), "--out", str(work / "f.parquet"), "--workspace", ws
        ),
        "train": ringwatch("train", str(data), "--workspace", ws),
        "promote": ringwatch("promote", "1", "--workspace", ws),
        "compile": this_module("compile", ws),
        "score": ringwatch("score", str(data), "--out", str(work / "lists"), "--workspace", ws),
    }


def peer_commands(data: Path, work: Path) -> dict[str, list[str]]:
    """The plain peer's steps on `data`, in order."""
    return {
        step: this_module(f"peer-{step}", str(data), str(work))
        for step in ("features", "train", "score")
    }


def warm_up(root: Path, say: Say) -> None:
    """Run every command once on a small world so numba's on-disk cache is filled."""
    work = root / "warm"
    data = work / "data"
    say(f"warming the JIT cache on {WARM_ACCOUNTS:,} accounts")
    simulate(WARM_ACCOUNTS, data)
    for args in our_commands(data, work).values():
        run_measured(args, work / "log.txt")
    shutil.rmtree(work, ignore_errors=True)


def scoring_rate(work: Path) -> float:
    """Accounts per second of the scoring step of the written list (its manifest)."""
    manifest = json.loads(next((work / "lists").glob("*/manifest.json")).read_text())
    seconds = manifest["timings"].get("score") or float("nan")
    return manifest["counts"]["accounts_scored"] / seconds


def bench_size(accounts: int, root: Path, say: Say) -> list[dict]:
    """Every command and its peer at one size; one row each, plus compile and end to end."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-speed-{accounts}-", dir=root))
    try:
        data = work / "data"
        say(f"{accounts:,} accounts: simulating")
        events = simulate(accounts, data)
        ours = {}
        for name, args in our_commands(data, work).items():
            say(f"{accounts:,} accounts: ringwatch {name}")
            ours[name] = run_measured(args, work / "log.txt")
        peer = {}
        for name, args in peer_commands(data, work).items():
            say(f"{accounts:,} accounts: peer {name}")
            peer[name] = run_measured(args, work / "log.txt")
        rate = scoring_rate(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [
        row(accounts, events, name, ours[name], peer.get(name))
        for name in ("features", "train", "compile", "score")
    ]
    chain = ("features", "train", "score")
    rows.append(row(accounts, events, "end to end", total(ours, chain), total(peer, chain)))
    rows[-1]["note"] = f"features + train + score; scoring step {rate:,.0f} accounts/s"
    return rows


def total(measured: dict[str, Measured], names: tuple[str, ...]) -> Measured:
    """Several processes one after another: summed times, the largest peak."""
    parts = [measured[n] for n in names]
    return Measured(
        sum(p.wall_s for p in parts), sum(p.cpu_s for p in parts), max(p.peak_gib for p in parts)
    )


def row(accounts: int, events: int, command: str, ours: Measured, peer: Measured | None) -> dict:
    """One table row: our figures, the peer's, and the wall-time ratio."""
    out = {
        "accounts": accounts,
        "events": events,
        "command": command,
        "wall_s": round(ours.wall_s, 1),
        "cpu_s": round(ours.cpu_s, 1),
        "peak_gib": round(ours.peak_gib, 2),
        "peer_wall_s": None,
        "peer_cpu_s": None,
        "peer_peak_gib": None,
        "ratio": None,
        "note": "once per model version" if command == "compile" else "",
    }
    if peer is not None:
        out |= {
            "peer_wall_s": round(peer.wall_s, 1),
            "peer_cpu_s": round(peer.cpu_s, 1),
            "peer_peak_gib": round(peer.peak_gib, 2),
            "ratio": round(ours.wall_s / peer.wall_s, 2),
        }
    return out


def machine() -> dict:
    """When and on what the benchmark ran."""
    load = os.getloadavg()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "load_average": [round(v, 2) for v in load],
    }


def bench_speed(sizes: list[int], root: Path | None = None, say: Say = silent) -> dict:
    """Every command at every size, with the machine's state before and after."""
    root = Path(tempfile.mkdtemp(prefix="bench-speed-", dir=root))
    try:
        before = machine()
        if min(sizes) > WARM_ACCOUNTS:  # a smaller run is its own warm-up
            warm_up(root, say)
        rows = [r for accounts in sizes for r in bench_size(accounts, root, say)]
        return {"before": before, "after": machine(), "rows": rows}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _cell(value: object) -> str:
    """A Markdown cell: numbers as they are, missing as a dash."""
    return "—" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def to_markdown(result: dict) -> str:
    """The result as the README's Markdown: a line on the machine, then one table."""
    b, a = result["before"], result["after"]
    lines = [
        f"{b['date']}, {b['cores']} cores; load average (1, 5, 15 min) before "
        f"{', '.join(map(str, b['load_average']))}, after {', '.join(map(str, a['load_average']))}",
        "",
        "| accounts | events | command | wall s | CPU s | peak RSS GiB | peer wall s | peer CPU s "
        "| peer peak GiB | ours / peer (wall) | note |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    keys = (
        "accounts",
        "events",
        "command",
        "wall_s",
        "cpu_s",
        "peak_gib",
        "peer_wall_s",
        "peer_cpu_s",
        "peer_peak_gib",
        "ratio",
        "note",
    )
    for r in result["rows"]:
        lines.append("| " + " | ".join(_cell(r[k]) for k in keys) + " |")
    return "\n".join(lines)


def main(sizes: list[int], out: Path | None, say: Say = silent) -> dict:
    """Run and (optionally) write the table as Markdown and JSON; the result (to_markdown
    renders it)."""
    result = bench_speed(sizes, say=say)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "speed.md").write_text(to_markdown(result) + "\n")
        (out / "speed.json").write_text(json.dumps(result, indent=2))
    return result


# ---- the steps run in their own processes: python -m experiments.bench_speed STEP ARGS ----


def compile_champion(workspace: Path) -> None:
    """Compile the champion model to native code (what the first weekly score would do)."""
    from detection.commands import COMPILED_MODELS
    from detection.settings import CHAMPION_URI
    from training.compiled import compile_model
    from training.registry import load_model

    model = load_model(CHAMPION_URI, workspace)
    if compile_model(model, workspace / COMPILED_MODELS, print) is None:
        raise SystemExit("compiling the model failed")


def _events(data: Path) -> pl.LazyFrame:
    """The events table as a scan (one file or a folder of parts)."""
    path = data / "events.parquet"
    return pl.scan_parquet(path if path.is_file() else data / "events" / "*.parquet")


def peer_features(data: Path, work: Path) -> None:
    """Plain polars: per-account event counts by action, distinct identifiers and targets,
    edge counts out and in, joined to the accounts table."""
    counts = (
        _events(data)
        .group_by("account_id")
        .agg(
            pl.len().alias("events"),
            *[(pl.col("action") == a).sum().alias(f"n_{a}") for a in PEER_ACTIONS],
            *[
                pl.col(c).n_unique().alias(f"distinct_{c}")
                for c in ("ip", "device", "instrument", "target_id")
            ],
        )
    )
    edges = pl.scan_parquet(data / "edges.parquet")
    out_degree = edges.group_by(pl.col("src").alias("account_id")).agg(out_edges=pl.len())
    in_degree = edges.group_by(pl.col("dst").alias("account_id")).agg(in_edges=pl.len())
    accounts = pl.scan_parquet(data / "accounts.parquet").select(
        "account_id", pl.col("verified").cast(pl.Int8), "followers"
    )
    table = accounts.join(counts, on="account_id", how="left")
    table = table.join(out_degree, on="account_id", how="left").join(
        in_degree, on="account_id", how="left"
    )
    table.sort("account_id").collect().write_parquet(work / "peer-features.parquet")


def peer_train(data: Path, work: Path) -> None:
    """Plain LightGBM on the labelled accounts (latest label each), fixed rounds."""
    import lightgbm as lgb

    labels = (
        pl.read_parquet(data / "labels.parquet")
        .sort("labelled_at")
        .unique("account_id", keep="last")
    )
    rows = pl.read_parquet(work / "peer-features.parquet").join(
        labels.select("account_id", "label"), on="account_id"
    )
    x = rows.drop("account_id", "label").to_numpy().astype("float64")
    params = {"objective": "binary", "verbose": -1, "seed": 0}
    booster = lgb.train(
        params, lgb.Dataset(x, rows["label"].to_numpy()), num_boost_round=PEER_ROUNDS
    )
    booster.save_model(str(work / "peer-model.txt"))


def peer_score(data: Path, work: Path) -> None:
    """Booster.predict over every account, ranked, the top 500 written as CSV."""
    import lightgbm as lgb

    table = pl.read_parquet(work / "peer-features.parquet")
    booster = lgb.Booster(model_file=str(work / "peer-model.txt"))
    scores = booster.predict(table.drop("account_id").to_numpy().astype("float64"))
    ranked = (
        table.select("account_id")
        .with_columns(score=scores)
        .sort("score", "account_id", descending=[True, False])
    )
    ranked.write_parquet(work / "peer-scores.parquet")
    ranked.head(500).write_csv(work / "peer-candidates.csv")


STEPS = {"peer-features": peer_features, "peer-train": peer_train, "peer-score": peer_score}

if __name__ == "__main__":
    step, *paths = sys.argv[1:]
    if step == "compile":
        compile_champion(Path(paths[0]))
    else:
        STEPS[step](Path(paths[0]), Path(paths[1]))
