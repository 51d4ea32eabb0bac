"""Input layer: the data contract, loading and checking the input tables, and their summary."""
