"""Benchmark of the simulator: wall time, rows and peak memory for worlds of given sizes.

Each size runs in a fresh process so its peak resident memory is its own:

    python -m experiments.bench_simulate --accounts 20000 --accounts 1000000 --keep /tmp/worlds

prints one JSON line per size (and keeps the worlds under --keep if given, else deletes them).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(accounts: int, weeks: int, seed: int, out: Path) -> dict:
    """Simulate one world into `out` (in this process) and report its figures."""
    from experiments.simulate import WorldConfig, simulate_to

    started = time.perf_counter()
    written = simulate_to(WorldConfig(accounts=accounts, weeks=weeks, seed=seed), out)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {
        "accounts": accounts,
        "weeks": weeks,
        "seconds": round(seconds, 1),
        "events": written.rows["events"],
        "edges": written.rows["edges"],
        "events_per_account": round(written.rows["events"] / accounts, 1),
        "events_per_second": round(written.rows["events"] / seconds),
        "parts": written.parts,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "disk_mib": round(size / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run every requested size in its own process and print its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, action="append", help="world size (repeatable)")
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep the worlds in this folder")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # internal: child process
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.accounts[0], args.weeks, args.seed, args.one)))
        return 0
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-simulate-"))
    try:
        for accounts in args.accounts or [20_000]:
            out = root / f"world-{accounts}"
            shutil.rmtree(out, ignore_errors=True)
            command = [
                sys.executable,
                "-m",
                "experiments.bench_simulate",
                "--one",
                str(out),
                "--accounts",
                str(accounts),
                "--weeks",
                str(args.weeks),
                "--seed",
                str(args.seed),
            ]
            subprocess.run(command, check=True)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
