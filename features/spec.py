"""What one feature is: its name, plain description, unit and stage (the registry's entries)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureSpec:
    """What one feature is: `name` as it appears in the feature table."""

    name: str
    description: str
    unit: str
    stage: str  # "behaviour", "graph", "anomaly", "attribute" or "label-derived"
    family: str = ""  # what it describes (activity, timing, identity, ...); "" = its stage

    @property
    def group(self) -> str:
        """The family, or the stage for features without one (graph, attribute, ...)."""
        return self.family or self.stage
