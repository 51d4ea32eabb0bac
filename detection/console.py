"""Everything the command line shows: progress on stderr and every printer of results.

Library code (features/, training/, detection/ stages) never prints: it returns data and reports
progress through `common.progress.Say`; this module is that `Say` and the printers the CLI calls.
Stdout holds only results; progress, warnings and notes go to stderr. When a stream is not a
terminal (piped, logged by a scheduler) nothing is wrapped, truncated or animated.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from common.progress import Advance, Say

UNBOUNDED = 100_000  # line width when not a terminal: never wrap or truncate a logged line


def _console(stderr: bool) -> Console:
    """A rich console; full-width and soft-wrapped when its stream is not a terminal."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, width=UNBOUNDED, soft_wrap=True)


@cache
def err() -> Console:
    """The stderr console (progress, notes); one per process."""
    return _console(stderr=True)


def out() -> Console:
    """A stdout console for result tables (made per call: tests capture stdout)."""
    return _console(stderr=False)


def table(title: str | None = None, **options: Any) -> Table:
    """A rich table that never cuts a cell when printed to a file or pipe."""
    return Table(title=title, **options)


def progress() -> Say:
    """The `Say` of the command line: dim `· text` lines on stderr."""
    return lambda text: err().print(f"[dim]· {text}[/dim]", highlight=False)


@contextmanager
def bar(label: str, total: int | None) -> Iterator[Any]:
    """A transient progress bar on stderr (off when not a terminal); yields the rich task
    updater `update(completed=..., total=...)` and an `advance(n)` function."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    columns = (label, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err(), transient=True, disable=not err().is_terminal) as p:
        task = p.add_task(label, total=total)
        yield _Bar(lambda n: p.advance(task, n), lambda **kw: p.update(task, **kw))


class _Bar:
    """What `bar` yields: `advance(n)` and `update(completed=, total=)`."""

    def __init__(self, advance: Advance, update: Any) -> None:
        self.advance, self.update = advance, update


@contextmanager
def status(text: str) -> Iterator[Say]:
    """A spinner line on stderr whose text follows the step; yields its `Say`."""
    with err().status(text) as spinner:
        yield lambda line: spinner.update(line)


# --- quiet third-party chatter, note first-time kernel compilation ----------------------------


def configure(verbose: bool = False) -> None:
    """MLflow's own INFO logging (runs, registrations, migrations) only with --verbose.

    MLflow sets its loggers' level from MLFLOW_LOGGING_LEVEL when imported (after this runs:
    commands import it lazily); a level the user set in the environment is kept."""
    if verbose:
        os.environ["MLFLOW_LOGGING_LEVEL"] = "INFO"
    else:
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    logging.getLogger("mlflow").setLevel(os.environ["MLFLOW_LOGGING_LEVEL"].upper())
    if not verbose:  # store errors are reported as one `error:` line, not MLflow's traceback
        logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)


def kernels_warm() -> bool:
    """Whether numba's on-disk cache already holds compiled feature kernels (`cache=True`)."""
    import features

    custom = os.environ.get("NUMBA_CACHE_DIR")
    root = Path(custom) if custom else Path(features.__file__).parent
    return any(root.rglob("*.nbi"))


def note_kernels(say: Say) -> None:
    """Say once, before the feature stage, that the first run compiles the numba kernels."""
    if not kernels_warm():
        say("compiling the numba kernels (first run only; cached for later runs)")


# --- printers: one a command -------------------------------------------------------------------


def print_summary(summary: dict[str, Any]) -> None:
    """What `validate` found (features.io.summary.summarise): warnings, rows, time range."""
    console = out()
    for warning in summary["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(
        f"[bold green]valid:[/] {summary['source']} (as of {summary['as_of']}: "
        f"{summary.get('as_of_source', 'given')})",
        soft_wrap=True,
    )
    rows = table()
    rows.add_column("table")
    rows.add_column("rows", justify="right")
    for name, count in summary["rows"].items():
        rows.add_row(name, f"{count:,}")
    console.print(rows)
    console.print(
        f"events {summary['events_from']} → {summary['events_to']}; "
        f"{summary['accounts_with_events']:,} accounts with events"
    )
    if summary["labels_by_reason"]:
        labels = table("labels by reason")
        for column in ("reason", "label", "accounts"):
            labels.add_column(column)
        for row in summary["labels_by_reason"]:
            labels.add_row(str(row["reason"]), str(row["label"]), f"{row['accounts']:,}")
        console.print(labels)
    if summary["attributes"]:
        console.print(f"attribute columns: {', '.join(summary['attributes'])}")


def print_simulated(written: Any, seconds: float) -> None:
    """What `simulate` wrote (experiments.simulate.Written)."""
    rows = ", ".join(f"{name} {count:,}" for name, count in written.rows.items())
    print(f"wrote {written.path} in {seconds:.1f} s: {rows}")
    print(f"window ends {written.as_of}; truth.parquet is for evaluation only")


def print_rings(rings: Any, path: Path, accounts: int, as_of: Any, seconds: float) -> None:
    """What `rings` wrote, then the best-scored rings with their evidence (features.graph.Rings)."""
    candidates = rings.candidates.height if rings.candidates is not None else 0
    how = rings.candidates["verdict"][0] if candidates else "no"
    print(
        f"wrote {path}: {rings.rings.height:,} rings of {candidates:,} candidates ({how} "
        f"verdict), {rings.membership.height:,} member accounts of {accounts:,} "
        f"(as of {as_of:%Y-%m-%d %H:%M} UTC, {seconds:.1f} s)"
    )
    top = 10
    if rings.rings.height == 0:
        return
    shown = table(f"top {min(top, rings.rings.height)} rings")
    for column in ("ring", "size", "score", "density", "evidence", "identifiers", "lockstep"):
        shown.add_column(column)
    for ring in rings.rings.head(top).iter_rows(named=True):
        identifiers = ", ".join(ring["identifiers"][:3])
        more = len(ring["identifiers"]) - 3
        shown.add_row(
            ring["ring_id"],
            str(ring["size"]),
            f"{ring['score']:.2f}",
            f"{ring['density']:.2f}",
            ", ".join(ring["evidence"]),
            identifiers + (f" (+{more})" if more > 0 else ""),
            f"{ring['lockstep_windows']} windows",
        )
    out().print(shown)


def print_features(path: Path, frame: Any) -> None:
    """What `features` wrote."""
    print(f"wrote {path}: {frame.height:,} accounts × {frame.width - 1} features")


def print_lines(text: str) -> None:
    """A finished report's plain text (Markdown tables, evaluation lines) on stdout."""
    print(text)


def print_train(results: list) -> None:
    """Each training run's held-out figures (training.run.report_lines), on stdout."""
    from training.run import report_lines

    for line in report_lines(results):
        print(line)


def print_runs(frame: Any) -> None:
    """`runs list`: a compact table (fits 80 columns on a terminal) with headline metrics."""
    from training.runs import BASE_COLUMNS, HEADLINE, fmt

    console = out()
    if frame.height == 0:
        console.print("no runs yet: train a model with `ringwatch train`")
        return
    metrics = [m for m in HEADLINE if m in frame.columns]
    metrics = metrics or [c for c in frame.columns if c not in BASE_COLUMNS][:3]
    several = frame["experiment"].n_unique() > 1
    unusual = bool((frame["status"] != "FINISHED").any())
    title = f"{frame.height} latest run(s)" + ("" if several else f" of {frame['experiment'][0]}")
    runs = table(title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    runs.add_column("run", no_wrap=True)
    runs.add_column("name", overflow="ellipsis", max_width=24)
    runs.add_column("started", no_wrap=True)
    optional = [("experiment", several), ("status", unusual)]
    for column, shown in optional:
        if shown:
            runs.add_column(column, overflow="ellipsis")
    runs.add_column("split", overflow="ellipsis")
    runs.add_column("model", no_wrap=True)
    for metric in metrics:
        runs.add_column(HEADLINE.get(metric, metric[:12]), justify="right", no_wrap=True)
    for row in frame.iter_rows(named=True):
        started = "-" if row["start_time"] is None else f"{row['start_time']:%m-%d %H:%M}"
        cells = [row["run_id"][:8], row["run_name"], started]
        cells += [row[column] for column, shown in optional if shown]
        cells += [row["split"] or "-", row["model"] or "-"]
        runs.add_row(*cells, *(fmt(row[m]) for m in metrics))
    console.print(runs)
    console.print("times in UTC; `ringwatch runs show RUN` for details", style="dim")


def print_run(run: dict[str, Any]) -> None:
    """`runs show`: a header, then params, metrics, tags and artifacts."""
    from training.runs import fmt

    console = out()
    models = ", ".join(
        f"{m['name']} v{m['version']}" + "".join(f" @{a}" for a in m["aliases"])
        for m in run["models"]
    )
    took = "-" if run["duration_s"] is None else f"{run['duration_s']:.1f} s"
    console.print(f"[bold]run {run['run_id']}[/bold] ({run['run_name']})")
    for label, value in [
        ("experiment", run["experiment"]),
        ("status", run["status"]),
        ("started", fmt(run["start_time"])),
        ("took", took),
        ("model", models or "-"),
        ("artifacts", run["artifact_uri"]),
    ]:
        console.print(f"  {label:<11} {value}", soft_wrap=True, highlight=False)
    for section in ("params", "metrics", "tags"):
        if run[section]:
            values = table(section, title_justify="left")
            values.add_column("name")
            values.add_column("value", justify="right" if section == "metrics" else "left")
            for name, value in run[section].items():
                values.add_row(name, fmt(value))
            console.print(values)
    if run["artifacts"]:
        console.print("[bold]artifact files[/bold]")
        for path in run["artifacts"]:
            console.print(f"  {path}")


def print_run_comparison(frame: Any) -> None:
    """`runs compare`: metrics as rows, runs as columns."""
    from training.runs import fmt

    side = table("metrics side by side")
    side.add_column("metric")
    for column in frame.columns[1:]:
        side.add_column(column, justify="right")
    for row in frame.iter_rows():
        side.add_row(row[0], *(fmt(v) for v in row[1:]))
    out().print(side)


def print_promotion(comparison: Any) -> None:
    """`promote`: challenger vs champion on the same held-out accounts (training.registry)."""
    from training.registry import CHAMPION, COMPARED

    champion = comparison.champion
    side = table(
        f"challenger v{comparison.challenger} vs "
        + (f"champion v{champion}" if champion else "no champion yet"),
    )
    side.add_column("metric")
    side.add_column(f"challenger v{comparison.challenger}", justify="right")
    side.add_column("champion" + (f" v{champion}" if champion else " (none)"), justify="right")
    side.add_column("change", justify="right")
    for name in COMPARED:
        new = comparison.challenger_metrics[name]
        old = (comparison.champion_metrics or {}).get(name)
        change = "" if old is None else f"{new - old:+.4f}"
        label = f"precision@{comparison.k}" if name == "precision_at_k" else name
        side.add_row(label, f"{new:.4f}", "-" if old is None else f"{old:.4f}", change)
    console = out()
    console.print(side)
    console.print(
        f"scored on the {comparison.n} held-out accounts ({comparison.n_bad} bad) of run "
        f"{comparison.heldout_run[:8]}; precision@k at k = {comparison.k}",
        soft_wrap=True,
    )
    if comparison.note:
        console.print(comparison.note, soft_wrap=True)
    if comparison.promoted:
        note = " (forced)" if comparison.forced else ""
        console.print(f"version {comparison.challenger} is now @{CHAMPION}{note}")


def print_score(summary: dict) -> None:
    """`score`: the result of a scoring run in a few human lines (warnings on stderr)."""
    for warning in summary.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    p = summary.get("expected_precision")
    precision = "—" if p is None else f"{100 * p:.1f} %"
    print(
        f"{summary['candidates']:,} candidates out of {summary['accounts_scored']:,} accounts "
        f"({summary['close']:,} close, {summary['review']:,} review, {summary['watch']:,} "
        f"watch), {summary['rings']:,} rings among them; expected precision {precision}"
    )
    from detection.candidates import describe_cut

    if cut := describe_cut(summary.get("cut") or {}):
        print(cut)
    print(
        f"changes: {summary['new']:,} new, {summary['escalated']:,} escalated, "
        f"{summary['dropped']:,} left the list ({summary.get('score_fell', 0):,} score fell, "
        f"{summary.get('at_capacity', 0):,} at capacity but still eligible, "
        f"{summary.get('cleared', 0):,} cleared by a reviewer)"
    )
    print(
        f"written to {summary['out']} (open report.html; review: ringwatch review {summary['out']})"
    )
    print(f"as of {summary['as_of']} ({summary.get('as_of_source', 'given')})")


def print_feedback(summary: dict) -> None:
    """`feedback`: the result of a merge in one line."""
    print(
        f"{summary['labels_added']:,} labels added to {summary['labels']}, "
        f"{summary['escalated']:,} escalations logged, {summary['skipped']:,} decisions "
        f"already merged before (log: {summary['log']})"
    )


def print_import(summary: Any) -> None:
    """`import`: what was written, and the dataset's caveats (experiments.importers.Summary)."""
    console = out()
    rows = ", ".join(f"{name} {count:,}" for name, count in summary.rows.items())
    console.print(f"[bold green]imported:[/] {summary.name} → {summary.out} ({rows})")
    console.print(f"labelled bad accounts: {summary.positives:,}")
    for note in summary.notes:
        console.print(f"note: {note}")


def print_demo(result: Any) -> None:
    """`demo`: the input summary, then where everything is (detection.commands.DemoResult)."""
    print_summary(result.validation)
    s = result.summary
    store = result.workspace / "mlflow.db"
    steps = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in result.steps.items())
    total = sum(result.steps.values())
    print(
        f"""
ringwatch demo finished in {total:.0f} s ({steps}; in {result.workspace}/manifest.json).
  data (simulated):   {result.data}   (truth.parquet beside it is for evaluation only)
  close candidates:   {result.list_folder}/candidates.csv  ({s["candidates"]} accounts, \
{s.get("rings", 0)} rings; {s.get("close", 0)} close, {s.get("review", 0)} review, \
{s.get("watch", 0)} watch)
  review report:      {result.report}   (open it in a browser)
  work the list:      ringwatch review {result.lists}
  MLflow runs/models: ringwatch runs list --workspace {result.workspace}
                      mlflow ui --backend-store-uri sqlite:///{store} --host 127.0.0.1 --port 5000
"""
    )
