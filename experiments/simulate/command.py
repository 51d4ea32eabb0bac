"""The `ringwatch simulate` command's body: progress while writing, a short summary after."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from experiments.simulate.config import WorldConfig
from experiments.simulate.writer import Written, simulate_to


def run_simulate(out: Path, config: WorldConfig, overwrite: bool = False) -> Written:
    """Simulate `config` into `out` with progress by account chunk; print what was written."""
    config.check()
    console = Console(stderr=True)
    started = time.perf_counter()
    columns = (
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as progress:
        task = progress.add_task("chunks", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        written = simulate_to(config, out, overwrite=overwrite, progress=advance)
    seconds = time.perf_counter() - started
    rows = ", ".join(f"{name} {count:,}" for name, count in written.rows.items())
    print(f"wrote {written.path} in {seconds:.1f} s: {rows}")
    print(f"window ends {written.as_of}; truth.parquet is for evaluation only")
    return written
