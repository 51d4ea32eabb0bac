"""InstaFake (Instagram fake accounts, fake-v1.0): eight profile counts and flags, no graph.

Sources: `fakeAccountData.json` and `realAccountData.json`, each a JSON list of flat objects
(userMediaCount, userFollowerCount, userFollowingCount, userHasProfilPic, userIsPrivate,
userBiographyLength, usernameLength, usernameDigitCount, isFake).

Mapping: one account per object, ids `ig00000..` in a fixed shuffled order (so that the id
carries no trace of which file a profile came from); userFollowerCount → the contract's
`followers`; the rest → attributes with plain names (`media_count`, `following_count`,
`biography_length`, `username_length`, `username_digit_count`, booleans `has_profile_pic`,
`is_private`); isFake → label (1 → reason `fake`). No ids, times or relations in the data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from experiments.importers.common import malformed, padded_ids, read_or_fail, source_file

SOURCES = ("fakeAccountData.json", "realAccountData.json")
FIELDS = {
    "userFollowerCount": ("followers", pl.Int64()),
    "userFollowingCount": ("following_count", pl.Int64()),
    "userMediaCount": ("media_count", pl.Int64()),
    "userBiographyLength": ("biography_length", pl.Int64()),
    "usernameLength": ("username_length", pl.Int64()),
    "usernameDigitCount": ("username_digit_count", pl.Int64()),
    "userHasProfilPic": ("has_profile_pic", pl.Boolean()),
    "userIsPrivate": ("is_private", pl.Boolean()),
    "isFake": ("label", pl.Int8()),
}
ID_SEED = 20191007  # fixed shuffle of ids: the import is reproducible
NOTES = ("no timestamps in this dataset: commands read it as of today unless --as-of is given",)


def _records(path: Path) -> pl.DataFrame:
    """One JSON file as a frame with the renamed, typed fields; a UserError if it is not that."""
    data = read_or_fail(path, lambda p: json.loads(p.read_text()), "JSON")
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise malformed(path, "expected a JSON list of objects")
    for i, record in enumerate(data):
        missing = [f for f in FIELDS if f not in record]
        if missing:
            raise malformed(path, f"object {i} has no field '{missing[0]}'")
    columns = {}
    for field, (name, dtype) in FIELDS.items():
        values = [record[field] for record in data]
        series = pl.Series(name, values, strict=False)
        if not (series.dtype.is_numeric() or series.dtype == pl.Boolean) or series.null_count():
            bad = [v for v in values if not isinstance(v, int | float | bool)][:3]
            raise malformed(path, f"field '{field}' holds values that are not numbers (e.g. {bad})")
        columns[name] = series.cast(pl.Int64) != 0 if dtype == pl.Boolean() else series.cast(dtype)
    frame = pl.DataFrame(columns)
    if not frame["label"].is_in([0, 1]).all():
        raise malformed(path, "field 'isFake' holds values other than 0 and 1")
    return frame


def read(source_dir: Path) -> dict[str, pl.DataFrame]:
    """The InstaFake folder as contract tables (accounts, labels)."""
    frames = [_records(source_file(source_dir, name)) for name in SOURCES]
    profiles = pl.concat(frames)
    order = np.random.default_rng(ID_SEED).permutation(profiles.height)
    profiles = profiles.with_columns(padded_ids("ig", order, 5)).sort("account_id")
    accounts = profiles.drop("label")
    labels = profiles.select(
        "account_id", "label", reason=pl.when(pl.col("label") == 1).then(pl.lit("fake"))
    )
    return {"accounts": accounts, "labels": labels}
