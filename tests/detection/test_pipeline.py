"""score_base end to end on a small world with a real model: files, columns, counts, diff."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from common.errors import UserError
from detection.config import ScoreConfig
from detection.pipeline import score_base
from detection.score import score_chunks
from tests.detection.world import AS_OF, FEATURES


class CountingModel:
    """A real model that records how many rows each method saw."""

    def __init__(self, model) -> None:
        self.model, self.rows = model, {"predict": 0, "contributions": 0}
        self.feature_names, self.name, self.version = model.feature_names, "ringwatch", "7"

    def predict(self, features: pl.DataFrame) -> np.ndarray:
        self.rows["predict"] += features.height
        return self.model.predict(features)

    def predict_heads(self, features: pl.DataFrame) -> dict[str, np.ndarray]:
        return {"fake": self.model.predict(features) ** 2}

    def contributions(self, features: pl.DataFrame) -> np.ndarray:
        self.rows["contributions"] += features.height
        return self.model.contributions(features)


def test_output_folder_holds_every_file_with_the_agreed_columns(scored, world) -> None:
    folder = scored.folder
    assert folder.name == "2024-01-28"
    names = {p.name for p in folder.iterdir()}
    assert {
        "candidates.parquet",
        "candidates.csv",
        "scores.parquet",
        "rings.parquet",
        "report.html",
        "manifest.json",
        "changes.csv",
    } <= names
    scores = pl.read_parquet(folder / "scores.parquet")
    assert scores.height == world.features.height
    assert scores["rank"].to_list() == list(range(1, scores.height + 1))
    assert scores["score"].is_sorted(descending=True)
    assert {"account_id", "score", "raw_score", "rank"} <= set(scores.columns)
    candidates = pl.read_parquet(folder / "candidates.parquet")
    for column in (
        "rank",
        "account_id",
        "score",
        "ring_id",
        "ring_size",
        "ring_score",
        "action",
        "reasons",
        "feature_values",
        "model",
        "model_version",
        "as_of",
    ):
        assert column in candidates.columns
    assert candidates["score"].is_sorted(descending=True)
    assert set(candidates["action"]) <= {"close", "review", "watch"}
    assert candidates["as_of"].unique().to_list() == [AS_OF]
    csv = pl.read_csv(folder / "candidates.csv", infer_schema=False)
    assert csv.height == candidates.height
    assert {"reason_1_feature", "reason_1_value", "reason_5_description"} <= set(csv.columns)
    rings = pl.read_parquet(folder / "rings.parquet")
    assert set(rings["ring_id"]) == set(candidates["ring_id"].drop_nulls())
    assert {"members", "identifiers", "evidence_kinds", "ring_score"} <= set(rings.columns)


def test_captured_feature_values_are_the_scored_ones(scored, world) -> None:
    candidates = pl.read_parquet(scored.folder / "candidates.parquet")
    values = candidates.select("account_id", pl.col("feature_values").struct.unnest())
    expected = world.features.join(values.select("account_id"), on="account_id")
    joined = values.join(expected, on="account_id", suffix="_input")
    for name in FEATURES:
        assert joined[name].equals(joined[f"{name}_input"], check_names=False)


def test_manifest_and_summary_agree_with_the_files(scored) -> None:
    manifest = json.loads((scored.folder / "manifest.json").read_text())
    candidates = pl.read_parquet(scored.folder / "candidates.parquet")
    assert manifest["counts"]["candidates"] == candidates.height == scored.summary["candidates"]
    assert manifest["counts"]["close"] == int((candidates["action"] == "close").sum())
    assert manifest["inputs"]["fingerprint"] == "0" * 64
    assert manifest["model"]["name"] == "ringwatch" and manifest["model"]["version"] == "1"
    assert manifest["settings"]["capacity"] == 120
    assert {"score", "explain", "report", "total"} <= set(manifest["timings"])
    assert set(manifest["files"]) >= {"candidates.parquet", "report.html"}
    assert "manifest.json" not in manifest["files"]
    assert scored.summary["status"] == "ok"
    json.dumps(scored.summary)  # one JSON line for schedulers
    expected = candidates["score"].mean()
    assert manifest["selection"]["expected_precision"] == pytest.approx(expected, abs=1e-6)


def test_the_list_finds_the_bad_accounts(scored, world) -> None:
    candidates = pl.read_parquet(scored.folder / "candidates.parquet")
    bad = candidates.join(world.truth, on="account_id")["is_bad"]
    assert bad.mean() >= 0.9


def test_contributions_only_for_listed_rows_and_heads_are_kept(world, model, tmp_path) -> None:
    counting = CountingModel(model)
    result = score_base(
        world.features,
        counting,
        AS_OF,
        tmp_path,
        ScoreConfig(capacity=30, max_ring_sections=1),
        world.membership,
        world.rings,
        events=world.events,
    )
    candidates = pl.read_parquet(result.folder / "candidates.parquet")
    assert counting.rows["predict"] == world.features.height
    assert counting.rows["contributions"] == candidates.height < world.features.height / 10
    assert "score_fake" in candidates.columns
    assert result.summary["model_version"] == "7"


def test_chunked_scores_equal_one_pass(world, model) -> None:
    whole = score_chunks(model, world.features, chunk_size=10**9)
    chunked = score_chunks(model, world.features, chunk_size=37)
    assert chunked.equals(whole)


def test_a_missing_feature_column_is_a_user_error(world, model, tmp_path) -> None:
    with pytest.raises(UserError, match="noise"):
        score_base(world.features.drop("noise"), model, AS_OF, tmp_path)
    assert not any(p for p in Path(tmp_path).iterdir() if not p.name.startswith("."))


def test_changes_since_the_previous_week(world, model, tmp_path) -> None:
    config = ScoreConfig(capacity=1000, max_ring_sections=1)  # every account above watch
    first = score_base(
        world.features,
        model,
        AS_OF - timedelta(days=7),
        tmp_path,
        config,
        world.membership,
        world.rings,
    )
    before = pl.read_parquet(first.folder / "candidates.parquet")
    # next week: one ring looks clean and is gone; one unlisted account behaves like a farm
    gone = before["ring_id"].drop_nulls()[0]
    members = world.membership.filter(pl.col("ring_id") == gone)["account_id"]
    newcomer = world.features.join(before.select("account_id"), on="account_id", how="anti").sort(
        "account_id"
    )["account_id"][0]
    worst = world.features.filter(pl.col("account_id") == before["account_id"][0])
    features = world.features.with_columns(
        [
            pl.when(pl.col("account_id").is_in(members.implode()))
            .then(pl.lit(0.0))
            .when(pl.col("account_id") == newcomer)
            .then(pl.lit(float(worst[name][0])))
            .otherwise(pl.col(name).cast(pl.Float64))
            .alias(name)
            for name in ("shared_device_accounts", "posts_per_day")
        ]
    )
    membership = world.membership.filter(pl.col("ring_id") != gone)
    second = score_base(features, model, AS_OF, tmp_path, config, membership, world.rings)
    changes = pl.read_csv(second.folder / "changes.csv", infer_schema=False)
    kinds = dict(zip(changes["account_id"], changes["change"], strict=True))
    assert kinds.get(newcomer) == "new"
    assert {kinds.get(m) for m in members} == {"score_fell"}
    assert second.summary["new"] >= 1 and second.summary["dropped"] == len(members)
    html = (second.folder / "report.html").read_text()
    assert first.folder.name in html and newcomer in html
