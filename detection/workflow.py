"""The pipeline wired in one place: simulate → validate → features → train → promote → score.

Each function is one stage as the CLI runs it (the CLI bodies are a few lines calling these);
`run_demo` chains them on a freshly simulated world, the embedded default.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from common.atomic import write_parquet
from common.progress import Say
from features.config import FeatureConfig, GraphConfig
from features.io.contract import Dataset
from features.io.load import load_dataset
from features.pipeline import FeatureTable, feature_table

DEMO_EXPERIMENT = "ringwatch-demo"
TRUTH_FILE = "truth.parquet"  # written by the simulator beside the tables; evaluation only


def cache_root(workspace: Path) -> Path:
    """Where feature tables are kept for reuse (keyed by inputs, snapshot and settings)."""
    return Path(workspace) / "feature-cache"


def features_stage(
    data: Path, as_of: datetime | None, workspace: Path | None, say: Say
) -> tuple[Dataset, FeatureTable]:
    """Load the data folder and build (or reuse) its feature table."""
    from detection.console import note_kernels

    ds = load_dataset(data, as_of)
    root = cache_root(workspace) if workspace is not None else None
    note_kernels(say)
    return ds, feature_table(ds, root, FeatureConfig(), say)


def write_features(
    data: Path, as_of: datetime | None, out: Path, workspace: Path | None, say: Say
) -> FeatureTable:
    """What `ringwatch features` does: the feature table written to `out` (Parquet)."""
    _, table = features_stage(data, as_of, workspace, say)
    write_parquet(table.frame, out)
    return table


def write_rings(data: Path, out: Path, as_of: datetime | None, say: Say):  # -> tuple
    """What `ringwatch rings` does: load, build graphs, find rings, write the ring table.

    Returns (rings, accounts, as_of, seconds) for the printer."""
    from features.graph.build import build_graphs
    from features.graph.rings import find_rings

    config = GraphConfig()
    started = time.perf_counter()
    say("loading the data")
    ds = load_dataset(data, as_of)
    say(f"building graphs of {ds.accounts.height:,} accounts")
    graphs = build_graphs(ds, config)
    say("peeling candidate components into rings")
    rings = find_rings(ds, graphs, config)
    write_parquet(rings.rings, out)
    return rings, ds.accounts.height, ds.as_of, time.perf_counter() - started


def simulate(out: Path, config, overwrite: bool, progress=None):  # -> simulate.Written
    """What `ringwatch simulate` does: the world `config` written to `out`, and the seconds."""
    from experiments.simulate.writer import simulate_to

    config.check()
    started = time.perf_counter()
    written = simulate_to(config, out, overwrite=overwrite, progress=progress)
    return written, time.perf_counter() - started


def train_stage(
    data: Path,
    as_of: datetime | None,
    workspace: Path,
    experiment: str,
    params: Path | None,
    split: str | None,
    ablation: bool,
    search: bool,
    say: Say,
    compare_random: bool = False,
) -> list:
    """What `ringwatch train` does: features, then one registered run (or three for ablation)."""
    from training.config import TrainConfig, load_train_config, with_overrides
    from training.run import train_command

    config = load_train_config(params) if params else TrainConfig()
    config = with_overrides(
        config, split=split, search=search or None, compare_random=compare_random or None
    )
    ds, table = features_stage(data, as_of, workspace, say)
    truth = Path(data) / TRUTH_FILE
    return train_command(
        ds,
        table.frame,
        table.rings.components,
        table.graphs,
        config,
        workspace,
        experiment,
        truth=truth if truth.exists() else None,
        ablation=ablation,
        fingerprint={"data.inputs_sha256": table.inputs_sha256},
        say=say,
    )


def promote_if_better(version: int, workspace: Path, say: Say) -> bool:
    """Make `version` @champion when there is none yet or it is at least as good."""
    from training import registry
    from training.tracking import connect

    client = connect(workspace)
    try:
        comparison = registry.promote(version, force=False, client=client)
    except registry.PromotionRefused as refused:
        say(f"kept the current champion: {refused}")
        return False
    ap = comparison.challenger_metrics["average_precision"]
    say(f"version {version} is now @champion (held-out average precision {ap:.3f})")
    return True


@dataclass(frozen=True)
class DemoResult:
    """Where the demo left what a person looks at."""

    workspace: Path
    data: Path
    lists: Path
    list_folder: Path
    report: Path
    summary: dict


def run_demo(
    workspace: Path, accounts: int, weeks: int, seed: int, camouflage: str, say: Say
) -> DemoResult:
    """The whole pipeline on a freshly simulated world inside `workspace`."""
    from detection.commands import run_score
    from detection.console import print_summary
    from experiments.simulate import WorldConfig, simulate_to
    from features.io.summary import summarise

    workspace = Path(workspace)
    data, lists = workspace / "data", workspace / "lists"
    say(f"simulating {accounts:,} accounts over {weeks} weeks (seed {seed}) into {data}")
    world = WorldConfig(accounts=accounts, weeks=weeks, seed=seed, camouflage=camouflage)
    simulate_to(world.check(), data, overwrite=True)
    say("validating the input tables")
    print_summary(summarise(load_dataset(data)))
    results = train_stage(
        data, None, workspace, DEMO_EXPERIMENT, None, None, False, False, say, compare_random=True
    )
    promote_if_better(results[0].version, workspace, say)
    say("scoring the account base with the champion")
    summary = run_score(
        data, lists, None, "models:/ringwatch@champion",
        capacity=None, min_precision=None, overwrite=True,
        workspace=workspace, cache_root=cache_root(workspace), say=say,
    )  # fmt: skip
    folder = Path(summary["out"])
    return DemoResult(workspace, data, lists, folder, folder / "report.html", summary)
