"""The quality benchmark's protocols, baselines and harness, on small data made here."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from common.errors import UserError
from experiments import baselines, protocols
from experiments.bench_quality import measure, run_quality, split_names
from experiments.protocols import Scheme
from features.io.contract import ACCOUNTS, EDGES, EVENTS, LABELS, Dataset

T0 = datetime(2021, 1, 1, tzinfo=UTC)


def dataset(
    accounts: pl.DataFrame, edges: pl.DataFrame | None = None, labels: pl.DataFrame | None = None
) -> Dataset:
    """A Dataset with the contract's full schemas (missing columns null)."""

    def full(frame: pl.DataFrame | None, table: object) -> pl.DataFrame:
        if frame is None:
            return pl.DataFrame(schema=table.schema)
        missing = [
            pl.lit(None, dtype=d).alias(c)
            for c, d in table.schema.items()
            if c not in frame.columns
        ]
        return frame.with_columns(missing).with_columns(
            [pl.col(c).cast(d) for c, d in table.schema.items()]
        )

    acc = full(accounts, ACCOUNTS)
    extra = tuple(c for c in accounts.columns if c not in ACCOUNTS.schema)
    return Dataset(
        source=Path("."),
        as_of=T0,
        accounts=acc.sort("account_id"),
        events=pl.DataFrame(schema=EVENTS.schema),
        edges=full(edges, EDGES),
        labels=full(labels, LABELS),
        attributes=extra,
    )


def ids(n: int) -> list[str]:
    return [f"a{i:03d}" for i in range(n)]


def test_published_holdout_is_stratified_and_changes_with_the_seed() -> None:
    labels = pl.DataFrame({"account_id": ids(100), "label": [1] * 10 + [0] * 90})
    a = protocols.published_splits(labels, Scheme(train_share=0.7), 0)[0]
    b = protocols.published_splits(labels, Scheme(train_share=0.7), 1)[0]
    assert (len(a.train), len(a.test)) == (70, 30)
    assert sum(i < "a010" for i in a.test) == 3  # 10 % of the test part is bad
    assert set(a.test) != set(b.test)


def test_published_cv_tests_every_account_once() -> None:
    labels = pl.DataFrame({"account_id": ids(50), "label": [1, 0] * 25})
    splits = protocols.published_splits(labels, Scheme(folds=5), 3)
    tested = np.concatenate([s.test for s in splits])
    assert len(splits) == 5 and sorted(tested) == ids(50)


def test_group_folds_keep_groups_whole_balanced_and_seeded() -> None:
    group = np.repeat(np.arange(40), 5)
    y = (np.arange(200) % 7 == 0).astype(np.float64)
    a, b = protocols.group_folds(group, y, 5, 0), protocols.group_folds(group, y, 5, 1)
    for fold in (a, b):
        for g in range(40):
            assert len(set(fold[group == g])) == 1
        assert np.bincount(fold).min() >= 30
    assert (a != b).any()


def test_graph_groups_cut_a_giant_component_but_not_small_ones() -> None:
    # two 10-cliques joined by one edge (one component of 20) + a separate pair
    clique = [(i, j) for i in range(10) for j in range(i + 1, 10)]
    edges = clique + [(i + 10, j + 10) for i, j in clique] + [(0, 10), (20, 21)]
    src, dst = np.array(edges).T
    group = protocols.graph_groups(22, src, dst, max_group_share=0.5)
    assert len(set(group[:10])) == 1 and len(set(group[10:20])) == 1
    assert group[0] != group[10]
    assert group[20] == group[21] and group[20] not in (group[0], group[10])


def test_time_split_trains_on_what_existed_at_the_cut() -> None:
    created = [T0 + timedelta(days=i) for i in range(20)]
    ds = dataset(
        pl.DataFrame({"account_id": ids(20), "created_at": created}),
        labels=pl.DataFrame({"account_id": ids(20), "label": [0, 1] * 10}),
    )
    labels = protocols.labelled(ds)
    first, last = (protocols.time_split(ds, labels, s, 5)[0] for s in (0, 4))
    assert first.train_as_of == T0 + timedelta(days=10) and first.protocol == "strict"
    assert sorted(first.train) == ids(11) and sorted(first.test) == ids(20)[11:]
    assert len(last.train) > len(first.train)
    assert protocols.choose_strict(ds).kind == "time-aware"


def test_strict_protocol_follows_what_the_data_holds() -> None:
    accounts = pl.DataFrame({"account_id": ids(4), "x": [1.0, 1.0, 2.0, 3.0]})
    duplicates = protocols.choose_strict(dataset(accounts))
    assert duplicates.kind == "duplicate-aware"
    group = dict(duplicates.groups.iter_rows())
    assert group["a000"] == group["a001"] != group["a002"]
    edges = pl.DataFrame({"src": ["a000"], "dst": ["a002"], "relation": ["r"]})
    clusters = protocols.choose_strict(dataset(accounts, edges))
    assert clusters.kind == "cluster-aware"
    group = dict(clusters.groups.iter_rows())
    assert group["a000"] == group["a002"] != group["a003"]


def test_neighbourhood_train_share_counts_walks_to_training_labels() -> None:
    # path a0 - a1 - a2 ; a1 test, a0 train, a2 test
    accounts = pl.DataFrame({"account_id": ids(3)})
    edges = pl.DataFrame({"src": ["a000", "a001"], "dst": ["a001", "a002"], "relation": ["r", "r"]})
    split = protocols.Split(np.array(["a000"]), np.array(["a001", "a002"]))
    # walks from a1: 1-hop a0 (train), a2 (test); 2-hop a1->a0->a1, a1->a2->a1 (test twice)
    # walks from a2: 1-hop a1 (test); 2-hop a2->a1->a0 (train), a2->a1->a2 (test)
    share = protocols.neighbourhood_train_share(dataset(accounts, edges), split)
    assert share == pytest.approx(2 / 7)


def test_edge_statistics_replace_missing_attributes() -> None:
    accounts = pl.DataFrame({"account_id": ids(3)})
    edges = pl.DataFrame(
        {"src": ["a000", "a000", "a001"], "dst": ["a001", "a002", "a002"],
         "relation": ["rates"] * 3, "weight": [10.0, -4.0, -2.0]}
    )  # fmt: skip
    raw = baselines.raw_features(dataset(accounts, edges))
    row = raw.filter(pl.col("account_id") == "a002").row(0, named=True)
    assert row["rates_in_n"] == 2 and row["rates_out_n"] == 0
    assert row["rates_in_mean_weight"] == -3.0 and row["rates_in_negative_share"] == 1.0
    assert row["rates_out_mean_weight"] is None


def test_graph_tree_features_are_raw_plus_neighbour_means() -> None:
    accounts = pl.DataFrame({"account_id": ids(4), "x": [1.0, 2.0, 4.0, 8.0]})
    edges = pl.DataFrame({"src": ["a000", "a000"], "dst": ["a001", "a002"], "relation": ["r", "r"]})
    table = baselines.graph_tree_features(dataset(accounts, edges))
    assert table.columns == ["account_id", "x", "x__hop1_mean", "x__hop2_mean"]
    assert table["x__hop1_mean"].to_list() == [3.0, 1.0, 1.0, 0.0]  # a3 is isolated: 0
    assert table["x__hop2_mean"].to_list() == [1.0, 3.0, 3.0, 0.0]


def test_boosting_ranks_separable_accounts() -> None:
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(30), np.zeros(120)]
    x = np.c_[y + rng.normal(0, 0.3, 150), rng.normal(size=150)]
    scores = baselines.fit_predict(x[::2], y[::2], x[1::2], seed=1)
    assert measure(y[1::2].astype(int), scores)["auroc"] > 0.95


def test_measure_uses_k_equal_to_the_bad_accounts() -> None:
    y = np.array([1, 0, 1, 0, 0])
    metrics = measure(y, np.array([0.9, 0.8, 0.1, 0.2, 0.3]))
    assert metrics["rec_at_k"] == 0.5 and metrics["auroc"] == pytest.approx(0.5)


def test_split_names_accepts_repeats_and_commas() -> None:
    assert split_names(["amazon,reddit", "instafake"]) == ["amazon", "reddit", "instafake"]
    assert split_names(None) is None


def write_instafake(root: Path, n: int = 80) -> None:
    """An InstaFake-format folder where fakes have few followers."""
    rng = np.random.default_rng(5)
    folder = root / "instafake"
    folder.mkdir(parents=True)
    for name, fake in (("fakeAccountData.json", 1), ("realAccountData.json", 0)):
        rows = [
            {
                "userFollowerCount": int(rng.integers(0, 50) + (0 if fake else 40)),
                "userFollowingCount": int(rng.integers(0, 500)),
                "userBiographyLength": 0,
                "userMediaCount": int(rng.integers(0, 9)),
                "userHasProfilPic": 1,
                "userIsPrivate": 0,
                "usernameDigitCount": 0,
                "usernameLength": 8,
                "isFake": fake,
            }
            for _ in range(n // 4 if fake else n)
        ]
        (folder / name).write_text(json.dumps(rows))


def test_harness_writes_the_table_and_logs_to_mlflow(
    tmp_path: Path, mlflow_workspace: Path
) -> None:
    import mlflow

    write_instafake(tmp_path / "data")
    summary = run_quality(
        ["instafake"],
        seeds=2,
        data_root=tmp_path / "data",
        out=tmp_path / "out",
        workspace=mlflow_workspace,
        methods=["features-only", "graph-tree"],
    ).summary
    assert summary.height == 4  # 2 methods x 2 protocols
    assert (summary["seeds"] == 2).all() and (summary["auroc_mean"] > 0.8).all()
    text = (tmp_path / "out" / "results.md").read_text()
    assert "| instafake | strict | graph-tree |" in text and "duplicate-aware" in text
    per_seed = pl.read_csv(tmp_path / "out" / "per_seed.csv")
    assert per_seed.height == 8
    runs = mlflow.search_runs(experiment_names=["bench-quality-instafake"])
    assert len(runs) == 4 and "metrics.auroc_mean" in runs.columns


def test_harness_rejects_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown dataset 'yelp'"):
        run_quality(["yelp"], data_root=tmp_path, out=tmp_path / "out", workspace=None)
    with pytest.raises(UserError, match="data folder not found"):
        run_quality(["amazon"], data_root=tmp_path / "nope", out=tmp_path / "out", workspace=None)


def test_paired_comparison_is_by_seed_with_a_verdict() -> None:
    from experiments.quality_report import paired, paired_markdown

    rows = []
    for seed in range(4):
        for method, auroc in (
            ("ringwatch", 0.90 + 0.01 * seed),
            ("graph-tree", 0.88 + 0.01 * seed),
        ):
            rows.append(
                {"dataset": "d", "protocol": "strict", "method": method, "seed": seed,
                 "auroc": auroc, "auprc": 0.5, "rec_at_k": 0.5}
            )  # fmt: skip
        rows.append(
            {"dataset": "e", "protocol": "strict", "method": "ringwatch", "seed": seed,
             "auroc": 0.5 + (0.01 if seed % 2 else -0.01), "auprc": 0.1, "rec_at_k": 0.1}
        )  # fmt: skip
        rows.append(
            {"dataset": "e", "protocol": "strict", "method": "graph-tree", "seed": seed,
             "auroc": 0.5, "auprc": 0.1, "rec_at_k": 0.1}
        )  # fmt: skip
    table = paired(pl.DataFrame(rows), "ringwatch", "graph-tree")
    d, e = table.row(0, named=True), table.row(1, named=True)
    assert d["auroc_diff"] == pytest.approx(0.02) and d["won"] == 4 and d["verdict"] == "beats"
    assert e["auroc_diff"] == pytest.approx(0.0) and e["won"] == 2 and e["verdict"] == "tie"
    text = "\n".join(paired_markdown(table, "ringwatch", "graph-tree"))
    assert "| d | strict | +0.0200 ± 0.0000 | +0.0000 | 4 of 4 | beats |" in text
