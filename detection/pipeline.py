"""`score_base`: one weekly scoring run, from a built feature table to a finished output folder.

Scores every account in chunks, cuts the ranked list, explains the listed accounts (TreeSHAP
only for them and their ring mates), groups them by ring, compares with the previous list and
writes candidates, scores, rings, changes, report and manifest into `out/<as-of date>/`
atomically (see detection.output).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from common.progress import Say, silent
from detection import output
from detection.candidates import Selection, expected_precision_curve, select_candidates
from detection.config import ACTIONS, ScoreConfig
from detection.diff import change_counts, cleared_on, diff_lists, read_previous
from detection.distribution import FILE as QUANTILES
from detection.distribution import feature_quantiles
from detection.manifest import Timings, build_manifest, write_manifest
from detection.reasons import REASONS, flatten_reasons, top_reasons
from detection.report import ReportInputs, render_report
from detection.report_rings import drawn_rings
from detection.review.store import carry_decisions
from detection.ringlist import IDENTIFIER_KINDS, ring_links, rings_among
from detection.score import Model, rank_scores, score_on
from features.config import feature_config_of
from features.execution import Engine


def curve_length(selection: Selection) -> int:
    """How many top accounts the expected-precision picture covers: about 3x the list."""
    return max(3 * selection.by_score, 200)


@dataclass(frozen=True)
class ScoreResult:
    """Where the list went and the one-line summary a scheduler reads."""

    folder: Path
    summary: dict


def output_name(as_of: datetime) -> str:
    """The output folder name of a snapshot: its UTC date, YYYY-MM-DD."""
    return as_of.date().isoformat()


def model_label(model: Model) -> str:
    """'ringwatch version 3' (registered) or the folder of a local model."""
    if model.version in (None, "local"):
        return f"{model.name or 'unnamed model'} (local folder)"
    return f"{model.name or 'model'} version {model.version}"


def explain(
    model: Model, features: pl.DataFrame, candidates: pl.DataFrame, config: ScoreConfig
) -> pl.DataFrame:
    """Candidates with reasons (top contributions) and the feature values they were scored on."""
    names = list(model.feature_names)
    rows = candidates.select("account_id").join(
        features.select("account_id", *names), on="account_id", how="left", maintain_order="left"
    )
    settings = feature_config_of(getattr(model, "info", {}).get("features"))
    parts = []
    for start in range(0, rows.height, config.chunk_size):
        part = rows.slice(start, config.chunk_size)
        contributions = model.contributions(part.select(names))
        parts.append(top_reasons(contributions, names, part, config.n_reasons, settings))
    reasons = pl.concat(parts) if parts else pl.Series("reasons", [], dtype=REASONS)
    captured = rows.select(pl.struct(names).alias("feature_values"))
    return candidates.with_columns(reasons.alias("reasons"), captured["feature_values"])


def stamp(candidates: pl.DataFrame, model: Model, as_of: datetime) -> pl.DataFrame:
    """Model name and version and the snapshot time on every row (a list is self-describing)."""
    return candidates.with_columns(
        model=pl.lit(model.name, dtype=pl.String),
        model_version=pl.lit(model.version, dtype=pl.String),
        as_of=pl.lit(as_of, dtype=pl.Datetime("us", "UTC")),
    )


def csv_view(candidates: pl.DataFrame, n_reasons: int, values: bool = False) -> pl.DataFrame:
    """Candidates for people: reasons flattened; the feature values (they are in the Parquet
    file) only when asked for, as one JSON column at the end."""
    flat = flatten_reasons(candidates.drop("feature_values"), n_reasons)
    flat = flat.with_columns(pl.col("score").round(6))
    if not values:
        return flat
    encoded = candidates["feature_values"].struct.json_encode().alias("feature_values_json")
    return flat.with_columns(encoded)


def links_for(
    rings: pl.DataFrame,
    events: pl.LazyFrame | pl.DataFrame | None,
    edges: pl.DataFrame | None,
) -> dict[str, pl.DataFrame]:
    """The drawing links of each ring, reading the (large) events table once: only the
    members' rows and the identifier and target columns."""
    if events is None or rings.height == 0:  # drawn without identifiers
        empty = pl.DataFrame(
            schema={"account_id": pl.String, "kind": pl.String, "other": pl.String}
        )
        return {rid: empty for rid in rings["ring_id"].to_list()}
    members = sorted({m for ms in rings["members"].to_list() for m in ms})
    inside = pl.Series(members, dtype=pl.String).implode()
    events = (
        events.lazy()
        .filter(pl.col("account_id").is_in(inside))
        .select("account_id", "target_id", *IDENTIFIER_KINDS)
        .collect()
    )
    if edges is None:
        edges = pl.DataFrame(schema={"src": pl.String, "dst": pl.String, "relation": pl.String})
    edges = edges.filter(pl.col("src").is_in(inside))
    out = {}
    for ring in rings.iter_rows(named=True):
        out[ring["ring_id"]] = ring_links(
            events,
            edges,
            list(ring["members"]),
            list(ring.get("identifiers") or []),
            list(ring.get("lockstep_targets") or []),
        )
    return out


def json_summary(
    folder: Path,
    as_of: datetime,
    model: Model,
    scored: int,
    selection: Selection,
    rings: int,
    changes: dict[str, int],
    seconds: float,
) -> dict:
    """The one-line summary printed with --json."""
    c = selection.candidates
    return {
        "status": "ok",
        "exit_code": 0,
        "out": str(folder),
        "as_of": as_of.isoformat(),
        "model": model.name,
        "model_version": model.version,
        "accounts_scored": scored,
        "candidates": c.height,
        **{a: int((c["action"] == a).sum()) for a in ACTIONS},
        "rings": rings,
        "expected_precision": selection.summary()["expected_precision"],
        "cut": selection.cut,
        **changes,
        "seconds": round(seconds, 3),
    }


@dataclass(frozen=True)
class Listed:
    """What one scoring run decided: the ranking, the cut, the explained list, the rings in
    it, and the changes since the previous list (`previous`: its folder, if any)."""

    ranked: pl.DataFrame
    selection: Selection
    candidates: pl.DataFrame
    rings: pl.DataFrame
    previous: Path | None
    changes: pl.DataFrame
    warnings: tuple[str, ...] = ()  # damaged earlier lists skipped

    def counts(self) -> dict[str, int]:
        """Accounts scored, listed per action, rings and changes (manifest and summary)."""
        c = self.candidates
        return {
            "accounts_scored": self.ranked.height,
            "candidates": c.height,
            **{a: int((c["action"] == a).sum()) for a in ACTIONS},
            "rings": self.rings.height,
            **change_counts(self.changes),
        }


def build_list(
    features: pl.DataFrame,
    model: Model,
    as_of: datetime,
    out: Path,
    config: ScoreConfig,
    membership: pl.DataFrame | None,
    rings: pl.DataFrame | None,
    timings: Timings,
    say: Say = silent,
    advance: Callable[[int], None] | None = None,
    engine: Engine = Engine(),
) -> Listed:
    """Step 1: score in chunks (as a map over account buckets when `engine` is a cluster),
    rank, cut, explain the listed accounts, find their rings and compare with the latest
    earlier list under `out`."""
    with timings.step("score"):
        say(f"scoring {features.height:,} accounts")
        ranked = rank_scores(score_on(engine, model, features, config.chunk_size, advance))
    with timings.step("select"):
        selection = select_candidates(ranked, membership, config)
    with timings.step("explain"):
        say(f"explaining {selection.candidates.height:,} candidates")
        candidates = stamp(explain(model, features, selection.candidates, config), model, as_of)
    with timings.step("rings"):
        listed_rings = rings_among(candidates, rings)
    with timings.step("diff"):
        previous, before, skipped = read_previous(out, as_of.date())
        for note in skipped:
            say(f"warning: {note}")
        try:
            cleared = cleared_on(previous)  # by a reviewer on the previous list
        except sqlite3.DatabaseError as error:
            say(f"warning: {previous}/decisions.sqlite unreadable ({error}); clearances not shown")
            cleared = set()
        changes = diff_lists(before, candidates, ranked, cleared, config.watch_threshold)
    return Listed(ranked, selection, candidates, listed_rings, previous, changes, tuple(skipped))


def write_tables(
    folder: Path,
    listed: Listed,
    config: ScoreConfig,
    features: pl.DataFrame | None = None,
    names: list[str] = (),
) -> None:
    """Step 2: candidates (Parquet and CSV), every score, the base's feature percentiles, the
    listed rings, the changes."""
    listed.candidates.write_parquet(folder / "candidates.parquet")
    view = csv_view(listed.candidates, config.n_reasons, config.csv_feature_values)
    output.write_csv(view, folder / "candidates.csv")
    listed.ranked.write_parquet(folder / "scores.parquet")
    if features is not None:  # the base's percentiles, for the review app
        feature_quantiles(features, list(names)).write_parquet(folder / QUANTILES)
    listed.rings.write_parquet(folder / "rings.parquet")
    output.write_csv(listed.changes, folder / "changes.csv")


def write_report(
    folder: Path,
    listed: Listed,
    model: Model,
    as_of: datetime,
    config: ScoreConfig,
    events: pl.LazyFrame | pl.DataFrame | None,
    edges: pl.DataFrame | None,
) -> None:
    """Step 3: report.html, with the large rings drawn from their events and edges."""
    data = ReportInputs(
        as_of=as_of,
        model=model_label(model),
        accounts_scored=listed.ranked.height,
        selection=listed.selection,
        config=config,
        candidates=listed.candidates,
        rings=listed.rings,
        changes=listed.changes,
        previous=listed.previous.name if listed.previous else None,
        scores=listed.ranked["score"].to_numpy(),
        curve=expected_precision_curve(listed.ranked, curve_length(listed.selection)),
        created_at=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    )
    links = links_for(drawn_rings(listed.rings, config.max_ring_sections), events, edges)
    data = ReportInputs(**{**data.__dict__, "ring_links": links})
    (folder / "report.html").write_text(render_report(data), encoding="utf-8")


def manifest_of(
    folder: Path,
    listed: Listed,
    model: Model,
    as_of: datetime,
    config: ScoreConfig,
    inputs: dict | None,
    timings: Timings,
) -> dict:
    """Step 4: what the run read, with which model and settings, what it wrote, how long."""
    info = getattr(model, "info", {})
    return build_manifest(
        folder,
        as_of=as_of.isoformat(),
        inputs=inputs or {},
        model={
            "name": model.name,
            "version": model.version,
            "features": len(model.feature_names),
            "predictor": "compiled" if getattr(model, "compiled", None) else "lightgbm",
            "info": {k: v for k, v in info.items() if k in ("run_id", "aliases")},
        },
        settings=config.to_dict(),
        selection=listed.selection.summary(),
        counts=listed.counts(),
        previous=listed.previous.name if listed.previous else None,
        timings=timings.to_dict(),
        score_distribution=quantiles(listed.ranked["score"].to_numpy()),
    )


def score_base(
    features: pl.DataFrame,
    model: Model,
    as_of: datetime,
    out: Path,
    config: ScoreConfig | None = None,
    membership: pl.DataFrame | None = None,
    rings: pl.DataFrame | None = None,
    events: pl.LazyFrame | pl.DataFrame | None = None,
    edges: pl.DataFrame | None = None,
    inputs: dict | None = None,
    overwrite: bool = False,
    say: Say = silent,
    prior_timings: dict[str, float] | None = None,
    advance: Callable[[int], None] | None = None,
    engine: Engine = Engine(),
) -> ScoreResult:
    """Score `features` (account_id + the model's columns) and write `out/<as-of date>/`.

    `membership` (account_id, ring_id, ring_score, ring_size) and `rings` (features.graph
    Rings frames) group the list by ring; `events`/`edges` (the Dataset's) are read only to
    draw the large rings; `inputs` (e.g. source folder and fingerprint) and `prior_timings`
    (seconds spent before, e.g. loading and feature building) go to the manifest; `advance`
    is called with the number of accounts of each scored chunk (progress bars); `engine`
    scores as a map over account buckets when it is a cluster (the list is built here).
    Raises OutputExists / LockHeld / UserError; a failure leaves `out` as it was.
    """
    config = (config or ScoreConfig()).check()
    timings = Timings(prior_timings)
    name = output_name(as_of)
    with output.batch_output(Path(out), name, overwrite) as folder:
        args = (membership, rings, timings, say, advance, engine)
        listed = build_list(features, model, as_of, Path(out), config, *args)
        with timings.step("write"):
            write_tables(folder, listed, config, features, list(model.feature_names))
            carry_decisions(Path(out) / name, folder)  # a rescored list keeps its review
        output.checkpoint("written")
        with timings.step("report"):
            say("drawing the report")
            write_report(folder, listed, model, as_of, config, events, edges)
        inputs = {**(inputs or {})}
        inputs["warnings"] = [*inputs.get("warnings", []), *listed.warnings]
        write_manifest(folder, manifest_of(folder, listed, model, as_of, config, inputs, timings))
    final = Path(out) / name
    counts = change_counts(listed.changes)
    summary = json_summary(
        final, as_of, model, listed.ranked.height, listed.selection, listed.rings.height,
        counts, timings.total(),
    )  # fmt: skip
    return ScoreResult(final, {**summary, "warnings": inputs["warnings"]})


def quantiles(scores: np.ndarray) -> dict[str, float]:
    """A few quantiles of the score distribution (for drift checks between weeks)."""
    if scores.size == 0:
        return {}
    qs = (0.5, 0.9, 0.99, 0.999)
    return {f"q{q:g}": round(float(v), 6) for q, v in zip(qs, np.quantile(scores, qs), strict=True)}
