"""Typed training settings (split, LightGBM, calibration, heads, evaluation) read from TOML."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import UserError
from common.settings import build, flatten, read_toml

SPLIT_KINDS = ("strict", "time", "ring", "random")
IMBALANCE = ("scale_pos_weight", "is_unbalance", "none")
STOPPING_METRICS = ("binary_logloss", "auc", "average_precision")
CALIBRATION = ("smooth_isotonic", "isotonic", "platt")


@dataclass(frozen=True)
class SplitConfig:
    """How labelled accounts are divided into train / validation / test."""

    kind: str = "strict"  # strict = time- and ring-aware; random only for benchmark comparison
    valid_share: float = 0.2
    test_share: float = 0.2  # 0 only through the API (benchmarks that hold out their own test)
    stratify: bool = True  # split bad and good groups separately: each part keeps the class mix
    seed: int = 7


@dataclass(frozen=True)
class ModelConfig:
    """LightGBM hyperparameters (binary objective) and training controls."""

    num_leaves: int = 31
    learning_rate: float = 0.05
    num_boost_round: int = 600
    early_stopping_rounds: int = 50
    early_stopping_metric: str = "binary_logloss"  # or "auc" or "average_precision"
    min_child_samples: int = 20
    feature_fraction: float = 0.9
    bagging_fraction: float = 0.8
    bagging_freq: int = 1
    lambda_l2: float = 1.0
    max_bin: int = 255
    # class weighting: "none" (ranking is what matters, isotonic calibration fixes the
    # probabilities), or "scale_pos_weight" / "is_unbalance" (bad rows weighted good/bad times:
    # on weak, rare signals the trees chase single bad rows; Reddit inner-validation AUROC
    # 0.638 weighted vs 0.670 unweighted over 10 fits, simulated world unchanged)
    imbalance: str = "none"
    seed: int = 7
    num_threads: int = 1  # fixed for reproducibility; 1 is fastest on a busy 2-core machine


@dataclass(frozen=True)
class SearchConfig:
    """The optional small hyperparameter search (LightGBM cv over a tiny grid)."""

    enabled: bool = False
    num_leaves: tuple[int, ...] = (15, 31, 63)
    learning_rate: tuple[float, ...] = (0.05, 0.1)
    min_child_samples: tuple[int, ...] = (10, 40)
    nfold: int = 3


@dataclass(frozen=True)
class HeadsConfig:
    """Per-reason heads: one extra booster per frequent `labels.reason`."""

    enabled: bool = True
    min_positives: int = 30  # a reason needs this many bad training accounts to get a head
    max_heads: int = 8
    num_boost_round: int = 200


@dataclass(frozen=True)
class BlendConfig:
    """The booster blended with the anomaly surprise (training.blend), weighted by
    leave-one-reason-out stacking over the training part."""

    enabled: bool = True
    min_positives: int = 10  # a closing reason needs this many bad training accounts
    folds: int = 3  # group folds of the training part for the blind boosters
    l2: float = 1.0  # penalty of the stacking logistic regression (standardised inputs)
    seed: int = 7


@dataclass(frozen=True)
class EvalConfig:
    """What the held-out evaluation reports."""

    k: tuple[int, ...] = (50, 100, 500, 1000)  # review capacity per week
    precision_targets: tuple[float, ...] = (0.9, 0.99)
    calibration_bins: int = 10
    contrib_sample: int = 1000  # rows sampled for the SHAP-style summary plot
    compare_random: bool = False  # also report a random split, so the leak is visible


@dataclass(frozen=True)
class TrainConfig:
    """Every training setting; defaults are sane for a first run."""

    split: SplitConfig = field(default_factory=SplitConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    heads: HeadsConfig = field(default_factory=HeadsConfig)
    blend: BlendConfig = field(default_factory=BlendConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    calibration: str = "smooth_isotonic"  # or "isotonic" (flat steps), "platt"
    min_labels: int = 50  # fewer labelled accounts than this is an error
    min_per_class: int = 10  # each class needs at least this many labels
    oof_folds: int = 5  # folds for out-of-fold label-derived features
    label_features: bool = True  # add out-of-fold known-bad-neighbour shares when graphs exist
    # after early stopping on the validation part, boost again on train + validation for the
    # best number of rounds (the calibration stays the one fitted on validation scores); the
    # test part is never used, but the saved model is then not exactly the one validated
    refit: bool = False


def check_train_config(config: TrainConfig, file: str) -> None:
    """Values outside their allowed set or range are UserErrors naming the key."""
    choices = {
        "split.kind": (config.split.kind, SPLIT_KINDS),
        "model.imbalance": (config.model.imbalance, IMBALANCE),
        "model.early_stopping_metric": (config.model.early_stopping_metric, STOPPING_METRICS),
        "calibration": (config.calibration, CALIBRATION),
    }
    for key, (value, allowed) in choices.items():
        if value not in allowed:
            raise UserError(
                f"{file}: key '{key}' must be one of {', '.join(allowed)}; got {value!r}"
            )
    shares = config.split.valid_share + config.split.test_share
    if not (0 < config.split.valid_share < 1 and 0 < config.split.test_share < 1 and shares < 1):
        raise UserError(
            f"{file}: keys 'split.valid_share' and 'split.test_share' must be in (0, 1)"
        )
    if config.oof_folds < 2:
        raise UserError(f"{file}: key 'oof_folds' must be at least 2")


def load_train_config(path: Path) -> TrainConfig:
    """Read a TOML parameter file; keys left out keep their defaults."""
    config = build(TrainConfig, read_toml(path, "parameter file"), str(path))
    check_train_config(config, str(path))
    return config


def config_params(config: TrainConfig) -> dict[str, str]:
    """The settings flattened to `section.key -> text`, for MLflow params."""
    return flatten(config)


def with_overrides(
    config: TrainConfig,
    split: str | None = None,
    search: bool | None = None,
    compare_random: bool | None = None,
) -> TrainConfig:
    """The config with command-line flags applied (None leaves a setting as it is)."""
    if split is not None:
        if split not in SPLIT_KINDS:
            raise UserError(f"--split must be one of {', '.join(SPLIT_KINDS)}; got {split!r}")
        config = dataclasses.replace(config, split=dataclasses.replace(config.split, kind=split))
    if search is not None:
        config = dataclasses.replace(
            config, search=dataclasses.replace(config.search, enabled=search)
        )
    if compare_random is not None:
        config = dataclasses.replace(
            config, eval=dataclasses.replace(config.eval, compare_random=compare_random)
        )
    return config
