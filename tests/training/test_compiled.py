"""Compiled scoring (treelite + tl2cgen): the same raw scores as Booster.predict, bit for bit;
compiled once and reused; a damaged library is compiled again; no compiler -> LightGBM."""

import numpy as np
import pytest

from training.compiled import compile_model
from training.config import HeadsConfig, TrainConfig
from training.fit import fit_model

from .synthetic import make_world, share_fn

CONFIG = TrainConfig(heads=HeadsConfig(min_positives=10))


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    w = make_world(n=900, seed=1)
    fit = fit_model(w.features, w.labels, w.groups, CONFIG, w.graph, share_fn)
    root = tmp_path_factory.mktemp("compiled")
    said: list[str] = []
    boosters = compile_model(fit.model, root, said.append)
    assert boosters is not None, said
    assert said == ["compiling the model to native code (once per model version)"]
    return fit, root, boosters


def awkward_rows(x: np.ndarray, codes: list[int], seed: int = 0) -> np.ndarray:
    """The table's rows plus copies with missing values and zeros, and with tiny, huge and
        nudged numbers outside the category columns `codes` (which only ever hold a category's
        integer code or NaN: LightGBM and treelite read other values there differently), and with
    values whose low 32 bits are all ones (what tl2cgen's native code would read as missing)."""
    rng = np.random.default_rng(seed)
    more = x[rng.integers(0, x.shape[0], size=(5, x.shape[0]))].copy()
    more[0][rng.random(more[0].shape) < 0.3] = np.nan
    more[1][rng.random(more[1].shape) < 0.3] = 0.0
    numeric = [c for c in range(x.shape[1]) if c not in codes]
    scale = rng.choice([1e-300, 1e-36, -1e-36, 1e300], size=(x.shape[0], len(numeric)))
    more[2][:, numeric] *= scale
    more[3][:, numeric] += rng.normal(scale=1e-9, size=scale.shape)  # next to thresholds
    bits = more[4][:, numeric].view(np.uint64) | np.uint64(0xFFFFFFFF)  # tl2cgen's "missing"
    more[4][:, numeric] = np.where(
        rng.random(scale.shape) < 0.2, bits.view(np.float64), more[4][:, numeric]
    )
    return np.vstack([x, *more])


def test_compiled_raw_scores_equal_booster_predict_exactly(compiled):
    fit, _, boosters = compiled
    model = fit.model
    codes = [model.feature_names.index(name) for name in model.codes]
    assert codes  # the synthetic world has a category column
    x = awkward_rows(model.matrix(fit.table), codes)
    raw, heads = boosters.raw_scores(x)
    assert np.array_equal(raw, model.booster.predict(x, raw_score=True))
    assert set(heads) == set(model.heads) == {"fake", "fraud"}
    for reason, head in model.heads.items():
        assert np.array_equal(heads[reason], head.booster.predict(x, raw_score=True))


def test_scores_are_the_same_with_and_without_the_compiled_model(compiled):
    fit, _, boosters = compiled
    model = fit.model
    plain = model.scores(fit.table)
    model.compiled = boosters
    try:
        fast = model.scores(fit.table)
    finally:
        model.compiled = None
    assert np.array_equal(plain[0], fast[0]) and np.array_equal(plain[1], fast[1])
    assert all(np.array_equal(plain[2][r], fast[2][r]) for r in plain[2])


def test_compiled_model_is_reused(compiled):
    fit, root, boosters = compiled
    said: list[str] = []
    again = compile_model(fit.model, root, said.append)
    assert said == [] and again is not None and again.folder == boosters.folder


def test_damaged_library_is_compiled_again(compiled, tmp_path):
    import shutil

    fit, root, boosters = compiled
    copy = tmp_path / "compiled"
    shutil.copytree(root, copy)
    library = copy / boosters.folder.name / "main.so"
    raw = bytearray(library.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    library.write_bytes(bytes(raw))
    said: list[str] = []
    again = compile_model(fit.model, copy, said.append)
    assert said[0].startswith("warning: compiled model") and "compiling again" in said[0]
    x = fit.model.matrix(fit.table)
    assert np.array_equal(again.raw_scores(x)[0], fit.model.booster.predict(x, raw_score=True))


def test_without_a_compiler_lightgbm_scores(compiled, tmp_path):
    fit, _, _ = compiled
    said: list[str] = []
    assert compile_model(fit.model, tmp_path, said.append, toolchain="no-such-cc") is None
    assert said[-1].startswith("could not compile the model") and "LightGBM" in said[-1]
    assert not list(tmp_path.iterdir())  # nothing half-written left behind
