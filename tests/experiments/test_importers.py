"""Importers of the public datasets, on tiny slices written here in each dataset's own format."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.io
import scipy.sparse as sp
from typer.testing import CliRunner

from common.errors import UserError
from detection.cli import app
from experiments.importers import NAMES, SOURCE_FOLDERS, import_dataset, reddit
from features.io.load import load_dataset

AS_OF = datetime(2020, 1, 1, tzinfo=UTC)  # for the datasets without any timestamp
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def write_amazon(folder: Path, label: np.ndarray | None = None) -> Path:
    """A 5-user Amazon_UPU.mat: a triangle 0-1-2 plus an edge 3-4, 3 attributes."""
    folder.mkdir(parents=True, exist_ok=True)
    rows, cols = np.array([0, 1, 0, 2, 1, 2, 3, 4]), np.array([1, 0, 2, 0, 2, 1, 4, 3])
    network = sp.csc_matrix((np.ones(8), (rows, cols)), shape=(5, 5))
    attributes = sp.csc_matrix(np.arange(15, dtype=np.float64).reshape(5, 3))
    label = np.array([[1], [0], [0], [1], [0]], dtype=np.uint8) if label is None else label
    scipy.io.savemat(
        folder / "Amazon_UPU.mat", {"Network": network, "Attributes": attributes, "Label": label}
    )
    return folder


def write_bitcoin(folder: Path) -> Path:
    """Five ratings among four traders, three labels (one listed twice, as in the release)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alpha_network.csv").write_text(
        "1,2,10,1300000000\n2,3,-10,1300086400\n1,3,-5,1300172800\n3,1,2,1300259200\n"
        "4,2,1,1300345600\n"
    )
    (folder / "alpha_gt.csv").write_text("3,-1\n2,+1\n2,+1\n1,+1\n")
    return folder


def write_reddit(folder: Path, users: int = 4) -> Path:
    """4 users + 2 subreddits, edges stored both ways plus self-loops, 2 dims."""
    folder.mkdir(parents=True, exist_ok=True)
    pairs = np.array([[0, 4], [1, 4], [2, 5], [3, 5], [3, 4]])
    n = users + 2
    both = np.concatenate([pairs, pairs[:, ::-1], np.stack([np.arange(n)] * 2, axis=1)])
    np.savez(
        folder / "reddit.npz",
        features=np.arange(2 * n, dtype=np.float32).reshape(n, 2),
        edge_index=both.T.astype(np.int64),
        labels=np.array([0, 1, 0, 0, 0, 0], dtype=np.int8),
    )
    return folder


def profile(fake: int, followers: int) -> dict:
    """One InstaFake JSON object."""
    return {
        "userFollowerCount": followers,
        "userFollowingCount": 10,
        "userBiographyLength": 0,
        "userMediaCount": 3,
        "userHasProfilPic": 1 - fake,
        "userIsPrivate": 0,
        "usernameDigitCount": 2,
        "usernameLength": 9,
        "isFake": fake,
    }


def write_instafake(folder: Path) -> Path:
    """Two fake and three real profiles."""
    folder.mkdir(parents=True, exist_ok=True)
    fake = [profile(1, 5), profile(1, 7)]
    real = [profile(0, 100), profile(0, 200), profile(0, 300)]
    (folder / "fakeAccountData.json").write_text(json.dumps(fake))
    (folder / "realAccountData.json").write_text(json.dumps(real))
    return folder


@pytest.fixture
def small_reddit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Reddit importer with a 4-user boundary instead of 10,000."""
    monkeypatch.setattr(reddit, "USERS", 4)


def test_amazon_becomes_contract_tables(tmp_path: Path) -> None:
    summary = import_dataset("amazon", write_amazon(tmp_path / "src"), tmp_path / "out")
    ds = load_dataset(tmp_path / "out", AS_OF)
    assert summary.rows == {"accounts": 5, "edges": 4, "labels": 5} and summary.positives == 2
    assert ds.attributes == ("amazon_f00", "amazon_f01", "amazon_f02")
    assert ds.accounts["amazon_f02"].to_list() == [2.0, 5.0, 8.0, 11.0, 14.0]
    pairs = set(zip(ds.edges["src"], ds.edges["dst"], strict=True))
    assert pairs == {("u00000", "u00001"), ("u00000", "u00002"), ("u00001", "u00002"),
                     ("u00003", "u00004")}  # fmt: skip
    assert set(ds.edges["relation"]) == {"same_product"}
    bad = ds.labels.filter(pl.col("label") == 1)
    assert bad["account_id"].to_list() == ["u00000", "u00003"]
    assert set(bad["reason"]) == {"fraud"}


def test_bitcoin_ratings_become_edges_events_and_labels(tmp_path: Path) -> None:
    import_dataset("bitcoin-alpha", write_bitcoin(tmp_path / "src"), tmp_path / "out")
    ds = load_dataset(tmp_path / "out")  # the data has times: the default snapshot works
    assert ds.accounts["account_id"].to_list() == ["t00001", "t00002", "t00003", "t00004"]
    edges = ds.edges.sort("ts")
    assert edges["weight"].to_list() == [10.0, -10.0, -5.0, 2.0, 1.0]
    assert edges["ts"][0] == datetime(2011, 3, 13, 7, 6, 40, tzinfo=UTC)
    events = ds.events.collect()
    actions = events.group_by("account_id", "action").len().sort("account_id", "action")
    assert actions.rows() == [
        ("t00001", "rate", 2),
        ("t00001", "rating_received", 1),
        ("t00002", "rate", 1),
        ("t00002", "rating_received", 2),
        ("t00003", "rate", 1),
        ("t00003", "report_received", 2),
        ("t00004", "rate", 1),
    ]
    received = events.filter(pl.col("account_id") == "t00003", pl.col("action") != "rate")
    assert sorted(received["amount"].to_list()) == [-10.0, -5.0]
    assert sorted(received["target_id"].to_list()) == ["t00001", "t00002"]
    first = ds.accounts.filter(pl.col("account_id") == "t00004")["created_at"][0]
    assert first == datetime(2011, 3, 17, 7, 6, 40, tzinfo=UTC)  # its only rating
    assert ds.labels.select("account_id", "label").rows() == [
        ("t00001", 0),
        ("t00002", 0),
        ("t00003", 1),
    ]
    assert ds.labels["labelled_at"].null_count() == 3


def test_reddit_keeps_users_and_subreddits_apart(tmp_path: Path, small_reddit: None) -> None:
    import_dataset("reddit", write_reddit(tmp_path / "src"), tmp_path / "out")
    ds = load_dataset(tmp_path / "out", AS_OF)
    assert ds.accounts["account_id"].to_list() == [
        "r000", "r001", "u00000", "u00001", "u00002", "u00003",
    ]  # fmt: skip
    kinds = dict(zip(ds.accounts["account_id"], ds.accounts["category"], strict=True))
    assert kinds["r000"] == "subreddit" and kinds["u00003"] == "user"
    assert ds.attributes == ("reddit_e00", "reddit_e01")
    assert ds.edges.height == 5  # both directions and self-loops collapsed to one pair each
    assert set(ds.edges["src"]) <= {f"u0000{i}" for i in range(4)}
    assert set(ds.edges["dst"]) == {"r000", "r001"}
    assert ds.labels.height == 4  # subreddits carry no label
    assert ds.labels.filter(pl.col("label") == 1)["account_id"].to_list() == ["u00001"]


def test_instafake_ids_hide_the_source_file(tmp_path: Path) -> None:
    import_dataset("instafake", write_instafake(tmp_path / "src"), tmp_path / "out")
    ds = load_dataset(tmp_path / "out", AS_OF)
    assert ds.accounts.height == 5 and ds.labels["label"].sum() == 2
    assert "followers" not in ds.attributes and ds.accounts["followers"].null_count() == 0
    assert ds.accounts.schema["has_profile_pic"] == pl.Boolean
    joined = ds.accounts.join(ds.labels, on="account_id")
    assert sorted(joined.filter(pl.col("label") == 1)["followers"].to_list()) == [5, 7]
    order = np.random.default_rng(20191007).permutation(5)  # the importer's fixed shuffle
    assert sorted(joined["account_id"].to_list()) == [f"ig{i:05d}" for i in range(5)]
    first_fake = joined.filter(pl.col("account_id") == f"ig{order[0]:05d}")
    assert first_fake["followers"][0] == 5


def test_every_name_has_a_source_folder() -> None:
    assert set(NAMES) == set(SOURCE_FOLDERS)


def test_unknown_name_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown dataset 'yelp'"):
        import_dataset("yelp", tmp_path, tmp_path / "out")


@pytest.mark.parametrize(
    ("name", "missing"),
    [
        ("amazon", "Amazon_UPU.mat"),
        ("bitcoin-alpha", "alpha_network.csv"),
        ("reddit", "reddit.npz"),
        ("instafake", "fakeAccountData.json"),
    ],
)
def test_missing_source_file_is_named(tmp_path: Path, name: str, missing: str) -> None:
    (tmp_path / "src").mkdir()
    with pytest.raises(UserError, match=f"{missing}: required source file is missing"):
        import_dataset(name, tmp_path / "src", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_malformed_sources_are_named(tmp_path: Path, small_reddit: None) -> None:
    amazon = tmp_path / "amazon"
    amazon.mkdir()
    scipy.io.savemat(amazon / "Amazon_UPU.mat", {"Network": sp.csc_matrix((2, 2))})
    with pytest.raises(UserError, match=r"Amazon_UPU.mat: has no 'Attributes' array"):
        import_dataset("amazon", amazon, tmp_path / "out")
    (amazon / "Amazon_UPU.mat").write_text("not a mat file")
    with pytest.raises(UserError, match=r"Amazon_UPU.mat: cannot be read as a MATLAB"):
        import_dataset("amazon", amazon, tmp_path / "out")

    bitcoin = write_bitcoin(tmp_path / "bitcoin")
    (bitcoin / "alpha_network.csv").write_text("1,2,ten,1300000000\n")
    with pytest.raises(UserError, match=r"alpha_network.csv: column rating: values that are not"):
        import_dataset("bitcoin-alpha", bitcoin, tmp_path / "out")
    (bitcoin / "alpha_network.csv").write_text("1,2,10\n")
    with pytest.raises(UserError, match=r"alpha_network.csv: expected 4 columns"):
        import_dataset("bitcoin-alpha", bitcoin, tmp_path / "out")
    write_bitcoin(bitcoin)
    (bitcoin / "alpha_gt.csv").write_text("3,-1\n3,+1\n")
    with pytest.raises(UserError, match=r"alpha_gt.csv: users with both labels"):
        import_dataset("bitcoin-alpha", bitcoin, tmp_path / "out")

    redd = tmp_path / "reddit"
    redd.mkdir()
    np.savez(redd / "reddit.npz", features=np.zeros((6, 2)), labels=np.zeros(6))
    with pytest.raises(UserError, match=r"reddit.npz: has no 'edge_index' array"):
        import_dataset("reddit", redd, tmp_path / "out")

    insta = write_instafake(tmp_path / "insta")
    (insta / "realAccountData.json").write_text('{"not": "a list"}')
    with pytest.raises(UserError, match=r"realAccountData.json: expected a JSON list"):
        import_dataset("instafake", insta, tmp_path / "out")
    (insta / "realAccountData.json").write_text("[{")
    with pytest.raises(UserError, match=r"realAccountData.json: cannot be read as JSON"):
        import_dataset("instafake", insta, tmp_path / "out")
    (insta / "realAccountData.json").write_text(json.dumps([{"isFake": 0}]))
    with pytest.raises(UserError, match=r"object 0 has no field 'userFollowerCount'"):
        import_dataset("instafake", insta, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_output_is_replaced_only_when_asked(tmp_path: Path) -> None:
    source = write_instafake(tmp_path / "src")
    import_dataset("instafake", source, tmp_path / "out")
    with pytest.raises(UserError, match="already exists"):
        import_dataset("instafake", source, tmp_path / "out")
    import_dataset("instafake", source, tmp_path / "out", overwrite=True)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "accounts.parquet",
        "labels.parquet",
    ]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_import_and_its_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    source = write_bitcoin(tmp_path / "src")
    done = runner.invoke(app, ["import", "bitcoin-alpha", str(source), str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    assert "imported:" in done.output and "labelled bad accounts: 1" in done.output
    wrong = runner.invoke(app, ["import", "yelp", str(source), str(tmp_path / "other")])
    assert wrong.exit_code == 2
    assert "unknown dataset 'yelp'" in wrong.output and "Traceback" not in wrong.output


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} not present")
@pytest.mark.parametrize(
    ("name", "accounts", "labels", "bad"),
    [
        ("amazon", 10_224, 10_224, 693),
        ("bitcoin-alpha", 3_783, 237, 102),
        ("reddit", 10_984, 10_000, 366),
        ("instafake", 1_194, 1_194, 200),
    ],
)
def test_real_datasets_import_and_validate(
    tmp_path: Path, name: str, accounts: int, labels: int, bad: int
) -> None:
    import_dataset(name, SHARED / SOURCE_FOLDERS[name], tmp_path / name)
    ds = load_dataset(tmp_path / name, None if name == "bitcoin-alpha" else AS_OF)
    assert (ds.accounts.height, ds.labels.height, int(ds.labels["label"].sum())) == (
        accounts,
        labels,
        bad,
    )
    assert ds.warnings == ()
