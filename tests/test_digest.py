"""Behaviour digest: a small simulated world's feature table, model metrics and ranked list,
reduced to stable digests, so a refactor can prove it changes nothing.

The chain is the product's (simulate → load → features → fit → label features → score) on a
2,500-account world with a fixed seed, without MLflow. Every part is sorted explicitly and
floats are rounded (6 significant digits) before hashing, so the digests are stable from run
to run on this machine. Feature digests are kept per column, so a failure names what moved.

When a change is MEANT to alter features, metrics or the list, update the stored digests:

    RINGWATCH_UPDATE_DIGESTS=1 .venv/bin/pytest tests/test_digest.py -q

rewrites `tests/digests.json` (commit it with the change and say why in the message). On a
rebase conflict in that file, take either side and rerun the command.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

DIGESTS = Path(__file__).with_name("digests.json")
UPDATE = os.environ.get("RINGWATCH_UPDATE_DIGESTS") == "1"
ACCOUNTS, SEED = 2_500, 11
VOLATILE = ("created_at", "seconds", "as_of")  # run-time stamps; not behaviour


def _round(frame: pl.DataFrame) -> pl.DataFrame:
    """Floats to 6 significant digits (stable text), everything else as it is."""

    def sig(col: pl.Series) -> pl.Series:
        values = col.to_numpy().astype(np.float64)
        text = [None if v is None or np.isnan(v) else f"{v:.6g}" for v in values.tolist()]
        return pl.Series(col.name, text, dtype=pl.String)

    return frame.with_columns(
        [sig(frame[n]) for n, dtype in frame.schema.items() if dtype.is_float()]
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


FLOAT = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")


def _round_text(text: str) -> str:
    """Every float in JSON text at 6 significant digits, like the flat float columns (a list's
    feature values must not hang on last bits, e.g. PageRank summed by 1 or 2 numba threads)."""
    return FLOAT.sub(lambda m: f"{float(m.group()):.6g}", text)


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested columns (lists, structs) as JSON text with rounded floats, so the frame can be
    written as CSV."""
    nested = [n for n, t in frame.schema.items() if t.is_nested()]
    return frame.with_columns(
        pl.struct(n).struct.json_encode().map_elements(_round_text, return_dtype=pl.String)
        for n in nested
    )


def _frame_digest(frame: pl.DataFrame) -> str:
    """Digest of a frame's schema and values (caller sorts it)."""
    rounded = _flat(_round(frame))
    schema = json.dumps({n: str(t) for n, t in frame.schema.items()})
    return _sha(schema + rounded.write_csv())


def feature_digests(frame: pl.DataFrame) -> dict[str, str]:
    """One digest per feature column, rows in account_id order."""
    frame = frame.sort("account_id")
    digests = {"account_id": _sha("\n".join(frame["account_id"].to_list()))}
    for name in frame.columns:
        if name != "account_id":
            digests[name] = _frame_digest(frame.select(name))
    return digests


def metric_digest(metrics: dict[str, float]) -> dict[str, str]:
    """Every metric rounded to 6 significant digits (readable, so a diff shows what moved)."""
    return {k: f"{float(v):.6g}" for k, v in sorted(metrics.items())}


def list_digest(folder: Path) -> dict[str, str]:
    """The written list (candidates, rings, scores) in a fixed order."""
    candidates = pl.read_parquet(folder / "candidates.parquet")
    candidates = candidates.drop([c for c in VOLATILE if c in candidates.columns])
    scores = pl.read_parquet(folder / "scores.parquet")
    rings = pl.read_parquet(folder / "rings.parquet")
    return {
        "candidates": _frame_digest(candidates.sort("account_id")),
        "ranked_ids": _sha(",".join(candidates["account_id"].to_list())),
        "scores": _frame_digest(scores.sort("account_id")),
        "rings": _frame_digest(rings.drop(VOLATILE, strict=False).sort("ring_id")),
    }


def run_world(tmp: Path) -> dict:
    """The product chain on the digest world; returns every digest."""
    from detection import commands
    from detection.pipeline import score_base
    from detection.settings import Settings
    from experiments.simulate import WorldConfig, simulate_to
    from features.io.load import labels_known_at, load_dataset

    data = tmp / "data"
    simulate_to(WorldConfig(accounts=ACCOUNTS, seed=SEED).check(), data, overwrite=True)
    settings = Settings()
    ds = load_dataset(data)
    table = commands.build_features(ds, settings)
    fit = commands.fit(table, ds.labels, table.rings.components, settings, labels_known_at(ds))
    frame = commands.label_features(table.frame, fit.model, table.graphs, labels_known_at(ds))
    result = score_base(
        frame,
        fit.model,
        ds.as_of,
        tmp / "lists",
        settings.score,
        membership=table.rings.membership,
        rings=table.rings.rings,
        events=ds.events,
        edges=ds.edges,
    )
    return {
        "features": feature_digests(table.frame),
        "rings": _frame_digest(
            table.rings.membership.sort("account_id", "ring_id").select(
                "account_id", "ring_id", "ring_size"
            )
        ),
        "metrics": metric_digest(fit.metrics),
        "model_features": list(fit.model.feature_names),
        "list": list_digest(result.folder),
    }


@pytest.fixture(scope="module")
def digests(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_world(tmp_path_factory.mktemp("digest"))


def test_behaviour_digest_unchanged(digests: dict) -> None:
    """Features, metrics and the ranked list are exactly what they were (see module doc)."""
    if UPDATE:
        DIGESTS.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"digests rewritten to {DIGESTS}")
    stored = json.loads(DIGESTS.read_text())
    moved = {
        f"{part}.{key}"
        for part in ("features", "metrics", "list")
        for key in set(stored[part]) | set(digests[part])
        if stored[part].get(key) != digests[part].get(key)
    }
    moved |= {part for part in ("rings", "model_features") if stored[part] != digests[part]}
    assert not moved, (
        f"behaviour changed in {sorted(moved)}; if intended, update with "
        "RINGWATCH_UPDATE_DIGESTS=1 pytest tests/test_digest.py (see its module doc)"
    )
