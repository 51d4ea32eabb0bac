"""Model registry: register as @challenger, promote to @champion (refusing worse), load back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from common.errors import UserError
from detection.cli import app
from training import registry
from training.registry import CHALLENGER, CHAMPION, MODEL_NAME
from training.tracking import current_client, get_or_create_experiment


def test_register_makes_a_challenger(mlflow_workspace: Path, logged_model_run) -> None:
    first = logged_model_run()
    assert first.version == 1
    assert registry.aliases() == {CHALLENGER: 1}
    second = logged_model_run(seed=1)
    assert second.version == 2
    assert registry.aliases() == {CHALLENGER: 2}
    assert registry.get_version(2).run_id == second.run_id
    assert registry.get_version(2).tags["registered_at"]


def test_register_a_logged_model_uri(mlflow_workspace: Path, logged_model_run) -> None:
    """A `models:/m-…` LoggedModel (what mlflow.<flavor>.log_model returns) links the version."""
    client = current_client()
    run = logged_model_run(register=False)
    experiment_id = get_or_create_experiment("tests", client)
    logged = client.create_logged_model(experiment_id, name="booster", source_run_id=run.run_id)
    version = registry.register(run.run_id, f"models:/{logged.model_id}", client)
    found = registry.get_version(version)
    assert found.run_id == run.run_id
    assert found.source == logged.artifact_location
    model = registry.load_model(f"models:/{MODEL_NAME}/{version}", mlflow_workspace)
    assert model.version == str(version)


def test_failed_alias_leaves_no_half_registered_version(
    mlflow_workspace: Path, logged_model_run
) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    class AliasFails(MlflowClient):
        """A real client on the real store whose alias call fails (e.g. the server went away)."""

        def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
            raise MlflowException("connection reset")

    run = logged_model_run(register=False)
    client = AliasFails(tracking_uri=current_client().tracking_uri)
    with pytest.raises(MlflowException, match="connection reset"):
        registry.register(run.run_id, client=client)
    assert registry.versions() == []
    assert registry.aliases() == {}


def test_load_model_round_trip(mlflow_workspace: Path, logged_model_run) -> None:
    run = logged_model_run()
    for uri in (f"models:/{MODEL_NAME}@{CHALLENGER}", f"models:/{MODEL_NAME}/1"):
        model = registry.load_model(uri, mlflow_workspace)
        assert (model.name, model.version) == (MODEL_NAME, "1")
        assert model.info["run_id"] == run.run_id
        assert model.feature_names == run.model.feature_names
        np.testing.assert_array_equal(model.predict(run.heldout), run.model.predict(run.heldout))


def test_load_model_from_a_local_folder(mlflow_workspace: Path, logged_model_run) -> None:
    run = logged_model_run(register=False)
    folder = run.model.save(mlflow_workspace / "exported")
    model = registry.load_model(str(folder), mlflow_workspace)
    assert model.version == "local"
    np.testing.assert_array_equal(model.predict(run.heldout), run.model.predict(run.heldout))


def test_load_model_says_what_is_missing(mlflow_workspace: Path, logged_model_run) -> None:
    with pytest.raises(UserError, match=r"no model has alias @champion: train one and run"):
        registry.load_model(f"models:/{MODEL_NAME}@{CHAMPION}", mlflow_workspace)
    logged_model_run()
    with pytest.raises(UserError, match=r"no version 7 \(versions: 1\)"):
        registry.load_model(f"models:/{MODEL_NAME}/7", mlflow_workspace)
    with pytest.raises(UserError, match="expected models:/ringwatch@champion"):
        registry.load_model("models:/other@champion", mlflow_workspace)
    with pytest.raises(UserError, match="expected models:/ringwatch@champion"):
        registry.load_model("no-such-folder", mlflow_workspace)


def test_load_model_without_a_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(UserError, match="nothing has been trained"):
        registry.load_model("models:/ringwatch@champion", tmp_path / "nowhere")


def test_first_promotion_needs_no_champion(mlflow_workspace: Path, logged_model_run) -> None:
    run = logged_model_run()
    comparison = registry.promote(1)
    assert comparison.promoted and not comparison.forced and comparison.champion is None
    assert comparison.heldout_run == run.run_id
    assert comparison.n == run.heldout.height and comparison.k == comparison.n_bad
    assert comparison.challenger_metrics["average_precision"] > 0.5
    assert registry.aliases() == {CHAMPION: 1}  # no longer a challenger
    tags = registry.get_version(1).tags
    assert tags["previous_champion"] == "none" and tags["promoted_with_force"] == "false"
    assert tags["promoted_at"]


def test_promotion_refuses_a_worse_model_unless_forced(
    mlflow_workspace: Path, logged_model_run
) -> None:
    logged_model_run()
    registry.promote(1)
    logged_model_run(features=("noise",))  # version 2: chance level
    with pytest.raises(registry.PromotionRefused, match="worse than champion version 1") as no:
        registry.promote(2)
    refused = no.value.comparison
    assert not refused.better and not refused.promoted
    assert (
        refused.champion_metrics["average_precision"]
        > refused.challenger_metrics["average_precision"]
    )
    assert registry.aliases() == {CHAMPION: 1, CHALLENGER: 2}

    forced = registry.promote(2, force=True)
    assert forced.promoted and forced.forced
    assert registry.aliases() == {CHAMPION: 2}
    tags = registry.get_version(2).tags
    assert tags["previous_champion"] == "1" and tags["promoted_with_force"] == "true"
    assert registry.get_version(1).tags["superseded_by"] == "2"


def test_promotion_of_a_better_model(mlflow_workspace: Path, logged_model_run) -> None:
    logged_model_run(features=("noise",))
    registry.promote(1)
    logged_model_run()
    comparison = registry.promote(2)
    assert comparison.promoted and comparison.better and comparison.champion == 1
    assert set(comparison.champion_metrics) == set(registry.COMPARED)
    with pytest.raises(UserError, match="already @champion"):
        registry.promote(2)
    with pytest.raises(UserError, match=r"no version 9 \(versions: 1, 2\)"):
        registry.promote(9)


def test_champion_needing_missing_columns_is_a_user_error(
    mlflow_workspace: Path, logged_model_run
) -> None:
    run = logged_model_run()
    model = registry.load_model(f"models:/{MODEL_NAME}/1", mlflow_workspace)
    with pytest.raises(UserError, match=r"needs feature column.*: noise"):
        registry.score(model, run.heldout.drop("noise"), k=10)


def test_incomparable_champion_needs_force(mlflow_workspace: Path, logged_model_run) -> None:
    """The champion uses a column the challenger's held-out data lacks (a renamed feature)."""
    logged_model_run()
    registry.promote(1)
    logged_model_run(features=("signal",), heldout_drop=("noise",))
    with pytest.raises(UserError, match=r"cannot compare with champion version 1 .*: noise"):
        registry.promote(2)
    assert registry.aliases()[CHAMPION] == 1
    forced = registry.promote(2, force=True)
    assert forced.promoted and forced.forced and forced.champion == 1
    assert forced.champion_metrics is None
    assert "cannot compare with champion version 1" in forced.note
    assert registry.get_version(2).tags["promoted_with_force"] == "true"


def invoke(*args: str):
    """Run the `ringwatch` CLI in-process."""
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def test_cli_promote(mlflow_workspace: Path, logged_model_run) -> None:
    logged_model_run()
    result = invoke("promote", "1", "--workspace", mlflow_workspace)
    assert result.exit_code == 0, result.output
    assert "challenger v1" in result.output and "is now @champion" in result.output

    logged_model_run(features=("noise",))
    result = invoke("promote", "2", "--workspace", mlflow_workspace)
    assert result.exit_code == 2
    assert "champion v1" in result.stdout  # the comparison is shown before the refusal
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: version 2 is worse")

    result = invoke("promote", "2", "--force", "--json", "--workspace", mlflow_workspace)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["promoted"] and shown["forced"] and shown["champion"] == 1
    assert registry.aliases() == {CHAMPION: 2}


def test_a_moved_workspace_loads_its_models_and_keeps_artifacts_inside(
    mlflow_workspace: Path, logged_model_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from training.tracking import connect

    run = logged_model_run()
    moved = tmp_path / "moved"
    shutil.move(str(mlflow_workspace), moved)  # the original folder is gone
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    model = registry.load_model(f"models:/{MODEL_NAME}@{CHALLENGER}", moved)
    np.testing.assert_array_equal(model.predict(run.heldout), run.model.predict(run.heldout))
    client = connect(moved)
    inside = (moved / "mlartifacts").as_uri()
    assert client.get_run(run.run_id).info.artifact_uri.startswith(inside)
    assert client.get_experiment_by_name("tests").artifact_location.startswith(inside)
