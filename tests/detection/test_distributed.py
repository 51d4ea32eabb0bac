"""Same answers on a Dask LocalCluster of 2 workers as in one process: the feature table
(floats within 1e-9 relative), the rings and the ranked list; a worker killed mid-run is
rerun by Dask, and a run that fails leaves the previous list intact."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np
import polars as pl
import pytest
from distributed import WorkerPlugin
from polars.testing import assert_frame_equal

from detection.config import ScoreConfig
from detection.pipeline import score_base
from experiments.simulate import WorldConfig, simulate_to
from features.cluster import open_engine
from features.io.load import load_dataset
from features.pipeline import FeatureTable, build_feature_table
from tests.detection.world import AS_OF
from training.calibrate import fit_calibrator
from training.model import RingwatchModel

WORLD = WorldConfig(accounts=2_500, weeks=2, seed=11, chunk_accounts=1_000)  # 3 event parts
SCORING = ScoreConfig(capacity=60, max_ring_sections=3)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("distributed") / "data"
    simulate_to(WORLD, folder)
    return folder


@pytest.fixture(scope="module")
def tables(data: Path, cluster_engine) -> tuple[FeatureTable, FeatureTable]:
    """The feature table built in this process and on the cluster."""
    ds = load_dataset(data)
    return build_feature_table(ds), build_feature_table(ds, engine=cluster_engine)


@pytest.fixture(scope="module")
def sim_model(data: Path, tables) -> RingwatchModel:
    """A real calibrated LightGBM model on the single-process table's numeric columns."""
    frame = tables[0].frame
    names = [n for n, t in frame.schema.items() if t.is_numeric()]
    truth = pl.read_parquet(data / "truth.parquet").sort("account_id")
    x = frame.select(names).to_numpy().astype(np.float64)
    y = truth["is_bad"].to_numpy().astype(np.int8)
    params = {
        "objective": "binary",
        "verbose": -1,
        "num_leaves": 7,
        "seed": 0,
        "deterministic": True,
        "num_threads": 1,
    }
    booster = lgb.train(params, lgb.Dataset(x, y, feature_name=names), num_boost_round=30)
    calibrator = fit_calibrator(booster.predict(x, raw_score=True), y)
    return RingwatchModel(booster, calibrator, names, name="ringwatch", version="1")


def score(table: FeatureTable, model, out: Path, data: Path, engine=None, overwrite=False):
    ds = load_dataset(data)
    extra = {} if engine is None else {"engine": engine}
    return score_base(
        table.frame,
        model,
        ds.as_of,
        out,
        SCORING,
        membership=table.rings.membership,
        rings=table.rings.rings,
        events=ds.events,
        edges=ds.edges,
        overwrite=overwrite,
        **extra,
    )


def assert_same_list(got_folder: Path, want_folder: Path) -> None:
    """Scores, candidates and rings equal; the feature values shown beside each candidate
    as equal as the tables they come from (1e-9 relative)."""
    for name in ("scores.parquet", "candidates.parquet", "rings.parquet"):
        got, want = pl.read_parquet(got_folder / name), pl.read_parquet(want_folder / name)
        if name == "candidates.parquet":
            values = [pl.col("feature_values").struct.unnest()]
            assert_frame_equal(got.select(values), want.select(values), rel_tol=1e-9, abs_tol=0)
            got, want = got.drop("feature_values"), want.drop("feature_values")
        assert got.equals(want), name


def test_feature_table_is_the_same_on_the_cluster(tables) -> None:
    single, cluster = tables
    assert cluster.frame.columns == single.frame.columns
    assert_frame_equal(cluster.frame, single.frame, rel_tol=1e-9, abs_tol=0.0)


def test_rings_are_identical_on_the_cluster(tables) -> None:
    single, cluster = tables
    assert single.rings.rings.height > 0
    for name in ("rings", "membership", "components", "candidates"):
        assert getattr(cluster.rings, name).equals(getattr(single.rings, name)), name


def test_ranked_list_is_identical_on_the_cluster(tables, sim_model, data, tmp_path, cluster_engine):
    single, cluster = tables
    one = score(single, sim_model, tmp_path / "one", data).folder
    many = score(cluster, sim_model, tmp_path / "many", data, cluster_engine).folder
    assert_same_list(many, one)


class KillScoringWorker(WorkerPlugin):
    """Kills (SIGKILL) the worker process that starts a scoring task, `times` times in all:
    a worker dies only when it is the one to create the next kill's marker file (O_EXCL), so
    two workers starting tasks at once never both die for one allowed kill."""

    def __init__(self, folder: str, times: int) -> None:
        self.folder, self.times = folder, times

    def transition(self, key, start, finish, **kwargs) -> None:
        if finish != "executing" or "score_bucket" not in str(key):
            return
        for kill in range(self.times):
            try:
                os.close(os.open(Path(self.folder) / f"kill-{kill}", os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                continue
            os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture(scope="module")
def fragile_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A LocalCluster of its own: its workers get killed."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with open_engine("local:2", tmp_path_factory.mktemp("fragile"), "2GiB") as engine:
        yield engine


def allow_failures(client, deaths: int) -> None:
    """How many workers may die running a task before it fails (the scheduler's setting)."""

    def setting(dask_scheduler, deaths=deaths) -> None:
        dask_scheduler.allowed_failures = deaths

    client.run_on_scheduler(setting)


def score_world(world, model, out: Path, engine=None, overwrite=False):
    """The small detection-test world's list (few columns: quick to score and write)."""
    extra = {} if engine is None else {"engine": engine}
    return score_base(
        world.features,
        model,
        AS_OF,
        out,
        SCORING,
        membership=world.membership,
        rings=world.rings,
        overwrite=overwrite,
        **extra,
    ).folder


def test_killed_worker_is_rerun_and_a_failed_run_keeps_the_list(
    world, model, tmp_path, fragile_cluster
) -> None:
    from distributed.scheduler import KilledWorker

    client = fragile_cluster.client
    want = score_world(world, model, tmp_path / "one")
    (tmp_path / "once").mkdir()
    allow_failures(client, 5)  # one kill; slack for a restart that a busy machine makes slow
    client.register_plugin(KillScoringWorker(str(tmp_path / "once"), 1), name="kill")
    got = score_world(world, model, tmp_path / "lists", fragile_cluster)
    assert (tmp_path / "once" / "kill-0").exists()  # a worker really died mid-run
    assert_same_list(got, want)  # its tasks were rerun elsewhere: the same list

    files = {p.name: p.read_bytes() for p in got.iterdir()}
    (tmp_path / "always").mkdir()
    allow_failures(client, 0)
    client.register_plugin(KillScoringWorker(str(tmp_path / "always"), 99), name="kill")
    with pytest.raises(KilledWorker):  # every try dies: the run fails...
        score_world(world, model, tmp_path / "lists", fragile_cluster, overwrite=True)
    assert {p.name: p.read_bytes() for p in got.iterdir()} == files  # ...and the list stays
    assert sorted(p.name for p in (tmp_path / "lists").iterdir()) == [got.name]


def test_rings_command_on_the_cluster_writes_the_same_rings(data, tmp_path, cluster_engine):
    """`ringwatch rings --cluster tcp://...` (the session cluster's scheduler) against one
    process: identifier uses gathered and counted by tasks, the same ring table."""
    from typer.testing import CliRunner

    from detection.cli import app

    base = ["rings", str(data), "--workspace", str(tmp_path / "workspace")]
    one = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "one.parquet")])
    address = cluster_engine.client.scheduler.address
    many = CliRunner().invoke(
        app, [*base, "--out", str(tmp_path / "many.parquet"), "--cluster", address]
    )
    assert one.exit_code == 0, one.output
    assert many.exit_code == 0, many.output
    assert "Dask cluster: 2 workers, dashboard http" in many.output
    want = pl.read_parquet(tmp_path / "one.parquet")
    assert want.height > 0
    assert pl.read_parquet(tmp_path / "many.parquet").equals(want)


def test_links_by_map_reduce_are_the_one_process_graphs(data, cluster_engine):
    """Shared identifiers (key shards) and lockstep (target shards) through the cluster's
    tasks: every graph, key and incidence row exactly as one process builds them."""
    from features.config import FeatureConfig
    from features.graph import build_graphs
    from features.pipeline import links_from

    ds, config = load_dataset(data), FeatureConfig()
    one = build_graphs(ds, config.graph)
    many = build_graphs(ds, config.graph, **links_from(cluster_engine, config, ds))
    assert one.lockstep.m > 0 and all(one.shared[k].m > 0 for k in one.shared)
    graphs = {"lockstep": (one.lockstep, many.lockstep)}
    graphs |= {k: (one.shared[k], many.shared[k]) for k in one.shared}
    graphs |= {f"exclusive {k}": (one.exclusive[k], many.exclusive[k]) for k in one.exclusive}
    for name, (want, got) in graphs.items():
        for a, b in zip(
            (want.indptr, want.indices, want.weights),
            (got.indptr, got.indices, got.weights),
            strict=True,
        ):
            assert np.array_equal(a, b), name
    assert many.keys.equals(one.keys) and many.incidence.equals(one.incidence)
    for kind in one.hubs:
        assert np.array_equal(many.hubs[kind], one.hubs[kind]), kind
