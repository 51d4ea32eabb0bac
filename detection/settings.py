"""One `Settings` object for a whole run: the feature, training and scoring sections.

Loaded once at the CLI edge: defaults, then an optional strict TOML file (`--settings FILE`;
an unknown key is an error naming it), then command-line flags. The feature section is saved
with every model (`model.info["features"]`) and checked at scoring, so a model is never fed
features built with other settings than it was trained on.

    [features.behaviour]
    windows_days = [7, 28]
    [features.graph]
    hub_max_accounts = 50
    [train.model]
    learning_rate = 0.05
    [score]
    capacity = 500
    [input]
    earliest = "2015-01-01"
    stale_after_days = 8
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from common.errors import UserError
from common.settings import build, plain, read_toml
from detection.config import ScoreConfig
from features.config import FeatureConfig
from features.io.sanity import InputConfig
from training.config import TrainConfig, check_train_config

MODEL_KEY = "features"  # where a model's info holds the feature settings it was trained with
WORKSPACE = Path("ringwatch-demo")  # the embedded default: MLflow store, feature cache, lists
CHAMPION_URI = "models:/ringwatch@champion"  # what `score` (and the demo) score with


@dataclass(frozen=True)
class Settings:
    """Every setting of a run; `source` names the TOML file read (None: defaults only)."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    input: InputConfig = field(default_factory=InputConfig)  # plausible times, staleness
    source: str | None = field(default=None, init=False, compare=False)

    def but(self, **sections: Any) -> Settings:
        """A copy with some sections replaced; it still names the file it came from."""
        changed = replace(self, **sections)
        object.__setattr__(changed, "source", self.source)
        return changed


def load_settings(path: Path | None) -> Settings:
    """Defaults, overridden by the TOML file at `path` when given."""
    if path is None:
        return Settings()
    file = str(path)
    settings = build(Settings, read_toml(path), file)
    check_train_config(settings.train, file)
    settings.score.check()
    settings.input.window()  # a bad date fails here, naming the key
    object.__setattr__(settings, "source", file)
    return settings


def with_feature_settings(settings: Settings, model_info: dict[str, Any]) -> Settings:
    """The settings to score a model with: the model's feature section when the run gave no
    settings file; a UserError when a settings file asks for other feature settings."""
    stored = model_info.get(MODEL_KEY)
    if stored is None:  # a model from before feature settings were saved: defaults
        return settings
    if plain(settings.features) == stored:
        return settings
    if settings.source is not None:
        ours = _flat(plain(settings.features))
        theirs = _flat(stored)
        keys = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
        raise UserError(
            f"{settings.source}: the model was trained with other feature settings "
            f"(different: {', '.join(keys)}); drop them from the file or retrain"
        )
    return settings.but(features=build(FeatureConfig, stored, "the model's settings"))


def _flat(table: dict[str, Any], prefix: str = "features.") -> dict[str, Any]:
    """Nested settings as `features.section.key -> value`."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out
