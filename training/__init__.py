"""ringwatch: training stage."""
