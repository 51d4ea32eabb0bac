"""Settings of a scoring run (thresholds, review capacity, chunk size): one typed place."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from common.errors import UserError

#: Suggested actions, most severe first.
ACTIONS = ("close", "review", "watch")


@dataclass(frozen=True)
class ScoreConfig:
    """How scores become a close-candidate list, and how the report is drawn.

    An account can enter the list on its own only with a calibrated score of at least
    `watch_threshold`; members of a ring that crosses the cut come along whatever their score.
    The list is cut at the top `capacity` accounts, or, when `min_precision` is set, at the
    longest list whose expected precision (mean calibrated score) is at least `min_precision`.
    """

    close_threshold: float = 0.9  # calibrated P(bad) at or above which to suggest closing
    review_threshold: float = 0.7  # ... a manual review
    watch_threshold: float = 0.5  # ... watching; below it an account enters only with its ring
    capacity: int | None = 500  # accounts reviewers can handle this week (top-K cut)
    min_precision: float | None = None  # instead of capacity: expected precision target
    keep_rings_whole: bool = True  # pull in the ring mates of every listed ring member
    chunk_size: int = 100_000  # accounts scored together (bounds memory)
    n_reasons: int = 5  # reason codes per candidate
    max_ring_sections: int = 60  # rings drawn in the report (every ring gets a section)
    max_drawn_nodes: int = 20  # ring drawings label this many accounts; the rest as a count
    report_rows: int = 1_000  # candidate rows in report.html (every row is in the CSV)
    compile_min_accounts: int = 100_000  # compile the model to native code (seconds, once
    # per model version, then reused) for a base at least this big; smaller ones use LightGBM
    csv_feature_values: bool = False  # also put every feature value (JSON) in candidates.csv

    def check(self) -> ScoreConfig:
        """Raise UserError naming the first setting out of range; return self when all are fine."""
        if not 0.0 <= self.watch_threshold <= self.review_threshold <= self.close_threshold <= 1:
            raise UserError(
                "thresholds must satisfy 0 <= watch <= review <= close <= 1 (got watch "
                f"{self.watch_threshold}, review {self.review_threshold}, "
                f"close {self.close_threshold})"
            )
        if self.min_precision is not None and not 0.0 < self.min_precision <= 1.0:
            raise UserError(f"--min-precision must be in (0, 1] (got {self.min_precision})")
        if self.min_precision is None and (self.capacity is None or self.capacity < 1):
            raise UserError(f"--capacity must be a positive number (got {self.capacity})")
        if self.chunk_size < 1 or self.n_reasons < 1:
            raise UserError("chunk_size and n_reasons must be positive")
        return self

    def with_cut(self, capacity: int | None, min_precision: float | None) -> ScoreConfig:
        """A copy cut by `capacity` or by `min_precision` (giving both is a user error)."""
        if capacity is not None and min_precision is not None:
            raise UserError("give either --capacity or --min-precision, not both")
        if min_precision is not None:
            return replace(self, capacity=None, min_precision=min_precision).check()
        if capacity is not None:
            return replace(self, capacity=capacity, min_precision=None).check()
        return self.check()

    def to_dict(self) -> dict:
        """Plain JSON-able form (for the manifest)."""
        return asdict(self)
