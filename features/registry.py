"""The feature registry: every feature's name, plain description, unit and stage, in one place.

Feature modules declare their specs in a `SPECS` tuple; this module gathers them. The registry
drives the README's feature table and the plain-language text of reason codes.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

SPEC_MODULES = ("features.behaviour.specs", "features.graph.specs", "features.anomaly")


@dataclass(frozen=True)
class FeatureSpec:
    """What one feature is: `name` as it appears in the feature table."""

    name: str
    description: str
    unit: str
    stage: str  # "behaviour", "graph", "anomaly", "attribute" or "label-derived"


@cache
def all_specs() -> tuple[FeatureSpec, ...]:
    """Every registered feature, in declaration order."""
    specs: list[FeatureSpec] = []
    for module in SPEC_MODULES:
        specs.extend(importlib.import_module(module).SPECS)
    names = [s.name for s in specs]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise RuntimeError(f"feature registry has duplicate names: {duplicated}")
    return tuple(specs)


@cache
def _index(specs: tuple[FeatureSpec, ...]) -> dict[str, FeatureSpec]:
    """Specs by name (keyed on the spec tuple, so a patched registry is honoured)."""
    return {spec.name: spec for spec in specs}


def describe(name: str) -> FeatureSpec:
    """The spec of `name`; graph-tree aggregates of account attributes are described from
    their data-dependent name; other columns not in the registry are attributes passed through."""
    known = _index(all_specs()).get(name)
    if known is not None:
        return known
    from features.graph.specs import aggregate_spec  # the graph specs import this module

    aggregate = aggregate_spec(name)
    if aggregate is not None:
        return aggregate
    return FeatureSpec(name, f"account attribute '{name}' from the accounts table", "", "attribute")
