"""TrainConfig from TOML: defaults, overrides, and one clear error per mistake."""

from pathlib import Path

import pytest

from common.errors import UserError
from training.config import TrainConfig, config_params, load_train_config, with_overrides

DEFAULT = Path(__file__).parents[2] / "experiments" / "specs" / "default.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.toml"
    path.write_text(text)
    return path


def test_default_file_spells_out_the_defaults():
    assert load_train_config(DEFAULT) == TrainConfig()


def test_keys_left_out_keep_defaults(tmp_path):
    config = load_train_config(
        write(tmp_path, 'calibration = "platt"\n[model]\nnum_leaves = 7\n[eval]\nk = [10, 20]\n')
    )
    assert config.calibration == "platt"
    assert config.model.num_leaves == 7
    assert config.model.learning_rate == TrainConfig().model.learning_rate
    assert config.eval.k == (10, 20)


def test_int_accepted_for_float(tmp_path):
    assert load_train_config(write(tmp_path, "[model]\nlambda_l2 = 2\n")).model.lambda_l2 == 2


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("learning_rate = 0.1\n", "unknown key 'learning_rate'"),
        ("[model]\nnum_leafs = 3\n", "unknown key 'model.num_leafs'"),
        ("[nonsense]\nx = 1\n", "unknown key 'nonsense'"),
        ('[model]\nnum_leaves = "many"\n', "key 'model.num_leaves' must be an integer"),
        ("[model]\nnum_leaves = 3.5\n", "key 'model.num_leaves' must be an integer"),
        ("[heads]\nenabled = 1\n", "key 'heads.enabled' must be true or false"),
        ('[eval]\nk = [10, "x"]\n', "key 'eval.k' must be a list of an integer"),
        ("split = 3\n", "key 'split' must be a table"),
        ('[split]\nkind = "shuffle"\n', "key 'split.kind' must be one of strict"),
        ('calibration = "beta"\n', "key 'calibration' must be one of smooth_isotonic"),
        ("[split]\ntest_share = 0.9\n", "split.test_share"),
        ("[split]\ntest_share = 0\n", "split.test_share"),
        ('[model]\nearly_stopping_metric = "f1"\n', "key 'model.early_stopping_metric' must be"),
        ("min_labels = [\n", "not valid TOML"),
    ],
)
def test_errors_name_file_and_key(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(UserError) as caught:
        load_train_config(path)
    message = str(caught.value)
    assert needle in message
    assert str(path) in message
    assert "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_train_config(tmp_path / "nope.toml")


def test_overrides_and_params():
    config = with_overrides(TrainConfig(), split="random", search=True, compare_random=True)
    assert (config.split.kind, config.search.enabled, config.eval.compare_random) == (
        "random",
        True,
        True,
    )
    with pytest.raises(UserError, match="--split"):
        with_overrides(TrainConfig(), split="leaky")
    params = config_params(config)
    assert params["split.kind"] == "random"
    assert params["eval.k"] == "[50, 100, 500, 1000]"
