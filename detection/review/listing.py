"""What the review app reads from a list folder: candidates, rings, the base's feature
distribution, and the listed accounts' events from the data folder the list was scored on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from common.errors import UserError
from detection.distribution import FILE as QUANTILES

EVENT_COLUMNS = ("account_id", "ts", "action", "target_id", "ip", "device", "instrument", "text")


@dataclass(frozen=True)
class ReviewList:
    """One finished list, read once when the app starts."""

    folder: Path
    manifest: dict
    candidates: pl.DataFrame  # candidates.parquet (rank order)
    rings: pl.DataFrame  # rings.parquet
    quantiles: dict[str, np.ndarray]  # feature -> its 101 percentiles in the base
    events: pl.DataFrame | None  # events of listed accounts and ring members (None: no data)
    edges: pl.DataFrame | None
    data_note: str  # why events are missing, if they are

    @property
    def as_of(self) -> str:
        """The snapshot the list was scored at (ISO 8601)."""
        return str(self.manifest.get("as_of", ""))

    def account(self, account_id: str) -> dict | None:
        """One candidate row, or None."""
        rows = self.candidates.filter(pl.col("account_id") == account_id)
        return rows.row(0, named=True) if rows.height else None

    def ring(self, ring_id: str) -> dict | None:
        """One ring row, or None."""
        rows = self.rings.filter(pl.col("ring_id") == ring_id)
        return rows.row(0, named=True) if rows.height else None

    def events_of(self, accounts: list[str]) -> pl.DataFrame:
        """The events of `accounts`, newest first (empty without a data folder)."""
        if self.events is None:
            return pl.DataFrame(schema={c: pl.String for c in EVENT_COLUMNS})
        inside = pl.Series(accounts, dtype=pl.String).implode()
        return self.events.filter(pl.col("account_id").is_in(inside)).sort(
            ["ts", "account_id"], descending=[True, False]
        )


def read_manifest(folder: Path) -> dict:
    """The list's manifest; a folder without one is not a finished list (UserError)."""
    path = Path(folder) / "manifest.json"
    if not path.is_file() or not (Path(folder) / "candidates.parquet").is_file():
        raise UserError(
            f"{folder}: not a finished list folder (needs manifest.json and candidates.parquet; "
            "`ringwatch score` writes them to OUT/<as-of date>/)"
        )
    return json.loads(path.read_text())


def read_quantiles(folder: Path) -> dict[str, np.ndarray]:
    """feature -> percentiles, from the list's feature_quantiles.parquet (empty if absent)."""
    path = Path(folder) / QUANTILES
    if not path.is_file():
        return {}
    frame = pl.read_parquet(path).sort(["feature", "q"])
    return {
        name: part["value"].to_numpy()
        for (name,), part in frame.group_by("feature", maintain_order=True)
    }


def read_events(
    source: str | None, as_of: str, accounts: list[str]
) -> tuple[pl.DataFrame | None, pl.DataFrame | None, str]:
    """(events, edges, note) of `accounts` from the data folder the list was scored on."""
    from features.io.load import load_dataset

    if not source or not Path(source).is_dir():
        return None, None, f"the data folder {source!r} is not available: no events to show"
    try:
        ds = load_dataset(Path(source), datetime.fromisoformat(as_of) if as_of else None)
    except UserError as error:
        return None, None, f"the data folder cannot be read ({error}): no events to show"
    inside = pl.Series(accounts, dtype=pl.String).implode()
    names = [c for c in EVENT_COLUMNS if c in ds.events.collect_schema().names()]
    events = (
        ds.events.filter(pl.col("account_id").is_in(inside))
        .select(names)
        .collect()
        .sort(["account_id", "ts"])
    )
    edges = ds.edges.filter(pl.col("src").is_in(inside) | pl.col("dst").is_in(inside))
    return events, edges, ""


def load_list(folder: Path, with_events: bool = True) -> ReviewList:
    """Read a list folder (and, with `with_events`, its accounts' events) for the app."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    candidates = pl.read_parquet(folder / "candidates.parquet").sort("rank")
    rings_path = folder / "rings.parquet"
    rings = pl.read_parquet(rings_path) if rings_path.is_file() else pl.DataFrame()
    members = set(candidates["account_id"].to_list())
    if rings.height:
        members |= {m for ms in rings["members"].to_list() for m in ms}
    source = manifest.get("inputs", {}).get("source")
    events, edges, note = (None, None, "events not loaded")
    if with_events:
        events, edges, note = read_events(source, manifest.get("as_of", ""), sorted(members))
    return ReviewList(
        folder, manifest, candidates, rings, read_quantiles(folder), events, edges, note
    )
