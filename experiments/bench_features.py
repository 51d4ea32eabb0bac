"""Benchmark of the behavioural feature builder on simulated worlds.

    python -m experiments.bench_features --accounts 100000 1000000

For each size: simulate the world once (cached under --work), then time
`build_behaviour_features` in a fresh process (so peak memory is the build's own) and report
events per second and peak RSS; then time the numba kernels against their plain-Python twins
on the same events (a sample of accounts) and report the speed ratio and the largest
difference between the two. Modes: `dataset` hands the builder the Dataset of
`features.io.load.load_dataset` (what `ringwatch features` does: events stay a checked, cut scan
of the Parquet parts, and the load includes the validation pass); `lazy` hands it a bare
`pl.scan_parquet` of the events; `memory` collects the Dataset's events into memory first.
Both lazy sources are read once, in batches, into per-bucket temporary files. `auto` (the
default) times `lazy` and `dataset` at every size and `memory` up to 200,000 accounts, above
which the events alone would not fit in 8 GiB.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

from experiments.measure import PeakRss

GIB = 1024**3
MEMORY_MODE_MAX = 200_000  # `auto` mode times the in-memory path only up to this many accounts


def ensure_world(accounts: int, work: Path) -> Path:
    """The simulated world of `accounts` accounts under `work`, simulated once and reused."""
    from experiments.simulate import WorldConfig, simulate_to

    folder = work / f"world-{accounts}"
    if not (folder / "accounts.parquet").exists():
        started = time.perf_counter()
        written = simulate_to(WorldConfig(accounts=accounts), folder, overwrite=True)
        print(f"simulated {accounts:,} accounts in {time.perf_counter() - started:.0f} s: "
              f"{written.rows['events']:,} events", flush=True)  # fmt: skip
    return folder


def events_path(world: Path) -> Path:
    """The events table of a world: one file or a folder of parts (as a glob)."""
    single = world / "events.parquet"
    return single if single.exists() else world / "events" / "*.parquet"


def run_one(world: Path, mode: str, buckets: int) -> dict:
    """Time one feature build (in this process) and measure its memory."""
    from features.behaviour import build_behaviour_features
    from features.behaviour.buckets import bucket_count
    from features.config import BehaviourConfig
    from features.io.load import load_dataset

    config = BehaviourConfig(n_buckets=buckets)
    with PeakRss() as rss:
        started = time.perf_counter()
        if mode == "lazy":
            accounts = pl.read_parquet(world / "accounts.parquet")
            events = pl.scan_parquet(events_path(world))
            as_of = events.select(pl.col("ts").max()).collect().item()
            n_events = events.select(pl.len()).collect().item()
        else:
            ds = load_dataset(world)
            accounts, events, as_of = ds.accounts, ds.events, ds.as_of
            n_events = ds.n_events
            if mode == "memory":
                events = events.collect()
        loaded = time.perf_counter()
        rss_loaded = rss.process.memory_info().rss
        table = build_behaviour_features(accounts, events, as_of, config)
        built = time.perf_counter()
    peak = max(rss.peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {
        "mode": mode,
        "accounts": table.height,
        "events": n_events,
        "columns": table.width - 1,
        "buckets": bucket_count(n_events, config),
        "load_s": loaded - started,
        "build_s": built - loaded,
        "events_per_s": n_events / (built - loaded),
        "rss_after_load_gib": rss_loaded / GIB,
        "peak_rss_gib": peak / GIB,
    }


def run_isolated(world: Path, mode: str, buckets: int) -> dict:
    """`run_one` in a fresh Python process, so its peak memory is its own."""
    command = [sys.executable, "-m", "experiments.bench_features", "--one", str(world),
               "--mode", mode, "--buckets", str(buckets)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def best_of(repeats: int, work) -> tuple[float, object]:
    """Fastest wall time of `repeats` calls, and the last result."""
    best, result = math.inf, None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def sample_events(world: Path, n_accounts: int) -> pl.DataFrame:
    """The events of the first `n_accounts` accounts (by account_id), sorted by account, time."""
    ids = pl.read_parquet(world / "accounts.parquet", columns=["account_id"])["account_id"]
    chosen = ids.sort().head(n_accounts).implode()
    return (
        pl.scan_parquet(events_path(world))
        .filter(pl.col("account_id").is_in(chosen))
        .select("account_id", pl.col("ts").dt.epoch("us"), "action", "text")
        .sort("account_id", "ts")
        .collect()
    )


def largest_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Largest absolute difference, NaN matching NaN."""
    both = np.isnan(a) & np.isnan(b)
    if (np.isnan(a) != np.isnan(b)).any():
        return math.inf
    return float(np.max(np.abs(np.where(both, 0.0, a - b)), initial=0.0))


def kernel_ratios(world: Path, n_accounts: int) -> list[dict]:
    """Each kernel against its plain-Python twin on the same sampled events."""
    from features.behaviour import kernels, text_kernels
    from features.behaviour import reference as ref
    from features.behaviour.content import CLICKBAIT_PHRASES, lexicon
    from features.behaviour.seam import csr, string_buffers

    ev = sample_events(world, n_accounts)
    codes = ev["account_id"].rank("dense").cast(pl.Int64).to_numpy() - 1
    ts = np.ascontiguousarray(ev["ts"].to_numpy(), dtype=np.int64)
    is_post = (ev["action"] == "post").to_numpy()
    _, offsets = csr(codes)
    spans = [(offsets[g], offsets[g + 1]) for g in range(len(offsets) - 1)]
    shuffle = np.random.default_rng(0).permutation(len(ts))
    s_codes, s_ts = codes[shuffle], ts[shuffle]
    texts = ev["text"]
    text_offsets, text_data = string_buffers(texts)
    text_list = [t or "" for t in texts.to_list()]
    phrases = [ref.word_tokens(p) for p in CLICKBAIT_PHRASES]
    args = (np.int64(60_000_000), np.int64(5), np.int64(0), np.int64(6))

    def periodicity_reference() -> np.ndarray:
        out = []
        for lo, hi in spans:
            posts = [t for t, p in zip(ts[lo:hi].tolist(), is_post[lo:hi], strict=True) if p]
            out.append(ref.periodicity(posts, 0.1))
        return np.array(out)

    def headline_kernel() -> np.ndarray:
        stats, sig, has = text_kernels.headline_stats(text_offsets, text_data, *lexicon())
        return np.column_stack([stats, np.where(has, sig, 0).astype(np.float64)])

    cases = [
        (
            "group_order",
            lambda: s_ts[kernels.group_order(s_codes, s_ts, len(spans))[0]].astype(np.float64),
            lambda: s_ts[ref.group_order(s_codes.tolist(), s_ts.tolist(), len(spans))[0]].astype(
                np.float64
            ),
        ),
        (
            "timing_stats",
            lambda: kernels.timing_stats(offsets, ts, *args),
            lambda: np.array(
                [ref.timing_stats(ts[lo:hi].tolist(), 60_000_000, 5, (0, 6)) for lo, hi in spans]
            ),
        ),
        (
            "periodicity",
            lambda: kernels.periodicity(offsets, ts, is_post, 0.1),
            periodicity_reference,
        ),
        (
            "headline_stats",
            headline_kernel,
            lambda: np.array(
                [
                    [*r[:7], float(r[7] or 0)]
                    for r in (ref.headline_stats(t, phrases) for t in text_list)
                ]
            ),
        ),
    ]
    out = []
    for name, kernel, reference in cases:
        kernel()  # compile or load the cache outside the timing
        fast, got = best_of(5, kernel)
        slow, want = best_of(1, reference)
        if slow < 1.0:  # short references: take the best of three like the kernel
            slow, want = best_of(3, reference)
        out.append({"kernel": name, "events": len(ts), "kernel_s": fast, "reference_s": slow,
                    "ratio": slow / fast, "max_abs_diff": largest_gap(got, want)})  # fmt: skip
    return out


def report(size: int, builds: list[dict], ratios: list[dict]) -> None:
    """Print one world's figures."""
    for b in builds:
        print(f"{size:>9,} accounts  {b['mode']:<7}  {b['events']:>11,} events  "
              f"{b['buckets']} bucket(s)  "
              f"load {b['load_s']:6.1f} s  build {b['build_s']:6.1f} s  "
              f"{b['events_per_s'] / 1e6:5.2f} M events/s  "
              f"peak RSS {b['peak_rss_gib']:5.2f} GiB (after load {b['rss_after_load_gib']:.2f})",
              flush=True)  # fmt: skip
    for r in ratios:
        print(f"{'':>9}  kernel {r['kernel']:<21} {r['events']:>9,} events  "
              f"kernel {r['kernel_s'] * 1e3:8.1f} ms  reference {r['reference_s']:7.2f} s  "
              f"ratio {r['ratio']:7.0f}x  max|diff| {r['max_abs_diff']:.2g}",
              flush=True)  # fmt: skip


def modes_for(mode: str, accounts: int) -> list[str]:
    """The build modes to time: `auto` skips `memory` above MEMORY_MODE_MAX accounts, where the
    events collected into memory (about 11 GiB at 1 M accounts) would not fit the 8 GiB budget."""
    if mode == "auto":
        if accounts > MEMORY_MODE_MAX:
            print(f"{accounts:,} accounts: no memory mode (the events would not fit)")
            return ["lazy", "dataset"]
        return ["lazy", "dataset", "memory"]
    return ["lazy", "dataset", "memory"] if mode == "all" else [mode]


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/ringwatch-bench-features"))
    parser.add_argument(
        "--mode", choices=["auto", "lazy", "dataset", "memory", "all"], default="auto"
    )
    parser.add_argument("--buckets", type=int, default=0, help="0 = automatic")
    parser.add_argument("--reference-accounts", type=int, default=5_000)
    parser.add_argument("--skip-build", action="store_true", help="only time the kernels")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.mode, args.buckets)))
        return
    results = []
    for size in args.accounts:
        modes = modes_for(args.mode, size)
        world = ensure_world(size, args.work)
        builds = [] if args.skip_build else [run_isolated(world, m, args.buckets) for m in modes]
        ratios = kernel_ratios(world, args.reference_accounts)
        report(size, builds, ratios)
        results.append({"accounts": size, "builds": builds, "kernels": ratios})
    suffix = "-kernels" if args.skip_build else ""
    out = args.work / f"results-{'-'.join(map(str, args.accounts))}{suffix}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"figures written to {out}")


if __name__ == "__main__":
    main()
