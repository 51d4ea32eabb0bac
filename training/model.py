"""RingwatchModel: the trained booster, its calibration, category codes and per-reason heads.

Saved as plain files (LightGBM model text + JSON), never pickle. String columns are turned into
stable integer codes here (the category list is saved with the model): a polars Categorical or
Enum column must never reach LightGBM, which aborts the process on them. Categories not seen at
training time become missing (NaN), which LightGBM routes like any missing value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import polars as pl

from common.atomic import atomic_dir
from common.errors import UserError
from training.calibrate import Calibrator

FORMAT = 1
CODED_DTYPES = (pl.String, pl.Categorical, pl.Enum)


def is_coded(dtype: pl.DataType) -> bool:
    """Whether a column holds categories that must be turned into integer codes."""
    return isinstance(dtype, CODED_DTYPES) or dtype == pl.String


def fit_codes(frame: pl.DataFrame, columns: list[str]) -> dict[str, list[str]]:
    """The sorted category list of each string-like column (code = position in the list)."""
    codes = {}
    for name in columns:
        values = frame[name].cast(pl.String).drop_nulls().unique().sort()
        codes[name] = values.to_list()
    return codes


def encode(
    frame: pl.DataFrame, feature_names: list[str], codes: dict[str, list[str]]
) -> np.ndarray:
    """The float64 matrix LightGBM sees: features in model order, categories as codes."""
    missing = [n for n in feature_names if n not in frame.columns]
    if missing:
        raise UserError(f"feature table lacks column(s) the model needs: {', '.join(missing)}")
    schema = frame.schema  # polars 2 rebuilds it on every access: read it once
    exprs = []
    for name in feature_names:
        if name in codes:
            mapping = {c: float(i) for i, c in enumerate(codes[name])}
            exprs.append(
                pl.col(name)
                .cast(pl.String)
                .replace_strict(mapping, default=None, return_dtype=pl.Float64)
                .alias(name)
            )
        elif is_coded(schema[name]):
            raise UserError(f"feature column '{name}' holds text but the model expects numbers")
        else:
            exprs.append(pl.col(name).cast(pl.Float64).alias(name))
    return frame.select(exprs).to_numpy().astype(np.float64, copy=False)


@dataclass
class Head:
    """A per-reason booster (bad for this reason vs everything else) and its calibration."""

    booster: lgb.Booster
    calibrator: Calibrator


@dataclass
class RingwatchModel:
    """The overall model and its optional per-reason heads, with everything needed to score."""

    booster: lgb.Booster
    calibrator: Calibrator
    feature_names: list[str]
    codes: dict[str, list[str]] = field(default_factory=dict)
    heads: dict[str, Head] = field(default_factory=dict)
    label_features: list[str] = field(default_factory=list)  # computed from labels at scoring
    info: dict = field(default_factory=dict)  # split, config summary, metrics (JSON-able)
    name: str | None = None
    version: str | None = None

    def matrix(self, features: pl.DataFrame) -> np.ndarray:
        """The numeric matrix of `features` in this model's column order."""
        return encode(features, self.feature_names, self.codes)

    def raw_score(self, features: pl.DataFrame) -> np.ndarray:
        """Uncalibrated log-odds of the overall booster."""
        return self.booster.predict(self.matrix(features), raw_score=True)

    def predict(self, features: pl.DataFrame) -> np.ndarray:
        """Calibrated probability that each account is bad."""
        return self.calibrator.apply(self.raw_score(features))

    def predict_heads(self, features: pl.DataFrame) -> dict[str, np.ndarray]:
        """Calibrated probability of each frequent reason (empty when there are no heads)."""
        if not self.heads:
            return {}
        x = self.matrix(features)
        return {
            r: h.calibrator.apply(h.booster.predict(x, raw_score=True))
            for r, h in self.heads.items()
        }

    def contributions(self, features: pl.DataFrame) -> np.ndarray:
        """Per-feature TreeSHAP contributions (last column = bias), raw-score units; slow."""
        return self.booster.predict(self.matrix(features), pred_contrib=True)

    def importance(self) -> dict[str, float]:
        """Total gain of each feature in the overall booster."""
        gain = self.booster.feature_importance(importance_type="gain")
        return dict(zip(self.feature_names, map(float, gain), strict=True))

    def save(self, path: Path) -> Path:
        """Write the model as plain files into folder `path` (atomically replaced)."""
        with atomic_dir(Path(path), overwrite=True) as tmp:
            self.booster.save_model(str(tmp / "booster.txt"))
            heads = {}
            for i, (reason, head) in enumerate(sorted(self.heads.items())):
                file = f"head_{i}.txt"
                head.booster.save_model(str(tmp / file))
                heads[reason] = {"file": file, "calibrator": head.calibrator.to_dict()}
            meta = {
                "format": FORMAT,
                "feature_names": self.feature_names,
                "codes": self.codes,
                "calibrator": self.calibrator.to_dict(),
                "heads": heads,
                "label_features": self.label_features,
                "info": self.info,
                "name": self.name,
                "version": self.version,
            }
            (tmp / "model.json").write_text(json.dumps(meta, indent=1, default=str))
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> RingwatchModel:
        """Read a model folder written by `save`."""
        path = Path(path)
        try:
            meta = json.loads((path / "model.json").read_text())
        except FileNotFoundError:
            raise UserError(f"{path}: not a ringwatch model folder (no model.json)") from None
        if meta.get("format") != FORMAT:
            raise UserError(f"{path}: model format {meta.get('format')!r} is not {FORMAT}")
        heads = {
            reason: Head(
                lgb.Booster(model_file=str(path / h["file"])),
                Calibrator.from_dict(h["calibrator"]),
            )
            for reason, h in meta["heads"].items()
        }
        return cls(
            booster=lgb.Booster(model_file=str(path / "booster.txt")),
            calibrator=Calibrator.from_dict(meta["calibrator"]),
            feature_names=list(meta["feature_names"]),
            codes={k: list(v) for k, v in meta["codes"].items()},
            heads=heads,
            label_features=list(meta["label_features"]),
            info=meta["info"],
            name=meta["name"],
            version=meta["version"],
        )
