"""The synthetic platform: deterministic, contract-conformant, and as tricky as it claims to be."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import polars as pl
import pytest
import typer.main
from typer.testing import CliRunner

from common.errors import UserError
from detection.cli import app
from experiments.simulate import WorldConfig, simulate_to, simulate_world, write_world
from experiments.simulate.config import BAD_MIX_FIELDS, knobs_markdown
from experiments.simulate.kinds import BAD_KINDS, REASON
from features.io.contract import ACCOUNTS, EDGES, EVENTS, LABELS
from features.io.load import load_dataset

CONFIG = WorldConfig(accounts=3_000, weeks=2, seed=11)
TRUTH_SCHEMA = {
    "account_id": pl.String(),
    "is_bad": pl.Boolean(),
    "kind": pl.String(),
    "ring_id": pl.String(),
    "camouflage": pl.Boolean(),
}


@pytest.fixture(scope="module")
def world():
    return simulate_world(CONFIG)


@pytest.fixture(scope="module")
def kinds(world) -> pl.DataFrame:
    return world.truth.select("account_id", "kind", "ring_id", "is_bad")


def digests(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder, by relative path."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    config = WorldConfig(accounts=2_000, weeks=1, seed=5, chunk_accounts=1_000)
    first = simulate_to(config, tmp_path / "one")
    simulate_to(config, tmp_path / "two")
    simulate_to(dataclasses.replace(config, seed=6), tmp_path / "other")
    assert first.parts == 2
    assert digests(tmp_path / "one") == digests(tmp_path / "two")
    assert "events/part-00001.parquet" in digests(tmp_path / "one")
    other = digests(tmp_path / "other")
    assert (
        other["events/part-00000.parquet"] != digests(tmp_path / "one")["events/part-00000.parquet"]
    )


def test_tables_have_the_contract_types(world) -> None:
    for table in (ACCOUNTS, EVENTS, EDGES, LABELS):
        frame = getattr(world, table.name)
        assert {c: frame.schema[c] for c in table.schema} == table.schema, table.name
    extra = {c: t for c, t in world.accounts.schema.items() if c not in ACCOUNTS.schema}
    assert extra == {"following": pl.Int64(), "profile_completeness": pl.Float64()}
    assert list(world.events.columns) == list(EVENTS.schema)
    assert dict(world.truth.schema) == TRUTH_SCHEMA
    assert world.accounts["account_id"].is_unique().all()
    assert world.accounts["account_id"].str.contains(r"^a\d{7}$").all()


def test_written_folder_reads_back_unchanged(world, tmp_path: Path) -> None:
    write_world(world, tmp_path / "w")
    ds = load_dataset(tmp_path / "w")
    assert ds.warnings == ()
    assert ds.attributes == ("following", "profile_completeness")
    assert ds.events.collect().equals(world.events)
    assert ds.accounts.height == world.accounts.height
    assert ds.edges.height == world.edges.height
    assert pl.read_parquet(tmp_path / "w" / "truth.parquet").equals(world.truth)


def test_refuses_to_overwrite_unless_asked(world, tmp_path: Path) -> None:
    out = tmp_path / "w"
    write_world(world, out)
    with pytest.raises(UserError, match="already exists"):
        write_world(world, out)
    write_world(world, out, overwrite=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_every_kind_is_present_in_its_share(world) -> None:
    counts = dict(world.truth.group_by("kind").len().iter_rows())
    n = CONFIG.accounts
    assert sum(counts[k] for k in BAD_KINDS) == round(n * CONFIG.bad_share)
    shares = {"newsroom": "newsroom", "nat_user": "nat", "fan": "fan", "agency_brand": "agency"}
    for kind, knob in (shares | {"family": "family"}).items():
        assert counts[kind] == round(n * getattr(CONFIG, f"{knob}_share")), kind
    n_bad = round(n * CONFIG.bad_share)
    mix = {field: getattr(CONFIG, field) for field in BAD_MIX_FIELDS}
    for kind, field in zip(BAD_KINDS, BAD_MIX_FIELDS, strict=True):
        assert abs(counts[kind] - mix[field] / sum(mix.values()) * n_bad) <= 1, kind
    for kind in ("individual", "brand", "media", "government", "creator"):
        assert counts[kind] > 0.01 * n, kind


def test_rings_and_solo_accounts(world) -> None:
    truth = world.truth
    bad = truth.filter("is_bad")
    assert (
        truth.filter(~pl.col("is_bad"))["ring_id"].null_count()
        == truth.filter(~pl.col("is_bad")).height
    )
    rings = (
        bad.filter(pl.col("ring_id").is_not_null())
        .group_by("ring_id")
        .agg(pl.col("kind").n_unique().alias("kinds"), pl.col("kind").first(), pl.len())
    )
    assert (rings["kinds"] == 1).all()
    for kind in ("fake_farm", "card_fraud", "clickbait_farm"):
        sizes = rings.filter(pl.col("kind") == kind)["len"]
        assert sizes.len() >= 1 and sizes.min() >= 3, kind
    solo = bad.group_by("kind").agg(pl.col("ring_id").is_null().mean().alias("solo"))
    solo = dict(solo.iter_rows())
    assert solo["porn"] > 0.5 and solo["violence"] > 0.5
    assert 0 < solo["fake_farm"] < 0.5


def test_time_is_consistent(world, kinds) -> None:
    created = world.accounts.select("account_id", "created_at")
    events = world.events.join(created, on="account_id")
    assert events.filter(pl.col("ts") < pl.col("created_at")).height == 0
    assert world.events["ts"].max() < world.as_of
    assert world.events["ts"].min() >= CONFIG.start
    edges = world.edges.join(created.rename({"account_id": "src", "created_at": "c1"}), on="src")
    edges = edges.join(created.rename({"account_id": "dst", "created_at": "c2"}), on="dst")
    assert edges.filter((pl.col("ts") < pl.col("c1")) | (pl.col("ts") < pl.col("c2"))).height == 0
    targets = world.events.filter(pl.col("target_id").str.starts_with("a"))["target_id"]
    assert targets.is_in(world.accounts["account_id"].implode()).all()
    assert set(world.edges["relation"].unique()) == {"follows", "interacts"}
    accounts = world.accounts.join(kinds, on="account_id")
    new = accounts.filter(pl.col("created_at") >= CONFIG.start)
    assert (
        new["is_bad"].mean() > CONFIG.bad_share and (~new["is_bad"]).sum() > 0
    )  # over-represented
    benign = accounts.filter(~pl.col("is_bad"))
    assert benign["created_at"].min() < CONFIG.start.replace(year=CONFIG.start.year - 3)


def test_labels_agree_with_truth_up_to_the_noise(world, kinds) -> None:
    labels = world.labels.join(kinds, on="account_id")
    positive = labels.filter(pl.col("label") == 1)
    wrong = positive.filter(~pl.col("is_bad")).height / positive.height
    assert wrong <= CONFIG.label_noise + 0.03
    n_bad = kinds["is_bad"].sum()
    assert 0.35 < positive.filter("is_bad").height / n_bad < 0.65
    reasons = positive.filter("is_bad").select(
        (pl.col("reason") == pl.col("kind").replace_strict(REASON)).all()
    )
    assert reasons.item()
    cleared = labels.filter(pl.col("label") == 0)
    assert cleared.height > 0.01 * (kinds.height - n_bad)
    confounders = ["newsroom", "nat_user"]
    share_cleared = cleared["kind"].is_in(confounders).mean()
    share_world = kinds["kind"].is_in(confounders).mean()
    assert share_cleared > 1.5 * share_world
    assert (world.labels["labelled_at"] <= world.as_of).mean() > 0.8


def test_no_noise_means_every_positive_is_bad() -> None:
    w = simulate_world(WorldConfig(accounts=1_500, weeks=1, seed=3, label_noise=0.0))
    positive = w.labels.filter(pl.col("label") == 1).join(w.truth, on="account_id")
    assert positive.height > 10 and positive["is_bad"].all()


def test_naive_rules_are_measurably_wrong(world, kinds) -> None:
    """'Shares an IP with another account' and 'posts regularly' catch many benign accounts."""
    per_ip = world.events.filter(pl.col("ip").is_not_null()).select("account_id", "ip").unique()
    shared = per_ip.group_by("ip").len().filter(pl.col("len") > 1)
    flagged = (
        per_ip.join(shared, on="ip").select("account_id").unique().join(kinds, on="account_id")
    )
    assert flagged["is_bad"].mean() < 0.5
    posts = (
        world.events.filter(pl.col("action") == "post")
        .sort("account_id", "ts")
        .with_columns(gap=pl.col("ts").diff().over("account_id").dt.total_seconds())
    )
    regular = (
        posts.group_by("account_id")
        .agg(n=pl.len(), cv=pl.col("gap").std() / pl.col("gap").mean())
        .filter((pl.col("n") >= 10) & (pl.col("cv") < 0.6))
        .join(kinds, on="account_id")
    )
    assert regular.height > 20
    assert regular["is_bad"].mean() < 0.75
    assert set(regular.filter(~pl.col("is_bad"))["kind"]) & {"newsroom", "brand", "government"}


def test_rings_leave_shared_traces(world, kinds) -> None:
    events = world.events.join(kinds, on="account_id")
    ringed = events.filter(pl.col("ring_id").is_not_null())
    devices = (
        ringed.filter(pl.col("kind") == "fake_farm")
        .group_by("ring_id", "device")
        .agg(pl.col("account_id").n_unique().alias("members"))
    )
    assert devices["members"].max() >= 3
    cards = (
        ringed.filter(pl.col("action") == "payment")
        .group_by("ring_id", "instrument")
        .agg(pl.col("account_id").n_unique().alias("members"))
    )
    assert cards["members"].max() >= 2
    assert events.filter(
        (pl.col("kind") == "card_fraud") & (pl.col("action") == "chargeback")
    ).height
    lockstep = (
        ringed.filter((pl.col("kind") == "clickbait_farm") & (pl.col("action") == "share"))
        .group_by("ring_id", "target_id")
        .agg(
            pl.col("account_id").n_unique().alias("members"),
            (pl.col("ts").max() - pl.col("ts").min()).dt.total_minutes().alias("minutes"),
        )
        .filter((pl.col("members") >= 3) & (pl.col("minutes") <= 60))
    )
    assert lockstep.group_by("ring_id").len()["len"].max() >= 5
    reports = events.filter(pl.col("action") == "report_received").group_by("kind").len()
    reports = dict(reports.iter_rows())
    assert reports["porn"] + reports["violence"] > 5 * CONFIG.accounts * 0.01


def test_confounders_share_identifiers(world, kinds) -> None:
    per_ip = world.events.filter(pl.col("ip").is_not_null()).select("account_id", "ip").unique()
    nat = per_ip.join(kinds, on="account_id").filter(pl.col("kind") == "nat_user")
    assert nat.group_by("ip").len()["len"].max() >= 100
    news = world.events.join(kinds, on="account_id").filter(pl.col("kind") == "newsroom")
    shared_devices = news.group_by("device").agg(pl.col("account_id").n_unique().alias("n"))
    assert shared_devices["n"].max() >= 3


def test_headlines_are_varied_but_farms_repeat_themselves(world, kinds) -> None:
    posts = world.events.filter(pl.col("text").is_not_null()).join(kinds, on="account_id")
    owners = posts.group_by("text").agg(pl.col("account_id").n_unique().alias("owners"))
    posts = posts.join(owners, on="text")
    repeated = dict(posts.group_by("kind").agg((pl.col("owners") > 1).mean()).iter_rows())
    assert repeated["media"] < 0.2 and repeated["newsroom"] < 0.2
    assert repeated["clickbait_farm"] > 0.5 and repeated["fake_farm"] > 0.5
    clickbait = posts.filter(pl.col("kind") == "clickbait_farm")["text"]
    assert clickbait.str.contains("!!!").any() and clickbait.str.contains("won't believe").any()
    assert (clickbait == clickbait.str.to_uppercase()).any()


def test_bad_knobs_are_user_errors() -> None:
    for bad in (
        dict(accounts=5),
        dict(camouflage="medium"),
        dict(bad_share=1.5),
        dict(weeks=0),
        dict.fromkeys(BAD_MIX_FIELDS, 0.0),
        dict(amplifier_sizes=(5, 3)),
        dict(fan_reaction_share=1.5),
    ):
        with pytest.raises(UserError):
            WorldConfig(**bad).check()


def test_cli_writes_a_world_and_rejects_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "data"
    args = ["simulate", str(out), "--accounts", "500", "--weeks", "1", "--seed", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert load_dataset(out).accounts.height == 500
    assert runner.invoke(app, args).exit_code == 2
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0
    assert runner.invoke(app, [*args, "--overwrite", "--camouflage", "odd"]).exit_code == 2


def test_knobs_table_lists_every_knob() -> None:
    table = knobs_markdown()
    for field in dataclasses.fields(WorldConfig):
        assert f"| `{field.name}` |" in table


def test_cli_defaults_are_the_config_defaults() -> None:
    command = typer.main.get_command(app).commands["simulate"]
    defaults = {p.name: p.default for p in command.params if p.name not in ("out", "overwrite")}
    config = WorldConfig()
    assert defaults == {name: getattr(config, name) for name in defaults}
