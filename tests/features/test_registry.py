"""The feature registry: one spec per name, and a description for every column a model sees."""

from __future__ import annotations

from features.registry import all_specs, describe


def test_names_are_unique_and_every_spec_is_described() -> None:
    specs = all_specs()
    assert len({s.name for s in specs}) == len(specs)
    assert all(s.description and s.stage for s in specs)


def test_a_graph_tree_aggregate_of_an_attribute_is_described_from_its_name() -> None:
    spec = describe("g_rel_n2_max_review_count")
    assert spec.stage == "graph"
    assert "review_count" in spec.description and "2 hops" in spec.description


def test_an_unregistered_column_is_an_attribute_passed_through() -> None:
    spec = describe("review_count")
    assert spec.stage == "attribute" and "accounts table" in spec.description


def test_the_registry_follows_the_settings_in_use() -> None:
    from dataclasses import replace

    from features.config import FeatureConfig

    config = FeatureConfig()
    config = replace(config, behaviour=replace(config.behaviour, windows_days=(3, 14)))
    assert describe("events_3d", config).stage == "behaviour"
    assert describe("events_3d").stage == "attribute"  # the defaults have no 3-day window
    relations = replace(config, graph=replace(config.graph, relations=("follows", "retweets")))
    assert describe("g_retweets_degree", relations).stage == "graph"


def test_spec_modules_do_not_import_the_registry() -> None:
    import subprocess
    import sys

    code = (
        "import sys, features.graph.specs, features.behaviour.specs; "
        "print('features.registry' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
