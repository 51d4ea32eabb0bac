"""The `ringwatch rings` command's body: find the rings of a data folder, write them, summarise."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from features.atomic import write_parquet
from features.config import GraphConfig
from features.graph.build import build_graphs
from features.graph.rings import Rings, find_rings
from features.load import load_dataset


def run_rings(
    data: Path, out: Path, as_of: datetime | None = None, config: GraphConfig | None = None
) -> Rings:
    """Load `data`, find its rings and write the ring table to `out` (temp file + rename)."""
    config = config or GraphConfig()
    console = Console(stderr=True)
    started = time.perf_counter()
    with console.status("loading the data") as status:
        ds = load_dataset(data, as_of)
        status.update(f"building graphs of {ds.accounts.height:,} accounts")
        graphs = build_graphs(ds, config)
        status.update("peeling candidate components into rings")
        rings = find_rings(ds, graphs, config)
    write_parquet(rings.rings, out)
    seconds = time.perf_counter() - started
    print(
        f"wrote {out}: {rings.rings.height:,} rings, {rings.membership.height:,} member accounts "
        f"of {ds.accounts.height:,} (as of {ds.as_of:%Y-%m-%d %H:%M} UTC, {seconds:.1f} s)"
    )
    print_top(rings)
    return rings


def print_top(rings: Rings, top: int = 10) -> None:
    """The densest rings with their evidence, as a table."""
    if rings.rings.height == 0:
        return
    table = Table(title=f"densest {min(top, rings.rings.height)} rings")
    for column in ("ring", "size", "score", "evidence", "identifiers", "lockstep"):
        table.add_column(column)
    for ring in rings.rings.head(top).iter_rows(named=True):
        identifiers = ", ".join(ring["identifiers"][:3])
        more = len(ring["identifiers"]) - 3
        table.add_row(
            ring["ring_id"],
            str(ring["size"]),
            f"{ring['score']:.2f}",
            ", ".join(ring["evidence_kinds"]),
            identifiers + (f" (+{more})" if more > 0 else ""),
            f"{ring['lockstep_windows']} windows",
        )
    Console().print(table)
