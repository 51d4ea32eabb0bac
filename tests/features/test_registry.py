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
