"""The synthetic platform simulator: a world of benign accounts, abuse rings and confounders.

`simulate_world(WorldConfig())` returns the tables in memory; `simulate_to(config, out)` writes
them chunk by chunk (bounded memory) as a contract-conformant folder plus `truth.parquet`,
which only evaluation code reads.
"""

from experiments.simulate.config import WorldConfig
from experiments.simulate.world import World, simulate_world
from experiments.simulate.writer import Written, simulate_to, write_world

__all__ = ["World", "WorldConfig", "Written", "simulate_to", "simulate_world", "write_world"]
