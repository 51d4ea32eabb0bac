"""The benchmark commands' printers (`ringwatch bench ...`): the half of detection.console
that shows measurements; progress and every other printer are in detection.console."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich import box

from detection.console import out, table


def print_bench_rings(result: Any, written: Path) -> None:
    """`ringwatch bench rings`: the per-archetype table, benign accounts in rings, the file."""
    for title, (header, rows) in (
        (f"{result.command} ({result.date})", result.table()),
        ("benign accounts in reported rings (per world)", result.benign_table()),
    ):
        shown = table(title=title, box=box.SIMPLE)
        for name in header:
            shown.add_column(name)
        for row in rows:
            shown.add_row(*row)
        out().print(shown)
    low, high = result.load
    minutes = result.seconds / 60
    out().print(f"wrote {written} ({minutes:.1f} min, load average {low:.1f} → {high:.1f})")


def print_quality(result: Any) -> None:
    """`ringwatch bench quality`: the mean ± std table, notes, timing, the paired comparison
    (experiments.bench_quality.QualityResult)."""
    console = out()
    console.print(result.table())
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(result.header[2])
    for line in result.comparison:
        console.print(line)
    console.print(f"written: {result.out}/results.md, results.csv, per_seed.csv")
