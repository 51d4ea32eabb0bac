"""The `ringwatch bench rings` command (registered by detection/cli.py): options in, table out.

Kept apart from the benchmark so that `ringwatch --help` imports nothing heavy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def bench_rings_command(
    seeds: Annotated[str, typer.Option(help="Seeds, comma-separated.")] = "1,2,3",
    accounts: Annotated[int, typer.Option(help="Accounts per world.")] = 20_000,
    camouflage: Annotated[str, typer.Option(help="Levels, comma-separated.")] = "light,heavy",
    archetypes: Annotated[list[str] | None, typer.Option(help="Archetypes to hold out.")] = None,
    weeks: Annotated[int, typer.Option(help="Weeks of events.")] = 4,
    out: Annotated[Path, typer.Option(help="Folder for results.md.")] = Path("bench-out/rings"),
    keep: Annotated[Path | None, typer.Option(help="Keep worlds and runs here.")] = None,
) -> None:
    """Leave-one-archetype-out: rings and accounts of each bad archetype never labelled."""
    from detection.console import bar, progress
    from detection.console_bench import print_bench_rings
    from experiments.bench_rings import RingsBench, run_rings_bench
    from experiments.rings_report import write_report

    bench = RingsBench.from_options(seeds, accounts, camouflage, archetypes, weeks)
    with bar("runs", bench.runs) as runs:
        result = run_rings_bench(bench, keep, progress(), lambda: runs.advance(1))
    print_bench_rings(result, write_report(result, out))
