"""The reviewers' commands, `feedback` and `review`, with their option types (registered by
detection/cli.py in pipeline order, so that module stays a short table of contents)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from detection.arguments import DEMO

DecisionsCsv = Annotated[
    Path | None, typer.Argument(help="CSV: account_id, decision, decided_at, ...")
]
FeedbackData = Annotated[
    Path | None,
    typer.Option(
        help="Data folder whose labels to extend (default with --from-review: the folder the "
        "list was scored on)."
    ),
]
FromReview = Annotated[
    Path | None,
    typer.Option(help="A list folder: read the decisions `ringwatch review` recorded there."),
]
ListFolder = Annotated[
    Path, typer.Argument(help="A list folder (OUT/<as-of date>) or an --out root (its newest).")
]
Host = Annotated[str, typer.Option(help="Address to bind; off loopback needs --token.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]
Token = Annotated[
    str | None,
    typer.Option(help="Access token required on every request (or $RINGWATCH_REVIEW_TOKEN)."),
]


def feedback(
    decisions: DecisionsCsv = None,
    data: FeedbackData = None,
    from_review: FromReview = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary line.")] = False,
) -> None:
    """Merge reviewers' decisions (closed, cleared, escalated) into the labels, with history."""
    import json

    from detection import commands, console

    summary = commands.feedback(decisions, data, from_review)
    print(json.dumps(summary)) if as_json else console.print_feedback(summary)


def review(
    list_folder: ListFolder = DEMO / "lists",
    host: Host = "127.0.0.1",
    port: Port = 8765,
    token: Token = None,
) -> None:
    """Work a list in the browser: queue, rings, accounts; record close / clear / escalate."""
    from detection import commands, console

    commands.review(list_folder, host, port, token, console.progress())
