"""What `ringwatch score` and `ringwatch feedback` do, so their CLI bodies stay a few lines.

Progress goes to stderr; stdout holds only the result (one JSON line with --json). With
--json a user error is also reported as one JSON line on stdout before the process exits with
its code (common.errors.ExitCode).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from common.errors import UserError
from common.progress import Say, silent
from detection.config import ScoreConfig

DEFAULT_MODEL = "models:/ringwatch@champion"


@contextmanager
def json_errors(as_json: bool) -> Iterator[None]:
    """With --json, report a user error as one JSON line on stdout too, then re-raise it."""
    try:
        yield
    except UserError as error:
        if as_json:
            code = int(error.exit_code)
            print(json.dumps({"status": "error", "exit_code": code, "error": str(error)}))
        raise


def with_label_features(frame, model, ds, graphs):  # -> pl.DataFrame
    """The feature table with the model's label-derived features from every known label."""
    if not model.label_features:
        return frame

    from features.config import FeatureConfig
    from features.graph import build_graphs
    from features.io.load import labels_known_at
    from training.oof import scoring_label_features

    graphs = graphs if graphs is not None else build_graphs(ds, FeatureConfig().graph)
    ids = frame["account_id"].sort()
    known = labels_known_at(ds)  # a backdated run must not see labels decided after it
    extra = scoring_label_features(graphs, ids, known)
    return frame.drop(model.label_features, strict=False).join(extra, on="account_id", how="left")


def run_score(
    data: Path,
    out: Path,
    as_of: datetime | None = None,
    model_uri: str = DEFAULT_MODEL,
    capacity: int | None = None,
    min_precision: float | None = None,
    overwrite: bool = False,
    workspace: Path = Path("ringwatch-demo"),
    cache_root: Path | None = None,
    config: ScoreConfig | None = None,
    say: Say = silent,
) -> dict:
    """Load the data and the model, build the features, score, write; return the summary."""
    from detection import output
    from detection.console import bar, note_kernels
    from detection.pipeline import output_name, score_base
    from features.io.load import load_dataset, normalise_as_of
    from features.pipeline import feature_table
    from training.registry import load_model

    config = (config or ScoreConfig()).with_cut(capacity, min_precision)
    if as_of is not None:  # fail before the expensive work
        output.check_free(out, output_name(normalise_as_of(as_of)), overwrite)
    spent: dict[str, float] = {}
    start = time.perf_counter()
    say(f"loading {data}")
    ds = load_dataset(data, as_of)
    output.check_free(out, output_name(ds.as_of), overwrite)
    spent["load"] = time.perf_counter() - start
    say(f"loading model {model_uri}")
    model = load_model(model_uri, workspace)
    spent["model"] = time.perf_counter() - start - spent["load"]
    note_kernels(say)
    table = feature_table(ds, cache_root, say=say)
    frame = with_label_features(table.frame, model, ds, table.graphs)
    spent["features"] = time.perf_counter() - start - spent["load"] - spent["model"]
    inputs = {
        "source": str(Path(data).resolve()),
        "fingerprint": table.inputs_sha256,
        "accounts": ds.accounts.height,
        "labels": ds.labels.height,
        "warnings": list(ds.warnings),
    }
    with bar("scoring", frame.height) as progress:
        result = score_base(
            frame,
            model,
            ds.as_of,
            out,
            config,
            membership=table.rings.membership,
            rings=table.rings.rings,
            events=ds.events,
            edges=ds.edges,
            inputs=inputs,
            overwrite=overwrite,
            say=say,
            prior_timings=spent,
            advance=progress.advance,
        )
    return {**result.summary, "seconds": round(time.perf_counter() - start, 3)}


def run_feedback(decisions: Path, data: Path) -> dict:
    """Merge reviewers' decisions into the labels of `data`; return what happened."""
    from detection.feedback import merge_feedback

    return merge_feedback(decisions, data).to_dict()
