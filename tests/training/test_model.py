"""RingwatchModel: save/load round trip, category codes, contributions, heads."""

import numpy as np
import polars as pl
import pytest

from common.errors import UserError
from training.config import HeadsConfig, TrainConfig
from training.fit import fit_model
from training.model import RingwatchModel, encode, fit_codes

from .synthetic import make_world, share_fn

CONFIG = TrainConfig(heads=HeadsConfig(min_positives=10))


@pytest.fixture(scope="module")
def fitted():
    w = make_world(n=900, seed=1)
    return w, fit_model(w.features, w.labels, w.groups, CONFIG, w.graph, share_fn)


def test_save_load_round_trip_gives_identical_predictions(fitted, tmp_path):
    _, fit = fitted
    table = fit.table
    fit.model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "booster.txt",
        "head_0.txt",
        "head_1.txt",
        "model.json",
    ]
    loaded = RingwatchModel.load(tmp_path / "m")
    assert loaded.feature_names == fit.model.feature_names
    assert loaded.codes == fit.model.codes
    assert loaded.label_features == ["bad_neighbour_share", "known_neighbours"]
    assert np.array_equal(loaded.predict(table), fit.model.predict(table))
    assert np.array_equal(
        loaded.contributions(table.head(20)), fit.model.contributions(table.head(20))
    )
    heads, again = fit.model.predict_heads(table), loaded.predict_heads(table)
    assert set(heads) == {"fake", "fraud"}
    assert all(np.array_equal(heads[r], again[r]) for r in heads)


def test_predictions_are_probabilities_and_contributions_add_up(fitted):
    _, fit = fitted
    rows = fit.table.head(50)
    p = fit.model.predict(rows)
    assert p.shape == (50,) and ((p >= 0) & (p <= 1)).all()
    contrib = fit.model.contributions(rows)
    assert contrib.shape == (50, len(fit.model.feature_names) + 1)
    assert np.allclose(contrib.sum(axis=1), fit.model.raw_score(rows))


def test_row_order_and_column_order_do_not_matter(fitted):
    _, fit = fitted
    rows = fit.table.head(40)
    shuffled = rows.reverse().select(list(reversed(rows.columns)))
    assert np.array_equal(fit.model.predict(shuffled)[::-1], fit.model.predict(rows))


def test_category_codes_are_stable_and_unknown_is_missing():
    a = pl.DataFrame({"category": ["media", "brand", None, "media"]})
    b = pl.DataFrame({"category": ["brand", "media"]})
    assert (
        fit_codes(a, ["category"]) == fit_codes(b, ["category"]) == {"category": ["brand", "media"]}
    )
    codes = fit_codes(a, ["category"])
    new = pl.DataFrame({"category": ["media", "newsroom", None, "brand"]})
    x = encode(new, ["category"], codes)
    assert x[:, 0].tolist()[0] == 1.0 and x[3, 0] == 0.0
    assert np.isnan(x[1, 0]) and np.isnan(x[2, 0])


def test_categorical_and_enum_columns_are_encoded_not_handed_to_lightgbm(fitted):
    """A polars Categorical/Enum column would abort LightGBM: it must arrive as codes."""
    _, fit = fitted
    rows = fit.table.head(30)
    cat = rows.with_columns(pl.col("category").cast(pl.Categorical))
    enum = rows.with_columns(pl.col("category").cast(pl.Enum(["media", "creator", "brand"])))
    expected = fit.model.predict(rows)
    assert np.array_equal(fit.model.predict(cat), expected)
    assert np.array_equal(fit.model.predict(enum), expected)


def test_missing_or_text_columns_are_user_errors(fitted):
    _, fit = fitted
    with pytest.raises(UserError, match="lacks column"):
        fit.model.predict(fit.table.drop("noise"))
    with pytest.raises(UserError, match="holds text"):
        fit.model.predict(fit.table.with_columns(pl.col("noise").cast(pl.String)))


def test_load_of_a_non_model_folder(tmp_path):
    with pytest.raises(UserError, match="not a ringwatch model folder"):
        RingwatchModel.load(tmp_path)
