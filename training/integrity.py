"""Model folders that prove they are what was saved: checksums, a self-check and booster sanity.

`seal` adds to a model's metadata the sha256 and size of every file of the folder, the library
versions it was saved with, and a digest of the metadata itself; `verified_text` returns a
file's text only when its bytes match what was sealed, so LightGBM (or a compiled predictor)
is never handed a file that failed verification. `check_booster_text` reads the booster's
header and split features before LightGBM parses it: a model whose trees name features it does
not have, or whose feature list differs from the metadata's, is refused.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from pathlib import Path

from common.errors import UserError
from common.versions import package_versions

META = "model.json"
DIGEST_KEY = "sha256"
FILES_KEY = "files"
VERSIONED = ("lightgbm", "polars", "numpy", "ringwatch")
SPLIT_FEATURE = re.compile(rb"^split_feature=(.*)$", re.MULTILINE)


class ModelIntegrityError(UserError):
    """A model folder that does not match what was saved: refused before anything parses it."""


def file_digest(data: bytes) -> str:
    """The sha256 of `data` as hex."""
    return hashlib.sha256(data).hexdigest()


def canonical(meta: dict) -> bytes:
    """The metadata's bytes for its digest: sorted keys, no digest, no whitespace choices."""
    body = {k: v for k, v in meta.items() if k != DIGEST_KEY}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def library_versions(names: tuple[str, ...] = VERSIONED) -> dict[str, str]:
    """The versions of Python and of the libraries a saved model depends on (`names`)."""
    return {"python": platform.python_version(), **package_versions(names)}


def seal(folder: Path, meta: dict) -> dict:
    """`meta` with the checksum of every file in `folder`, library versions and its own digest."""
    files = {
        p.name: {"sha256": file_digest(p.read_bytes()), "bytes": p.stat().st_size}
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != META
    }
    sealed = {**meta, FILES_KEY: files, "versions": library_versions()}
    return {**sealed, DIGEST_KEY: file_digest(canonical(sealed))}


def read_meta(folder: Path) -> dict:
    """The verified metadata of a model folder (its own digest checked)."""
    path = folder / META
    try:
        meta = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise UserError(f"{folder}: not a ringwatch model folder (no {META})") from None
    except (OSError, ValueError) as error:
        raise ModelIntegrityError(f"{path}: cannot be read as JSON ({error})") from None
    if not isinstance(meta, dict) or DIGEST_KEY not in meta or FILES_KEY not in meta:
        raise ModelIntegrityError(
            f"{path}: no checksums (saved by an older ringwatch or edited by hand); "
            "retrain the model"
        )
    if file_digest(canonical(meta)) != meta[DIGEST_KEY]:
        raise ModelIntegrityError(f"{path}: contents do not match its sha256 (edited or damaged)")
    return meta


def verified_bytes(folder: Path, meta: dict, name: str) -> bytes:
    """The bytes of `folder/name`, only if they match the size and sha256 sealed in `meta`."""
    expected = meta[FILES_KEY].get(name)
    path = folder / name
    if expected is None:
        raise ModelIntegrityError(f"{path}: not listed among the model's files")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelIntegrityError(f"{path}: missing from the model folder") from None
    if len(data) != expected.get("bytes") or file_digest(data) != expected.get("sha256"):
        raise ModelIntegrityError(
            f"{path}: sha256 does not match the one saved with the model (edited, truncated "
            "or damaged); refusing to load it"
        )
    return data


def check_versions(folder: Path, meta: dict) -> None:
    """Refuse a model saved with another major version of LightGBM (its text format may differ)."""
    saved = meta.get("versions", {}).get("lightgbm", "unknown")
    here = library_versions()["lightgbm"]
    if saved.split(".")[0] != here.split(".")[0]:
        raise ModelIntegrityError(
            f"{folder}: saved with LightGBM {saved}, this is LightGBM {here}; retrain the model"
        )


def header_value(text: bytes, key: str, file: str) -> str:
    """One `key=value` line of a LightGBM model header."""
    match = re.search(rb"^" + re.escape(key.encode()) + rb"=(.*)$", text, re.MULTILINE)
    if match is None:
        raise ModelIntegrityError(f"{file}: not a LightGBM model (no {key} line)")
    return match.group(1).decode("utf-8", "replace").strip()


def check_booster_text(text: bytes, features: list[str], file: str) -> None:
    """Refuse a booster whose feature list differs from `features` or whose splits name a
    feature index it does not have (LightGBM itself may crash on such a file)."""
    names = header_value(text, "feature_names", file).split(" ")
    if names != list(features):
        raise ModelIntegrityError(
            f"{file}: its feature list differs from the model's metadata "
            f"({len(names)} vs {len(features)} features); refusing to load it"
        )
    try:
        top = int(header_value(text, "max_feature_idx", file))
        splits = [[int(v) for v in m.group(1).split()] for m in SPLIT_FEATURE.finditer(text)]
    except ValueError:
        raise ModelIntegrityError(f"{file}: not a readable LightGBM model") from None
    if top != len(features) - 1:
        raise ModelIntegrityError(f"{file}: max_feature_idx {top} for {len(features)} features")
    for used in splits:
        if used and (max(used) > top or min(used) < 0):
            raise ModelIntegrityError(
                f"{file}: a tree splits on feature index {max(used)} of {len(features)}; "
                "refusing to load it"
            )
