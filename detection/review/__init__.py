"""The review app: a local web app where reviewers work a list and record decisions.

The web parts (detection.review.app, .serve) import Starlette and are imported only by the
`review` command; the decisions store is light and also used by scoring and feedback.
"""

from detection.review.store import Decision, DecisionStore, carry_decisions, read_decisions

__all__ = ["Decision", "DecisionStore", "carry_decisions", "read_decisions"]
