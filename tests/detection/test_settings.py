"""One Settings object: strict TOML (unknown key = exit 2 naming it), saved with the model,
checked at scoring."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from common.errors import UserError
from common.settings import plain
from detection.cli import app
from detection.settings import Settings, load_settings, with_feature_settings
from features.config import FeatureConfig, feature_config_of


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return path


def test_sections_and_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[features.graph]\nhub_max_accounts = 20\n[train.model]\nlearning_rate = 0.1\n"
        "[score]\ncapacity = 100\n",
    )
    settings = load_settings(path)
    assert settings.features.graph.hub_max_accounts == 20
    assert settings.train.model.learning_rate == 0.1
    assert settings.score.capacity == 100
    assert settings.features.behaviour == Settings().features.behaviour
    assert settings.source == str(path) and load_settings(None) == Settings()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[features.graph]\nhub_maxx = 2\n", "features.graph.hub_maxx"),
        ("[scoring]\ncapacity = 2\n", "'scoring'"),
        ("[score]\ncapacity = 'many'\n", "score.capacity"),
        ("[train.split]\nkind = 'sideways'\n", "split.kind"),
    ],
)
def test_a_bad_key_is_one_line_naming_it_and_exit_2(tmp_path: Path, text: str, named: str):
    path = write(tmp_path, text)
    result = CliRunner().invoke(
        app,
        ["features", str(tmp_path), "--out", str(tmp_path / "f.parquet"), "--settings", str(path)],
    )
    assert result.exit_code == 2, result.output
    assert named in result.output and "Traceback" not in result.output


def test_scoring_uses_the_models_feature_settings_unless_a_file_disagrees(tmp_path: Path):
    graph = replace(FeatureConfig().graph, hub_max_accounts=20)
    trained = replace(FeatureConfig(), graph=graph)
    info = {"features": plain(trained)}
    assert with_feature_settings(Settings(), info).features == trained  # no file: the model's
    assert with_feature_settings(Settings(), {}).features == FeatureConfig()  # older model
    same = load_settings(write(tmp_path, "[features.graph]\nhub_max_accounts = 20\n"))
    assert with_feature_settings(same, info).features == trained
    other = load_settings(write(tmp_path, "[features.graph]\nhub_max_accounts = 30\n"))
    with pytest.raises(UserError, match=r"features\.graph\.hub_max_accounts"):
        with_feature_settings(other, info)
    assert feature_config_of(info["features"]) == trained


def test_the_readme_settings_example_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### settings")[1]
    example = section.split("```toml\n")[1].split("```")[0]
    assert load_settings(write(tmp_path, example)) == Settings()


def test_the_input_section_sets_the_time_window_and_env_vars_override(tmp_path, monkeypatch):
    from datetime import UTC, datetime

    from features.io.sanity import AHEAD_ENV, EARLIEST_ENV

    monkeypatch.delenv(EARLIEST_ENV, raising=False)
    monkeypatch.delenv(AHEAD_ENV, raising=False)
    text = '[input]\nearliest = "2015-06-01"\nmax_ahead_hours = 2\nstale_after_days = 3\n'
    settings = load_settings(write(tmp_path, text))
    window = settings.input.window()
    assert window.earliest == datetime(2015, 6, 1, tzinfo=UTC)
    assert window.ahead.total_seconds() == 2 * 3600
    assert settings.input.stale(datetime.now(UTC)) is None
    assert "stopped updating" in settings.input.stale(datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(UserError, match=r"input\.earliest"):
        load_settings(write(tmp_path, '[input]\nearliest = "last tuesday"\n'))
    monkeypatch.setenv(EARLIEST_ENV, "2001-01-01")
    assert settings.input.window().earliest == datetime(2001, 1, 1, tzinfo=UTC)


def test_the_input_sections_window_reaches_loading(tmp_path, monkeypatch):
    """A world from 2024 fails the load when [input] says the platform started in 2025."""
    from detection.commands import Request, validate
    from experiments.simulate import WorldConfig, simulate_to

    data = tmp_path / "world"
    simulate_to(WorldConfig(accounts=300, weeks=1, seed=1).check(), data)
    settings = load_settings(write(tmp_path, '[input]\nearliest = "2025-01-01"\n'))
    with pytest.raises(UserError, match="plausible window 2025-01-01"):
        validate(Request(data=data, settings=settings))
