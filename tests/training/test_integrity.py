"""Saved models verify themselves: edited, truncated or inconsistent folders are refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import tiny_model, tiny_tables
from training.integrity import META, ModelIntegrityError, seal
from training.model import RingwatchModel


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny real model saved once; tests copy it before damaging it."""
    train, _ = tiny_tables()
    folder = tmp_path_factory.mktemp("model") / "m"
    model = tiny_model(train, ["signal", "noise"])
    model.settings = {"model": {"num_leaves": 4}}
    model.feature_dtypes = {"signal": "Float64", "noise": "Float64"}
    return model.save(folder)


def copy(saved: Path, tmp_path: Path) -> Path:
    """A private copy of the saved model folder."""
    target = tmp_path / "m"
    target.mkdir()
    for file in saved.iterdir():
        (target / file.name).write_bytes(file.read_bytes())
    return target


def reseal(folder: Path, change) -> None:
    """Apply `change` to the metadata and seal it again (a consistent but wrong model)."""
    meta = json.loads((folder / META).read_text())
    for key in ("files", "versions", "sha256"):
        meta.pop(key)
    change(meta)
    (folder / META).write_text(json.dumps(seal(folder, meta)))


def test_saved_model_records_checksums_features_settings_and_versions(saved: Path) -> None:
    meta = json.loads((saved / META).read_text())
    assert set(meta["files"]) == {"booster.txt"}
    assert len(meta["files"]["booster.txt"]["sha256"]) == 64
    assert meta["feature_dtypes"] == {"signal": "Float64", "noise": "Float64"}
    assert meta["settings"] == {"model": {"num_leaves": 4}}
    assert {"python", "lightgbm", "polars", "numpy"} <= set(meta["versions"])
    loaded = RingwatchModel.load(saved)
    assert loaded.settings == {"model": {"num_leaves": 4}}


def test_a_booster_edited_in_place_is_refused(saved: Path, tmp_path: Path) -> None:
    folder = copy(saved, tmp_path)
    text = (folder / "booster.txt").read_bytes()
    at = text.index(b"leaf_value=") + len(b"leaf_value=")
    edited = text[:at] + (b"9" if text[at : at + 1] != b"9" else b"8") + text[at + 1 :]
    (folder / "booster.txt").write_bytes(edited)
    with pytest.raises(ModelIntegrityError, match="sha256 does not match"):
        RingwatchModel.load(folder)


def test_a_truncated_booster_is_refused_before_lightgbm_reads_it(
    saved: Path, tmp_path: Path
) -> None:
    folder = copy(saved, tmp_path)
    text = (folder / "booster.txt").read_bytes()
    (folder / "booster.txt").write_bytes(text[: len(text) // 3])
    with pytest.raises(ModelIntegrityError, match=r"booster\.txt"):
        RingwatchModel.load(folder)


def test_reordered_features_in_the_metadata_are_refused(saved: Path, tmp_path: Path) -> None:
    folder = copy(saved, tmp_path)
    meta = json.loads((folder / META).read_text())
    meta["feature_names"] = list(reversed(meta["feature_names"]))
    (folder / META).write_text(json.dumps(meta))
    with pytest.raises(ModelIntegrityError, match="do not match its sha256"):
        RingwatchModel.load(folder)
    reseal(folder, lambda m: None)  # consistent metadata, features still reversed
    with pytest.raises(ModelIntegrityError, match="feature list differs"):
        RingwatchModel.load(folder)


def test_an_unknown_calibrator_is_refused_not_replaced(saved: Path, tmp_path: Path) -> None:
    folder = copy(saved, tmp_path)
    reseal(folder, lambda m: m["calibrator"].update(method="magic"))
    with pytest.raises(ModelIntegrityError, match="unknown calibration method 'magic'"):
        RingwatchModel.load(folder)


def test_a_split_on_a_feature_the_model_lacks_is_refused(saved: Path, tmp_path: Path) -> None:
    folder = copy(saved, tmp_path)
    text = (folder / "booster.txt").read_text()
    start = text.index("split_feature=") + len("split_feature=")
    end = text.index("\n", start)
    (folder / "booster.txt").write_text(text[:start] + "999" + text[start + 1 : end] + text[end:])
    reseal(folder, lambda m: None)
    with pytest.raises(ModelIntegrityError, match="feature index 999"):
        RingwatchModel.load(folder)


def test_a_model_without_checksums_is_refused(saved: Path, tmp_path: Path) -> None:
    folder = copy(saved, tmp_path)
    meta = json.loads((folder / META).read_text())
    del meta["sha256"]
    (folder / META).write_text(json.dumps(meta))
    with pytest.raises(ModelIntegrityError, match="no checksums"):
        RingwatchModel.load(folder)


def test_lightgbm_log_never_reaches_stdout(saved: Path) -> None:
    """LightGBM's native messages (here: a parameter warning) go to logging, not stdout."""
    code = (
        "import numpy as np, lightgbm as lgb, training.model as m\n"
        f"model = m.RingwatchModel.load({str(saved)!r})\n"
        "lgb.train({'objective': 'binary', 'verbose': 1, 'num_leaves': 2},"
        " lgb.Dataset(np.arange(40.0).reshape(20, 2), np.arange(20) % 2), 2)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "LightGBM" not in run.stdout
