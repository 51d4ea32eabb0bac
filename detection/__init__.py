"""ringwatch: detection stage."""
