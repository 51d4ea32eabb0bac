"""`ringwatch review`: check the binding, read the list, run the app under uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

from common.errors import UserError
from common.progress import Say, silent
from detection.review.app import ReviewServer, build_app, is_loopback
from detection.review.listing import load_list
from detection.review.store import DecisionStore

TOKEN_ENV = "RINGWATCH_REVIEW_TOKEN"
MIN_TOKEN = 16


def check_binding(host: str, token: str | None) -> str | None:
    """The token to require: None on loopback without one; off loopback one is mandatory."""
    token = token or os.environ.get(TOKEN_ENV) or None
    if token is not None and len(token) < MIN_TOKEN:
        raise UserError(f"--token must be at least {MIN_TOKEN} characters")
    if token is None and not is_loopback(host):
        raise UserError(
            f"binding to {host} (not loopback) needs --token or ${TOKEN_ENV}: everyone who can "
            "reach this address could read the list and record decisions"
        )
    return token


def latest_list(folder: Path) -> Path:
    """`folder` itself when it is a list; else its newest dated list (e.g. a --out root)."""
    folder = Path(folder)
    if (folder / "manifest.json").is_file():
        return folder
    dated = sorted(p for p in folder.glob("????-??-??") if (p / "manifest.json").is_file())
    if not dated:
        raise UserError(f"{folder}: no finished list here (run `ringwatch score` first)")
    return dated[-1]


def make_server(folder: Path, token: str | None = None, with_events: bool = True) -> ReviewServer:
    """The review server of one list folder (its decisions file is created if missing)."""
    data = load_list(latest_list(folder), with_events)
    return ReviewServer(data, DecisionStore(data.folder, data.as_of or None), token)


def serve(folder: Path, host: str, port: int, token: str | None, say: Say = silent) -> None:
    """Run the review app until interrupted."""
    import uvicorn

    token = check_binding(host, token)
    say(f"reading the list in {folder} and its accounts' events")
    server = make_server(folder, token)
    shown = f"[{host}]" if ":" in host else host
    link = f"http://{shown}:{port}/" + ("?token=YOUR_TOKEN" if token else "")
    say(
        f"reviewing {server.data.folder} ({server.data.candidates.height:,} accounts, "
        f"{server.data.rings.height:,} rings); decisions go to {server.store.path}"
    )
    say(f"open {link}  (Ctrl+C stops)")
    uvicorn.run(build_app(server), host=host, port=port, log_level="warning", access_log=False)
