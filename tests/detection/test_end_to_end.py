"""The real chain on a small simulated world: features, a trained model, `ringwatch score` and
`ringwatch feedback` as separate processes, checked against the simulator's truth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from features.io.load import load_dataset

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def ringwatch(*args: str) -> subprocess.CompletedProcess:
    """Run the installed CLI as a scheduler would."""
    command = [str(Path(sys.executable).with_name("ringwatch")), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(data folder, model folder, workspace) of the default simulated world (20,000 accounts:
    smaller worlds leave too few labels for a model that ranks well)."""
    from experiments.simulate import WorldConfig, simulate_world, write_world
    from features.pipeline import feature_table
    from training.config import TrainConfig
    from training.fit import fit_model

    root = tmp_path_factory.mktemp("e2e")
    data, model, workspace = root / "world", root / "model", root / "ws"
    write_world(simulate_world(WorldConfig().check()), data)
    ds = load_dataset(data)
    table = feature_table(ds, workspace / "feature-cache")
    fit = fit_model(
        table.frame, ds.labels, table.rings.components, TrainConfig(), graphs=table.graphs
    )
    fit.model.save(model)
    return data, model, workspace


def test_score_then_feedback(trained, tmp_path: Path) -> None:
    data, model, workspace = trained
    out = tmp_path / "lists"
    base = ("score", str(data), "--model", str(model), "--out", str(out))
    base += ("--workspace", str(workspace))
    run = ringwatch(*base, "--capacity", "500", "--json")
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout.strip())  # exactly one JSON line on stdout
    folder = Path(summary["out"])
    candidates = pl.read_parquet(folder / "candidates.parquet")
    truth = pl.read_parquet(data / "truth.parquet")
    judged = candidates.join(truth, on="account_id", how="left")
    assert judged["is_bad"].mean() >= 0.9  # precision at the capacity cut, rings included
    confounders = judged.filter(pl.col("kind").is_in(["newsroom", "nat_user"]))
    assert confounders.filter(pl.col("rank") <= 20).height == 0
    assert confounders.height <= 0.02 * judged.height
    assert (folder / "report.html").stat().st_size > 10_000

    again = ringwatch(*base)
    assert again.returncode == 4 and "--overwrite" in again.stderr

    cuts = ("--close-at", "0.99", "--review-at", "0.97", "--watch-at", "0.95")
    strict = ringwatch(*base, "--overwrite", *cuts)
    assert strict.returncode == 0, strict.stderr[-3000:]
    moved = pl.read_parquet(folder / "candidates.parquet")
    close = moved.filter(pl.col("action") == "close")["score"]  # may be none: P(bad) < 1 now
    assert close.len() == 0 or close.min() >= 0.99
    review = moved.filter(pl.col("action") == "review")["score"]
    assert review.len() == 0 or (review.min() >= 0.97 and review.max() < 0.99)
    assert moved.filter(pl.col("included_by") == "score")["score"].min() >= 0.95
    recorded = json.loads((folder / "manifest.json").read_text())
    assert recorded["settings"]["close_threshold"] == 0.99
    assert recorded["settings"]["watch_threshold"] == 0.95

    decisions = tmp_path / "decisions.csv"
    rows = candidates.head(3)["account_id"].to_list()
    day = summary["as_of"][:10]  # reviewers decide after the list (not years later)
    decisions.write_text(
        "account_id,decision,decided_at,reviewer,note\n"
        f"{rows[0]},closed,{day} 18:00,ann,\n{rows[1]},cleared,{day} 18:00,ann,\n"
        f"{rows[2]},escalated,{day} 18:00,bob,legal\n"
    )
    fed = ringwatch("feedback", str(decisions), "--data", str(data), "--json")
    assert fed.returncode == 0, fed.stderr
    assert json.loads(fed.stdout)["labels_added"] == 2
    labels = load_dataset(data).labels
    latest = dict(zip(labels["account_id"], labels["label"], strict=True))
    assert latest[rows[0]] == 1 and latest[rows[1]] == 0
