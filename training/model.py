"""RingwatchModel: the trained booster, its calibration, category codes and per-reason heads.

Saved as plain files (LightGBM model text + JSON), never pickle. String columns are turned into
stable integer codes here (the category list is saved with the model): a polars Categorical or
Enum column must never reach LightGBM, which aborts the process on them. Categories not seen at
training time become missing (NaN), which LightGBM routes like any missing value.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from common.atomic import atomic_dir
from common.errors import UserError
from training.blend import Blend
from training.calibrate import Calibrator
from training.integrity import (
    META,
    ModelIntegrityError,
    check_booster_text,
    check_versions,
    read_meta,
    seal,
    verified_bytes,
)

FORMAT = 2  # 2: checksums, feature dtypes, settings and library versions recorded
CODED_DTYPES = (pl.String, pl.Categorical, pl.Enum)


class _NativeLog:
    """LightGBM's native log as Python logging (never stdout: stdout holds results and JSON)."""

    log = logging.getLogger("lightgbm")

    def info(self, message: str) -> None:
        self.log.debug(message.rstrip())

    def warning(self, message: str) -> None:
        self.log.warning(message.rstrip())


lgb.register_logger(_NativeLog())


def load_booster(folder: Path, meta: dict, name: str, features: list[str]) -> lgb.Booster:
    """A booster from a verified file of the model folder (LightGBM never sees anything else)."""
    text = verified_bytes(folder, meta, name)
    check_booster_text(text, features, str(folder / name))
    try:
        return lgb.Booster(model_str=text.decode("utf-8"))
    except (lgb.basic.LightGBMError, UnicodeDecodeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise ModelIntegrityError(f"{folder / name}: LightGBM cannot read it: {first}") from None


def feature_kinds(frame: pl.DataFrame, names: list[str]) -> dict[str, str]:
    """'category' or the numeric dtype of each feature column (recorded with the model)."""
    schema = frame.schema
    return {n: "category" if is_coded(schema[n]) else str(schema[n]) for n in names}


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
    """The float64 matrix LightGBM sees: features in model order, categories as codes; row-major
    (C order), the layout LightGBM and the compiled predictors read without another copy."""
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
    return frame.select(exprs).to_numpy(order="c").astype(np.float64, copy=False)


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
    feature_dtypes: dict[str, str] = field(default_factory=dict)  # name -> dtype at training
    settings: dict = field(default_factory=dict)  # the training settings (JSON-able)
    blend: Blend | None = None  # booster + anomaly surprise (training.blend); None: booster
    name: str | None = None
    version: str | None = None
    compiled: Any = field(default=None, repr=False, compare=False)  # training.compiled

    def matrix(self, features: pl.DataFrame) -> np.ndarray:
        """The numeric matrix of `features` in this model's column order."""
        return encode(features, self.feature_names, self.codes)

    def blended(self, raw: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The overall log-odds: the booster's `raw` blended with the anomaly surprise."""
        return raw if self.blend is None else self.blend.apply(raw, x, self.feature_names)

    def raw_score(self, features: pl.DataFrame) -> np.ndarray:
        """Uncalibrated log-odds of the overall model (booster and anomaly blend)."""
        x = self.matrix(features)
        return self.blended(self.booster.predict(x, raw_score=True), x)

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

    def raw_scores(self, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Raw log-odds of the overall booster and of every head over one matrix, by the
        compiled predictors when attached (same numbers, faster), else by LightGBM."""
        if self.compiled is not None:
            raw, heads = self.compiled.raw_scores(x)
            return self.blended(raw, x), heads
        raw = self.booster.predict(x, raw_score=True)
        heads = {r: h.booster.predict(x, raw_score=True) for r, h in self.heads.items()}
        return self.blended(raw, x), heads

    def scores(self, features: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, dict]:
        """(calibrated score, raw log-odds, calibrated score per head) of `features`, with one
        matrix built for the overall booster and the heads together."""
        raw, heads = self.raw_scores(self.matrix(features))
        calibrated = {r: self.heads[r].calibrator.apply(v) for r, v in heads.items()}
        return self.calibrator.apply(raw), raw, calibrated

    def contributions(self, features: pl.DataFrame) -> np.ndarray:
        """Per-feature contributions (last column = bias) to the overall log-odds: TreeSHAP of
        the booster, with the blend's surprise term on the family that gave it; slow."""
        x = self.matrix(features)
        contrib = self.booster.predict(x, pred_contrib=True)
        if self.blend is None:
            return contrib
        return self.blend.contributions(contrib, x, self.feature_names)

    def importance(self) -> dict[str, float]:
        """Total gain of each feature in the overall booster."""
        gain = self.booster.feature_importance(importance_type="gain")
        return dict(zip(self.feature_names, map(float, gain), strict=True))

    def save(self, path: Path) -> Path:
        """Write the model as plain files into folder `path` (atomically replaced), sealed with
        the checksum of every file, the settings and the library versions."""
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
                "feature_dtypes": self.feature_dtypes,
                "codes": self.codes,
                "calibrator": self.calibrator.to_dict(),
                "heads": heads,
                "label_features": self.label_features,
                "info": self.info,
                "settings": self.settings,
                "blend": None if self.blend is None else self.blend.to_dict(),
                "name": self.name,
                "version": self.version,
            }
            meta = json.loads(json.dumps(meta, default=str))  # what the file will hold
            (tmp / META).write_text(json.dumps(seal(tmp, meta), indent=1))
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> RingwatchModel:
        """Read a model folder written by `save`, verifying every file before parsing it."""
        path = Path(path)
        meta = read_meta(path)
        if meta.get("format") != FORMAT:
            raise UserError(f"{path}: model format {meta.get('format')!r} is not {FORMAT}")
        check_versions(path, meta)
        names = list(meta["feature_names"])
        try:
            calibrator = Calibrator.from_dict(meta["calibrator"])
            heads = {
                reason: Head(
                    load_booster(path, meta, h["file"], names),
                    Calibrator.from_dict(h["calibrator"]),
                )
                for reason, h in meta["heads"].items()
            }
            blend = Blend.from_dict(meta["blend"]) if meta.get("blend") else None
        except (KeyError, TypeError, ValueError) as error:
            raise ModelIntegrityError(f"{path / META}: {error}") from None
        return cls(
            booster=load_booster(path, meta, "booster.txt", names),
            calibrator=calibrator,
            feature_names=names,
            codes={k: list(v) for k, v in meta["codes"].items()},
            heads=heads,
            label_features=list(meta["label_features"]),
            info=meta["info"],
            feature_dtypes=dict(meta.get("feature_dtypes", {})),
            settings=dict(meta.get("settings", {})),
            blend=blend,
            name=meta["name"],
            version=meta["version"],
        )
