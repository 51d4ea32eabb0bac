"""`ringwatch bench rings`: the figures on hand-made cases, the hold-out, and the command."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from detection.cli import app
from experiments.bench_rings import (
    ARCHETYPES,
    RingsBench,
    account_figures,
    benign_figures,
    hold_out,
    ring_figures,
)
from experiments.simulate import WorldConfig, simulate_to

TRUTH = pl.DataFrame(
    {
        "account_id": ["a1", "a2", "a3", "a4", "b1", "b2", "f1", "n1", "n2", "n3"],
        "is_bad": [True] * 7 + [False] * 3,
        "kind": ["aged_amplifier"] * 4 + ["card_fraud"] * 2 + ["follower_customer"]
        + ["fan", "individual", "individual"],
        "ring_id": ["r1"] * 4 + ["r2"] * 2 + [None] * 4,
    }
)  # fmt: skip


def membership(rings: dict[str, list[str]]) -> pl.DataFrame:
    rows = [(a, r) for r, accounts in rings.items() for a in accounts]
    return pl.DataFrame(rows, schema={"account_id": pl.String, "ring_id": pl.String}, orient="row")


def test_ring_figures_match_best_and_count_the_rings_holding_the_archetype() -> None:
    found = membership({"R1": ["a1", "a2", "a3", "n1"], "R2": ["b1", "b2"]})
    amp = ring_figures(found, TRUTH, ("aged_amplifier",))
    assert amp["true_rings"] == 1
    assert amp["ring_f1"] == pytest.approx(2 * 3 / (4 + 4))
    assert amp["purity"] == pytest.approx(3 / 4)  # the fan in R1
    assert ring_figures(found, TRUTH, ("card_fraud",))["purity"] == 1.0
    none = ring_figures(membership({}), TRUTH, ("aged_amplifier",))
    assert none["ring_f1"] == 0.0 and none["purity"] != none["purity"]  # nan: no ring holds it
    assert benign_figures(found, TRUTH) == {"benign": 1, "benign_share": 1 / 3, "lookalikes": 1}


def test_account_figures_rank_only_unlabelled_accounts() -> None:
    scores = pl.DataFrame(
        {
            "account_id": TRUTH["account_id"],
            "score": [0.9, 0.8, 0.1, 0.2, 0.95, 0.3, 0.7, 0.6, 0.05, 0.0],
        }
    )
    known = pl.DataFrame({"account_id": ["b1"], "label": [1]})
    figures = account_figures(scores, TRUTH, known, ("aged_amplifier",))
    # unlabelled: 6 bad (a1-a4, b2, f1) -> K = 6; top 6: a1 .9, a2 .8, f1 .7, n1 .6, b2 .3, a4 .2
    assert figures["k"] == 6
    assert figures["recall_at_k"] == pytest.approx(3 / 4)
    assert 0 < figures["ap"] < 1


def test_hold_out_drops_every_label_of_the_archetype(tmp_path: Path) -> None:
    data = tmp_path / "data"
    simulate_to(WorldConfig(accounts=1_000, weeks=1, seed=4, bad_share=0.2), data)
    truth = pl.read_parquet(data / "truth.parquet")
    folder = hold_out(data, tmp_path / "held", truth, ARCHETYPES["follower_farm"])
    labels = pl.read_parquet(folder / "labels.parquet").join(truth, on="account_id")
    before = pl.read_parquet(data / "labels.parquet").join(truth, on="account_id")
    hidden = ["follower_farm", "follower_customer"]
    assert before.filter(pl.col("kind").is_in(hidden)).height > 0
    assert labels.filter(pl.col("kind").is_in(hidden)).height == 0
    assert labels.height == before.filter(~pl.col("kind").is_in(hidden)).height
    assert not (folder / "truth.parquet").exists()  # the product never sees the truth
    assert (folder / "events.parquet").resolve() == (data / "events.parquet").resolve()


def test_options_are_checked() -> None:
    bench = RingsBench.from_options("1, 2", 5_000, "none,heavy", ["card_fraud,porn"], 2)
    assert bench.seeds == (1, 2) and bench.archetypes == ("card_fraud", "porn")
    assert "--archetypes card_fraud,porn" in bench.command()
    runner = CliRunner()
    for bad in (["--seeds", "x"], ["--archetypes", "newsroom"], ["--camouflage", "odd"]):
        result = runner.invoke(app, ["bench", "rings", *bad])
        assert result.exit_code == 2, result.output


@pytest.mark.slow
def test_command_on_a_tiny_world(tmp_path: Path) -> None:
    args = ["bench", "rings", "--seeds", "1", "--accounts", "2500", "--weeks", "2"]
    args += ["--camouflage", "none", "--archetypes", "card_fraud", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "results.md").read_text()
    assert "ringwatch bench rings --seeds 1 --accounts 2500" in text
    for run in ("held out", "all labelled", "rules"):
        assert f"| none | card_fraud | {run} |" in text
    per_seed = pl.read_csv(tmp_path / "per_seed.csv")
    assert set(per_seed["run"]) == {"held out", "all labelled", "rules"}
    assert per_seed.filter(pl.col("run") == "held out")["recall_at_k"].is_not_null().all()
