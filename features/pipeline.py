"""The feature stage wired in one place: Dataset → behaviour, graphs, rings, anomaly score → one
feature table.

`build_feature_table` is pure (frames in, frames out); `feature_table` adds the on-disk cache
keyed by a fingerprint of the inputs, snapshot and settings, so `train` and `score` reuse a
table when nothing it depends on changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from common.atomic import atomic_dir
from common.progress import Say, silent
from features.anomaly import with_anomaly_score
from features.behaviour import build_behaviour_features
from features.config import FeatureConfig
from features.execution import Engine
from features.graph import Graphs, build_graph_features, build_graphs, find_rings
from features.graph.rings import Rings
from features.io.contract import Dataset
from features.io.fingerprint import cache_key, file_sha256, fingerprint_inputs


@dataclass(frozen=True)
class FeatureTable:
    """One row per account of every feature, with the rings and graphs it was built from."""

    frame: pl.DataFrame  # account_id + numeric features (+ `category` as text, coded later)
    rings: Rings
    graphs: Graphs | None  # None when read back from the cache (rebuild with build_graphs)
    inputs_sha256: str = ""


def account_attributes(ds: Dataset) -> pl.DataFrame:
    """Features taken from the accounts table as they are."""
    return ds.accounts.select(
        "account_id",
        "category",
        pl.col("verified").cast(pl.Int8),
        "followers",
        *ds.attributes,
    ).sort("account_id")


def side_by_side(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Per-account frames as one, in account_id order: the first frame's rows with the others'
    columns. When all hold the same accounts in the same order (every stage sorts by
    account_id) the columns are put side by side without a copy, which at 1 M accounts saves
    a 2 GiB join at the stage's peak; otherwise they are left-joined on account_id."""
    ids = frames[0]["account_id"]
    if ids.is_sorted() and all(frame["account_id"].equals(ids) for frame in frames[1:]):
        rest = [frame.drop("account_id") for frame in frames[1:]]
        return pl.concat([frames[0], *rest], how="horizontal")
    out = frames[0].lazy()
    for frame in frames[1:]:
        out = out.join(frame.lazy(), on="account_id", how="left")
    return out.sort("account_id").collect()


def behaviour_stage(ds: Dataset, config: FeatureConfig, engine: Engine | None) -> pl.DataFrame:
    """Behavioural features in this process, or as map-reduce tasks over buckets on a cluster."""
    if engine is None or not engine.distributed:
        return build_behaviour_features(ds.accounts, ds.events, ds.as_of, config.behaviour)
    from features.behaviour.mapreduce import build_behaviour_on

    return build_behaviour_on(engine, ds.accounts, ds.events, ds.as_of, ds.source, config.behaviour)


def usages_from(engine: Engine | None) -> dict[str, pl.DataFrame] | None:
    """The identifier uses the cluster's behaviour tasks gathered (None in one process)."""
    if engine is None or not engine.distributed:
        return None
    from features.behaviour.mapreduce import identifier_usages

    return identifier_usages(engine)


def build_feature_table(
    ds: Dataset,
    config: FeatureConfig = FeatureConfig(),
    say: Say = silent,
    engine: Engine | None = None,
) -> FeatureTable:
    """Every feature of every account at the snapshot, plus the rings (behaviour on `engine`
    when it is a cluster; the graph stage in this process)."""
    say(
        "behavioural features"
        + (" (Dask tasks over buckets)" if engine and engine.distributed else "")
    )
    behaviour = behaviour_stage(ds, config, engine)
    say("relation, shared-identifier and lockstep graphs")
    graphs = build_graphs(ds, config.graph, usages_from(engine))
    say("rings (FRAUDAR peeling, ring verdict)")
    # the verdict sees every known label (the ring list is a scoring-time product); the
    # account model's ring features read only the label-free candidates (ring_features)
    rings = find_rings(ds, graphs, config.graph, labels=ds.labels)
    say("graph features")
    graph = build_graph_features(ds, graphs, behaviour, config.graph, rings=rings)
    frame = side_by_side([account_attributes(ds), behaviour, graph])
    say("anomaly score (isolation forest, no labels)")
    frame = with_anomaly_score(frame, config.anomaly)
    return FeatureTable(frame=frame, rings=rings, graphs=graphs)


CACHE_FILES = ("features", "rings", "membership", "components", "candidates")


def save_feature_table(table: FeatureTable, folder: Path, meta: dict) -> Path:
    """Write the table and its rings as Parquet files into `folder`, atomically."""
    with atomic_dir(folder, overwrite=True) as tmp:
        table.frame.write_parquet(tmp / "features.parquet")
        table.rings.rings.write_parquet(tmp / "rings.parquet")
        table.rings.membership.write_parquet(tmp / "membership.parquet")
        table.rings.components.write_parquet(tmp / "components.parquet")
        candidates = table.rings.candidates
        (candidates if candidates is not None else pl.DataFrame()).write_parquet(
            tmp / "candidates.parquet"
        )
        files = {f"{n}.parquet": file_sha256(tmp / f"{n}.parquet") for n in CACHE_FILES}
        (tmp / "meta.json").write_text(json.dumps({**meta, "files": files}, indent=2, default=str))
    return folder


def load_feature_table(folder: Path) -> FeatureTable:
    """Read back a table written by save_feature_table (graphs are not stored)."""
    meta = json.loads((folder / "meta.json").read_text())
    for name, digest in meta.get("files", {}).items():
        if file_sha256(folder / name) != digest:
            raise ValueError(f"{name} does not match its sha256")
    frames = {name: pl.read_parquet(folder / f"{name}.parquet") for name in CACHE_FILES}
    rings = Rings(frames["rings"], frames["membership"], frames["components"], frames["candidates"])
    return FeatureTable(frames["features"], rings, None, meta.get("inputs_sha256", ""))


def feature_table(
    ds: Dataset,
    cache_root: Path | None,
    config: FeatureConfig = FeatureConfig(),
    say: Say = silent,
    engine: Engine | None = None,
) -> FeatureTable:
    """The feature table of `ds`, reused from `cache_root` when inputs and settings match."""
    inputs = fingerprint_inputs(ds.source)
    if cache_root is None:
        table = build_feature_table(ds, config, say, engine)
        return FeatureTable(table.frame, table.rings, table.graphs, inputs)
    folder = Path(cache_root) / cache_key(inputs, ds.as_of, config)
    if (folder / "meta.json").exists():
        try:
            table = load_feature_table(folder)
            say(f"reusing the feature table in {folder}")
            return table
        except (OSError, ValueError, KeyError, pl.exceptions.PolarsError) as error:
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            say(f"warning: feature cache entry {folder} is damaged ({first}); rebuilding it")
    table = build_feature_table(ds, config, say, engine)
    table = FeatureTable(table.frame, table.rings, table.graphs, inputs)
    meta = {"inputs_sha256": inputs, "as_of": ds.as_of, "source": ds.source, "config": config}
    save_feature_table(table, folder, meta)
    return table
