"""The pure training function: feature table + labels + groups in, model + held-out metrics out.

How accounts are used:
- only LABELLED accounts are training, validation or test rows. Unlabelled accounts are never
  taken as negatives (many of them are the undiscovered bad accounts we want to find), but they
  are part of the graphs that the graph and label-derived features are computed over, and every
  account is scored at the end (on simulated worlds that score is checked against truth);
- the model is boosted on the train part with early stopping on the validation part,
  calibrated on the validation part, and measured once on the test part;
- by default it is not refitted on train + validation afterwards, so the saved model is exactly
  the one whose held-out figures are reported. With `refit` (benchmarks that hold out their own
  test accounts and give fit_model only training labels, `split.test_share` = 0) it is: every
  given label then trains the final model, the validation part only chose the number of rounds
  and the calibration, and label-derived features are out of fold over train + validation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from common.errors import UserError
from common.settings import plain
from features.config import FeatureConfig
from features.execution import Engine
from features.registry import describe
from training.blend import blend_of
from training.boost import class_weights, dataset, lgb_params, search
from training.calibrate import fit_calibrator
from training.cluster_boost import overall_booster
from training.config import TrainConfig
from training.heads import fit_heads
from training.metrics import evaluate
from training.model import RingwatchModel, encode, feature_kinds, fit_codes, is_coded
from training.oof import ShareFn, with_label_features
from training.splits import Split, split_labelled

LABEL_STAGE = "label-derived"
SCORE_CHUNK = 100_000  # rows scored at a time when every account is scored (a float64
# matrix of 100,000 x 230 features is 184 MB)
MAX_CATEGORIES = 200  # a text column with more distinct values is not a category


@dataclass
class FitResult:
    """A trained model, how it was split and measured, and every account's score."""

    model: RingwatchModel
    split: Split
    metrics: dict[str, float]  # "test_*", "valid_*" (and "random_test_*" when compared)
    heldout: pl.DataFrame  # the test part: account_id, label, reason, score + feature columns
    scored: pl.DataFrame  # account_id, part (train/valid/test/unlabelled), score: every account
    table: pl.DataFrame  # the feature table the model saw (with label-derived columns)
    params: dict[str, Any] = field(default_factory=dict)  # LightGBM params actually used
    search_trials: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_labels(features: pl.DataFrame, labels: pl.DataFrame, config: TrainConfig) -> pl.DataFrame:
    """Labels of accounts in the feature table (latest decision per account), or a UserError."""
    if labels.height == 0:
        raise UserError("no labels: training needs a labels table (account_id, label 0/1)")
    labelled = (
        labels.sort("account_id", "labelled_at", nulls_last=False)
        .unique("account_id", keep="last")
        .join(features.select("account_id"), on="account_id", how="semi")
        .sort("account_id")
    )
    if labelled.height == 0:
        raise UserError("no labelled account is in the accounts table")
    bad, good = int((labelled["label"] == 1).sum()), int((labelled["label"] == 0).sum())
    if bad == 0 or good == 0:
        only = "1 (bad)" if good == 0 else "0 (good)"
        raise UserError(
            f"labels hold only label={only} for {labelled.height} accounts: "
            "training needs both bad (1) and good (0) examples"
        )
    if labelled.height < config.min_labels:
        raise UserError(
            f"only {labelled.height} labelled accounts; training needs at least "
            f"{config.min_labels} (setting min_labels)"
        )
    if min(bad, good) < config.min_per_class:
        raise UserError(
            f"only {bad} bad and {good} good labelled accounts; training needs at least "
            f"{config.min_per_class} of each (setting min_per_class)"
        )
    return labelled


def parts_of(config: TrainConfig) -> tuple[str, ...]:
    """The parts the split makes: train, valid and (unless test_share is 0) test."""
    return ("train", "valid", "test") if config.split.test_share > 0 else ("train", "valid")


def check_parts(split: Split, labelled: pl.DataFrame, parts: tuple[str, ...]) -> None:
    """Every part must hold both classes, or its figures mean nothing."""
    joined = split.assignments.join(labelled.select("account_id", "label"), on="account_id")
    for part in parts:
        y = joined.filter(pl.col("part") == part)["label"]
        if y.len() == 0 or y.n_unique() < 2:
            raise UserError(
                f"the {part} part of the {split.kind} split has {int(y.sum())} bad of {y.len()} "
                "labelled accounts; it needs both classes (too few labels, or labels too "
                "concentrated in time or in a few rings)"
            )


def feature_columns(
    table: pl.DataFrame,
    stages: set[str] | None,
    label_cols: list[str],
    settings: FeatureConfig | None = None,
) -> list[str]:
    """The model's input columns: numeric, boolean or text; optionally only some stages (of
    the registry built for the feature settings the table was made with)."""
    names = []
    for name, dtype in table.schema.items():
        if name == "account_id":
            continue
        if not (dtype.is_numeric() or dtype == pl.Boolean or is_coded(dtype)):
            continue
        stage = LABEL_STAGE if name in label_cols else describe(name, settings).stage
        if stages is None or stage in stages:
            names.append(name)
    return names


def predict_chunked(model: RingwatchModel, table: pl.DataFrame) -> np.ndarray:
    """Calibrated scores of a whole table, a slice at a time (bounded matrix memory)."""
    if table.height == 0:
        return np.zeros(0)
    return np.concatenate([model.predict(part) for part in table.iter_slices(SCORE_CHUNK)])


def drop_wide_text(table: pl.DataFrame, names: list[str]) -> tuple[list[str], list[str]]:
    """Leave out text columns with more than MAX_CATEGORIES values (ids, free text)."""
    schema = table.schema
    wide = [n for n in names if is_coded(schema[n]) and table[n].n_unique() > MAX_CATEGORIES]
    return [n for n in names if n not in wide], wide


def add_label_features(
    features: pl.DataFrame,
    labelled: pl.DataFrame,
    split: Split,
    config: TrainConfig,
    graphs: Any,
    share_fn: ShareFn | None,
    known: pl.DataFrame | None,
) -> tuple[pl.DataFrame, list[str]]:
    """The table with out-of-fold known-bad-neighbour columns from the `known` labels (those
    known at the snapshot; every given label when None)."""
    known = labelled if known is None else known
    folds, seed = config.oof_folds, config.split.seed
    return with_label_features(features, graphs, known, split, folds, seed, share_fn)


def measure(
    model: RingwatchModel, rows: dict[str, pl.DataFrame], config: TrainConfig
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Validation and test metrics of the calibrated model, and its test-part scores."""
    metrics: dict[str, float] = {}
    measured = [p for p in ("valid", "test") if p in rows]
    probs = {p: model.predict(rows[p]) for p in measured}
    for p in measured:
        y = rows[p]["label"].cast(pl.Int64).to_numpy()
        ev = config.eval
        found = evaluate(y, probs[p], ev.k, ev.precision_targets, ev.calibration_bins)
        metrics.update({f"{p}_{k}": v for k, v in found.items()})
    return metrics, probs


def merged(split: Split) -> Split:
    """The split with the validation part counted as training (for the refit)."""
    part = pl.when(pl.col("part") == "valid").then(pl.lit("train")).otherwise(pl.col("part"))
    return replace(split, assignments=split.assignments.with_columns(part.alias("part")))


def refit(
    features: pl.DataFrame,
    labelled: pl.DataFrame,
    split: Split,
    config: TrainConfig,
    label_inputs: tuple[Any, ShareFn | None, pl.DataFrame | None] | None,
    model: RingwatchModel,
    params: dict,
    rounds: int,
) -> tuple[lgb.Booster, pl.DataFrame]:
    """Boost on train + validation together for the early-stopped number of rounds, with
    label-derived features recomputed out of fold over both parts (`label_inputs`: graphs,
    share function, snapshot; None without those features). Returns the booster and the table
    it was trained on (held-out and unlabelled rows there see every given label)."""
    both = merged(split)
    table = features
    if label_inputs is not None:
        graphs, share_fn, known = label_inputs
        table, _ = add_label_features(features, labelled, both, config, graphs, share_fn, known)
    rows = (
        both.assignments.filter(pl.col("part") == "train")
        .join(labelled, on="account_id")
        .join(table, on="account_id")
        .sort("account_id")
    )
    y = rows["label"].cast(pl.Int64).to_numpy()
    params = {**params, **lgb_params(config.model, y)}  # class weight of the combined rows
    x = encode(rows, model.feature_names, model.codes)
    booster = lgb.train(
        params, dataset(x, y, model.feature_names, list(model.codes)), num_boost_round=rounds
    )
    return booster, table


@dataclass
class Design:
    """The model's inputs: the feature table (with label-derived columns), the chosen columns
    and their text codes, and each part's labelled rows as matrices."""

    table: pl.DataFrame
    label_cols: list[str]
    names: list[str]
    codes: dict[str, list[str]]
    rows: dict[str, pl.DataFrame]  # part -> account_id, label, reason, group + features
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    notes: list[str]

    @property
    def categorical(self) -> list[str]:
        return list(self.codes)


def prepare(
    features: pl.DataFrame, labels: pl.DataFrame, groups: pl.DataFrame | None, config: TrainConfig
) -> tuple[pl.DataFrame, pl.DataFrame, Split]:
    """Step 1: the labels checked, the labelled accounts split into parts with both classes."""
    if not features["account_id"].is_sorted():  # the feature table is; a sort would copy it
        features = features.sort("account_id")
    labelled = check_labels(features, labels, config)
    split = split_labelled(labelled, groups, config.split)
    check_parts(split, labelled, parts_of(config))
    return features, labelled, split


def label_inputs_for(
    graphs: Any,
    share_fn: ShareFn | None,
    known: pl.DataFrame | None,
    config: TrainConfig,
    stages: set[str] | None,
) -> tuple[Any, ShareFn | None, pl.DataFrame | None] | None:
    """What the label-derived features need (None when they are off or left out)."""
    wanted = config.label_features and (stages is None or LABEL_STAGE in stages)
    return (graphs, share_fn, known) if graphs is not None and wanted else None


def design(
    features: pl.DataFrame,
    labelled: pl.DataFrame,
    split: Split,
    config: TrainConfig,
    label_inputs: tuple[Any, ShareFn | None, pl.DataFrame | None] | None,
    stages: set[str] | None,
    settings: FeatureConfig,
) -> Design:
    """Step 2: out-of-fold label-derived columns, the model's columns and codes, matrices."""
    table, label_cols = features, []
    if label_inputs is not None:
        table, label_cols = add_label_features(features, labelled, split, config, *label_inputs)
    names, dropped = drop_wide_text(table, feature_columns(table, stages, label_cols, settings))
    notes = [f"text column '{n}' has too many distinct values to encode; left out" for n in dropped]
    if not names:
        raise UserError(f"no feature columns to train on (stages: {sorted(stages or [])})")
    codes = fit_codes(table, [n for n in names if is_coded(table.schema[n])])
    rows = {
        p: split.assignments.filter(pl.col("part") == p)
        .join(labelled, on="account_id")
        .join(table, on="account_id")
        .sort("account_id")
        for p in parts_of(config)
    }
    x = {p: encode(rows[p], names, codes) for p in rows}
    y = {p: rows[p]["label"].cast(pl.Int64).to_numpy() for p in rows}
    return Design(table, label_cols, names, codes, rows, x, y, notes)


def boost(
    d: Design, config: TrainConfig, engine: Engine | None = None
) -> tuple[lgb.Booster, dict, list[dict], TrainConfig]:
    """Step 3: the optional search, then boosting with early stopping on the validation part
    (returns the booster, its parameters, the search trials and the config searched to)."""
    train = dataset(d.x["train"], d.y["train"], d.names, d.categorical)
    trials: list[dict] = []
    if config.search.enabled:
        groups = d.rows["train"]["group"].to_numpy()
        found, trials = search(config.model, config.search, train, d.y["train"], groups)
        config = replace(config, model=found)
    params = lgb_params(config.model, d.y["train"])
    weights = class_weights(params, d.y["valid"])
    valid = dataset(d.x["valid"], d.y["valid"], d.names, d.categorical, weights)
    booster = overall_booster(engine or Engine(), params, train, valid, d, config.model)
    return booster, params, trials, config


def assemble(
    d: Design,
    booster: lgb.Booster,
    params: dict,
    config: TrainConfig,
    split: Split,
    settings: FeatureConfig,
) -> tuple[RingwatchModel, list[str]]:
    """Step 4: the anomaly blend (leave-one-reason-out stacking on the train part),
    calibration on the validation part, the per-reason heads, the model and what is saved
    with it (feature settings, split, rounds)."""
    blend, notes = blend_of(d, booster, params, config.blend)
    raw_valid = booster.predict(d.x["valid"], raw_score=True)
    if blend is not None:
        raw_valid = blend.apply(raw_valid, d.x["valid"], d.names)
    calibrator = fit_calibrator(raw_valid, d.y["valid"], config.calibration)
    heads, head_notes = fit_heads(d.x, d.rows, params, config, d.names, d.categorical)
    info = {
        "features": plain(settings),
        "split": split.kind,
        "split_counts": split.counts(),
        "best_iteration": booster.best_iteration,
        "booster": getattr(booster, "origin", "single machine"),
        "refit": config.refit,
        "cuts": {k: str(v) for k, v in split.cuts.items()},
    }
    model = RingwatchModel(
        booster, calibrator, d.names, d.codes, heads, d.label_cols, info,
        feature_dtypes=feature_kinds(d.table, d.names), settings=asdict(config), blend=blend,
    )  # fmt: skip
    return model, [*notes, *head_notes]


def heldout_of(d: Design, probs: dict[str, np.ndarray]) -> pl.DataFrame:
    """Step 5: the test part with its scores and every feature column (plots, promotion)."""
    test = d.rows.get("test", d.rows["valid"].clear())
    score = pl.Series("score", probs.get("test", np.zeros(0)))
    extra = [c for c in d.table.columns if c != "account_id"]
    return test.select("account_id", "label", "reason", score, *extra)


def score_all(model: RingwatchModel, table: pl.DataFrame, split: Split) -> pl.DataFrame:
    """Step 6: every account's score, with the part it was in (unlabelled for the rest)."""
    parts = split.assignments.select("account_id", "part")
    return (
        table.select("account_id")
        .join(parts, on="account_id", how="left")
        .with_columns(
            pl.col("part").fill_null("unlabelled"),
            pl.Series("score", predict_chunked(model, table)),
        )
        .sort("account_id")
    )


def fit_model(
    features: pl.DataFrame,
    labels: pl.DataFrame,
    groups: pl.DataFrame | None,
    config: TrainConfig,
    graphs: Any = None,
    share_fn: ShareFn | None = None,
    stages: set[str] | None = None,
    known: pl.DataFrame | None = None,
    feature_settings: FeatureConfig | None = None,
    engine: Engine | None = None,
) -> FitResult:
    """Train, calibrate and evaluate one model (see the module doc for how rows are used).

    `graphs` (features.graph.LabelGraphs) enables the out-of-fold label-derived features;
    `stages` keeps only features of those registry stages (ablation); `known` (the labels
    known at the snapshot, features.io.load.labels_known_at) are the labels those features may
    see, among the training part's (every given label when None); `feature_settings` are the
    settings the table was built with (saved with the model; default: the defaults);
    `engine` (a cluster) may boost on lightgbm.dask (training.cluster_boost)."""
    settings = feature_settings or FeatureConfig()
    features, labelled, split = prepare(features, labels, groups, config)
    label_inputs = label_inputs_for(graphs, share_fn, known, config, stages)
    d = design(features, labelled, split, config, label_inputs, stages, settings)
    booster, params, trials, config = boost(d, config, engine)
    model, head_notes = assemble(d, booster, params, config, split, settings)
    metrics, probs = measure(model, d.rows, config)
    metrics["best_iteration"] = float(booster.best_iteration)
    heldout, table = heldout_of(d, probs), d.table
    if config.refit:  # figures above are the early-stopped model's; now train on every label
        rounds = max(1, booster.best_iteration)
        final, table = refit(features, labelled, split, config, label_inputs, model, params, rounds)
        model = replace(model, booster=final)
    params = {**params, "num_boost_round": config.model.num_boost_round}
    notes = [*split.notes, *d.notes, *head_notes]
    scored = score_all(model, table, split)
    return FitResult(model, split, metrics, heldout, scored, table, params, trials, notes)
