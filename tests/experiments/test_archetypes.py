"""The archetypes of issue 12 leave the traces their sources describe, and nothing more."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from experiments.simulate import WorldConfig, simulate_world
from experiments.simulate.kinds import BAD_KINDS, BENIGN_KINDS

CONFIG = WorldConfig(accounts=4_000, weeks=2, seed=3, bad_share=0.1)
NEW_KINDS = {"fan", "agency_brand", "family", *BAD_KINDS[5:]}


@pytest.fixture(scope="module")
def world():
    return simulate_world(CONFIG)


@pytest.fixture(scope="module")
def events(world) -> pl.DataFrame:
    return world.events.join(world.truth, on="account_id")


def of_kind(events: pl.DataFrame, kind: str) -> pl.DataFrame:
    return events.filter(pl.col("kind") == kind)


def test_every_new_kind_is_there_and_original_worlds_have_none(world) -> None:
    assert set(world.truth["kind"]) >= NEW_KINDS
    original = simulate_world(dataclasses.replace(CONFIG, accounts=1_000).only_original_kinds())
    assert not NEW_KINDS & set(original.truth["kind"])
    ringed = world.truth.filter(pl.col("ring_id").is_not_null())
    assert (
        set(ringed["kind"]) <= set(BAD_KINDS)
        and {"follower_customer"} & set(ringed["kind"]) == set()
    )
    assert set(world.truth.filter(~pl.col("is_bad"))["kind"]) <= set(BENIGN_KINDS)


def test_aged_rings_have_no_burst_and_amplify_their_leader_within_minutes(world, events) -> None:
    amp = world.accounts.join(world.truth, on="account_id").filter(
        pl.col("kind") == "aged_amplifier"
    )
    spans = amp.group_by("ring_id").agg(
        (pl.col("created_at").max() - pl.col("created_at").min()).dt.total_days()
    )
    assert spans["created_at"].min() > 30  # bought old: registered over months or years
    posts = events.filter(pl.col("target_id").str.starts_with("c8")).filter(
        pl.col("action") == "post"
    )
    shares = of_kind(events, "aged_amplifier").filter(
        pl.col("action").is_in(["share", "like"])
        & pl.col("target_id").is_in(posts["target_id"].implode())
    )
    lag = shares.join(posts.select("target_id", posted=pl.col("ts")), on="target_id")
    minutes = (lag["ts"] - lag["posted"]).dt.total_seconds() / 60
    assert lag.height > 100 and minutes.median() < 15
    per_account = shares.group_by("account_id").len()["len"]
    assert per_account.median() >= 5  # again and again, not once


def test_takeover_crews_switch_to_new_shared_kit(events) -> None:
    ato = of_kind(events, "account_takeover").sort("account_id", "ts")
    edits = (
        ato.filter(pl.col("action") == "profile_edit")
        .group_by("account_id")
        .agg(edit=pl.col("ts").min())
    )
    before = ato.join(edits, on="account_id").filter(
        pl.col("ts") < pl.col("edit") - pl.duration(hours=1)
    )
    after = ato.join(edits, on="account_id").filter(pl.col("ts") >= pl.col("edit"))
    new_devices = after.join(
        before.select("account_id", "device").unique(), on=["account_id", "device"], how="anti"
    )
    assert new_devices.height / after.height > 0.7  # the crew's kit, not the owner's
    sharing = new_devices.group_by("device").agg(pl.col("account_id").n_unique())["account_id"]
    assert sharing.max() >= 2
    assert after.filter(pl.col("action") == "payment").height > 0
    assert (before["ts"].max() - before["ts"].min()).total_seconds() > 3 * 86_400  # a history


def test_follower_farms_run_on_a_few_phones_and_serve_customers(world, events) -> None:
    farm = of_kind(events, "follower_farm")
    plain = farm.filter(~pl.col("camouflage") & pl.col("device").is_not_null())
    devices = plain.group_by("ring_id").agg(
        pl.col("device").n_unique(), pl.col("account_id").n_unique()
    )
    assert (devices["device"] <= CONFIG.follower_farm_devices).all()
    assert (devices["account_id"] > devices["device"]).all()
    customers = world.truth.filter(pl.col("kind") == "follower_customer")["account_id"]
    follows = plain.filter(pl.col("action") == "follow")  # (camouflaged ones follow celebrities)
    assert follows["target_id"].is_in(customers.implode()).mean() > 0.9
    assert customers.is_in(follows["target_id"].implode()).all()


def test_paraphrasing_farms_share_topics_not_texts(events) -> None:
    posts = of_kind(events, "paraphrase_farm").filter(pl.col("action") == "post")
    owners = posts.group_by("text").agg(pl.col("account_id").n_unique())
    assert (owners["account_id"] > 1).mean() < 0.1  # hardly any text repeats
    firsts = posts.filter(pl.col("target_id").str.starts_with("c9"))
    shares = of_kind(events, "paraphrase_farm").filter(
        (pl.col("action") == "share") & pl.col("target_id").is_in(firsts["target_id"].implode())
    )
    assert firsts.height > 10 and shares.height > 10


def test_lookalikes_share_what_benign_groups_share(events) -> None:
    events = events.filter(pl.col("device").is_not_null())
    fans = of_kind(events, "fan")
    device_users = fans.group_by("device").agg(pl.col("account_id").n_unique())["account_id"]
    assert device_users.max() == 1  # fans share no kit
    assert fans.filter(pl.col("target_id").str.starts_with("c8")).height > 100  # they react
    agency = of_kind(events, "agency_brand")
    cards = (
        agency.filter(pl.col("instrument").is_not_null())
        .group_by("instrument")
        .agg(pl.col("account_id").n_unique())
    )
    assert cards["account_id"].max() >= 3
    family = of_kind(events, "family").group_by("device").agg(pl.col("account_id").n_unique())
    assert 2 <= family["account_id"].max() <= CONFIG.family_sizes[1]
