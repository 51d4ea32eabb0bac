"""The feature registry: every feature's name, plain description, unit and stage, built for
the feature settings in use (activity windows, relations and neighbour columns name columns).

The stage modules declare their specs as functions of the settings (features.behaviour.specs,
features.graph.specs); this module gathers them. The registry drives the README's feature
table, the ablation stages and the plain-language text of reason codes.
"""

from __future__ import annotations

from functools import cache

from features.behaviour.specs import behaviour_specs
from features.config import FeatureConfig
from features.graph.specs import DEFAULT_NEIGHBOUR_COLUMNS, aggregate_spec, specs_for
from features.spec import FeatureSpec

__all__ = ["FeatureSpec", "all_specs", "describe"]


@cache
def all_specs(config: FeatureConfig | None = None) -> tuple[FeatureSpec, ...]:
    """Every feature these settings produce (default: the default settings), in order."""
    config = config or FeatureConfig()
    columns = config.graph.neighbour_columns or DEFAULT_NEIGHBOUR_COLUMNS
    behaviour = behaviour_specs(config.behaviour.windows_days, config.behaviour.novelty_days)
    specs = behaviour + specs_for(config.graph, columns)
    if config.anomaly.enabled:
        from features.anomaly import SPECS as ANOMALY  # scikit-learn: imported when needed

        specs += ANOMALY
    names = [s.name for s in specs]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise RuntimeError(f"feature registry has duplicate names: {duplicated}")
    return specs


@cache
def _index(specs: tuple[FeatureSpec, ...]) -> dict[str, FeatureSpec]:
    """Specs by name (keyed on the spec tuple, so a patched registry is honoured)."""
    return {spec.name: spec for spec in specs}


def describe(name: str, config: FeatureConfig | None = None) -> FeatureSpec:
    """The spec of `name` under these settings; graph-tree aggregates of account attributes
    are described from their data-dependent name; other columns not in the registry are
    attributes passed through."""
    known = _index(all_specs(config)).get(name)
    if known is not None:
        return known
    aggregate = aggregate_spec(name)
    if aggregate is not None:
        return aggregate
    return FeatureSpec(name, f"account attribute '{name}' from the accounts table", "", "attribute")
