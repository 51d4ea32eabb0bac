"""What `ringwatch demo` keeps in its workspace: the world it simulated and its steps' times.

WORKSPACE/manifest.json records the world's settings and each step's seconds. A second demo
in the same workspace reuses WORKSPACE/data (labels added by `feedback` included) when the
settings match, and refuses to replace it without --overwrite otherwise; a replaced world's
lists (and their review decisions) move to WORKSPACE/lists-before-<time>.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common.atomic import atomic_file
from common.errors import UserError
from common.progress import Say

MANIFEST = "manifest.json"


def world_settings(world: Any) -> dict:
    """A world's settings (a dataclass, or None) as JSON values: what reused data must match."""
    return json.loads(json.dumps(asdict(world), default=str)) if world is not None else {}


def prepare_data(
    workspace: Path,
    settings: dict,
    make: Callable[[Path], Any],
    overwrite: bool,
    say: Say,
    describe: str = "a simulated platform",
) -> bool:
    """Simulate into WORKSPACE/data with `make`, or reuse what is there; True when reused."""
    data, record = Path(workspace) / "data", Path(workspace) / MANIFEST
    if data.exists() and not overwrite:
        before = json.loads(record.read_text()).get("world") if record.is_file() else None
        if before == settings:
            say(f"reusing the world in {data} (same settings; --overwrite simulates it afresh)")
            return True
        raise UserError(
            f"{data} already holds data ({'other settings' if before else 'not from a demo'}); "
            "pass --overwrite to replace it (labels added by `ringwatch feedback` would be "
            "lost) or use another --workspace"
        )
    set_aside_lists(workspace, say)
    say(f"simulating {describe} into {data}")
    make(data)
    return False


def set_aside_lists(workspace: Path, say: Say) -> None:
    """Move the lists of a world being replaced (and their review decisions) to
    WORKSPACE/lists-before-<time>: kept, but never carried into the new world's lists."""
    lists = Path(workspace) / "lists"
    if lists.is_dir() and any(lists.iterdir()):
        aside = lists.with_name(f"lists-before-{datetime.now(UTC):%Y%m%dT%H%M%S}")
        lists.rename(aside)
        say(f"the lists of the replaced world (with any review decisions) moved to {aside}")


def write_record(
    workspace: Path, settings: dict, steps: dict[str, float], reused: bool, folder: Path
) -> Path:
    """WORKSPACE/manifest.json: the world's settings, the steps' times and the list folder."""
    record = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "world": settings,
        "reused_data": reused,
        "list": str(folder),
        "timings": {**steps, "total": round(sum(steps.values()), 2)},
    }
    path = Path(workspace) / MANIFEST
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n")
    return path
