"""ringwatch: features stage."""
