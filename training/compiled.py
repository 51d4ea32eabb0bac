"""Compiled scoring: the model's boosters as native code (treelite 4.8 + tl2cgen 1.0, gcc).

A booster compiled by tl2cgen gives exactly Booster.predict's raw scores (same float64
comparisons against the same float64 thresholds; tested) at a fraction of the cost, except on
values whose low 32 bits are all ones, which tl2cgen reads as missing: rows holding one are
found with one vectorised test and scored by LightGBM instead (see misread_rows). Compiling
takes seconds, so it happens once per model: the shared libraries go to a folder named by a
sha256 of the boosters' text (`cache_root/<digest>/`), with `compiled.json` recording each
library's sha256 and size; a library is loaded only after its bytes match that record (native
code is never run unverified) and a damaged one is compiled again. When no compiler works the
caller keeps LightGBM's own predict (`compile_model` returns None and says why).

Inputs stay float64: a float32 copy would halve the chunk's matrix, but rounding a feature to
float32 can move it across a split threshold learned on float64 values, and scores must equal
Booster.predict's.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common.progress import Say, silent

MANIFEST = "compiled.json"
TOOLCHAIN = "gcc"
MAIN = "main"
COMPILERS = ("treelite", "tl2cgen")  # their versions name a compiled folder


def misread_rows(x: np.ndarray) -> np.ndarray:
    """Rows holding a value the compiled code would take for missing: tl2cgen keeps a value
    and a missing flag (int -1) in one union, so a float64 whose low 32 bits are all ones
    (e.g. 8.25 minus one ulp) reads as missing there. Such rows go to LightGBM."""
    low = x.view(np.uint64) & np.uint64(0xFFFFFFFF)
    return np.flatnonzero((low == np.uint64(0xFFFFFFFF)).any(axis=1))


@dataclass
class CompiledBoosters:
    """Native predictors of the overall booster and each reason head, with the LightGBM
    boosters for the rare rows the native code cannot read exactly (see misread_rows)."""

    main: Any  # tl2cgen.Predictor
    heads: dict[str, Any]
    folder: Path
    boosters: dict[str, Any]  # lightgbm.Booster by name: main, head-<reason>

    def raw_scores(self, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Raw log-odds of the overall booster and of every head over one float64 matrix."""
        import tl2cgen

        x = np.ascontiguousarray(x, dtype=np.float64)
        matrix = tl2cgen.DMatrix(x)
        raw = self.main.predict(matrix, pred_margin=True).reshape(-1)
        heads = {r: p.predict(matrix, pred_margin=True).reshape(-1) for r, p in self.heads.items()}
        rows = misread_rows(x)
        if rows.size:
            part = x[rows]
            raw[rows] = self.boosters[MAIN].predict(part, raw_score=True)
            for reason, values in heads.items():
                values[rows] = self.boosters[f"head-{reason}"].predict(part, raw_score=True)
        return raw, heads


def boosters_of(model: Any) -> dict[str, Any]:
    """The LightGBM boosters of a model by name: the overall one ("main"), head-<reason>."""
    return {MAIN: model.booster} | {f"head-{r}": h.booster for r, h in sorted(model.heads.items())}


def model_digest(texts: dict[str, str]) -> str:
    """What a compiled folder is named by: the boosters, the compiler stack and the machine."""
    from training.integrity import library_versions

    found = library_versions(COMPILERS)
    digest = hashlib.sha256()
    stack = f"treelite {found['treelite']} tl2cgen {found['tl2cgen']} {platform.machine()}"
    digest.update(stack.encode())
    for name, text in sorted(texts.items()):
        digest.update(f"\0{name}\0".encode() + text.encode())
    return digest.hexdigest()[:24]


def _sha256(path: Path) -> str:
    """sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _library(name: str) -> str:
    """The shared library file of one booster."""
    return f"{name}.so"


def compile_boosters(texts: dict[str, str], folder: Path, toolchain: str = TOOLCHAIN) -> None:
    """Compile every booster into `folder` (written beside it, then renamed into place)."""
    import lightgbm as lgb
    import tl2cgen
    import treelite

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        files = {}
        for name, text in texts.items():
            tree_model = treelite.frontend.from_lightgbm(lgb.Booster(model_str=text))
            library = tmp / _library(name)
            params = {"parallel_comp": max(2, os.cpu_count() or 1)}
            tl2cgen.export_lib(tree_model, toolchain=toolchain, libpath=library, params=params)
            files[library.name] = {"sha256": _sha256(library), "bytes": library.stat().st_size}
        (tmp / MANIFEST).write_text(json.dumps({"files": files}, indent=1))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_compiled(folder: Path, names: list[str]) -> dict[str, Any]:
    """The native predictors in `folder`, each library checked against compiled.json first;
    raises ValueError (or OSError) when a library is missing or its bytes changed."""
    import tl2cgen

    files = json.loads((folder / MANIFEST).read_text())["files"]
    predictors = {}
    for name in names:
        library = folder / _library(name)
        expected = files.get(library.name) or {}
        if library.stat().st_size != expected.get("bytes") or _sha256(library) != expected.get(
            "sha256"
        ):
            raise ValueError(f"{library} does not match its recorded sha256")
        predictors[name] = tl2cgen.Predictor(library)  # OpenMP's current thread limit
    return predictors


def compile_model(
    model: Any, cache_root: Path, say: Say = silent, toolchain: str = TOOLCHAIN
) -> CompiledBoosters | None:
    """The model's compiled predictors, from `cache_root` or compiled now; None (said) when
    compiling fails, e.g. without a C compiler: LightGBM then scores as before."""
    boosters = boosters_of(model)
    texts = {name: booster.model_to_string() for name, booster in boosters.items()}
    folder = Path(cache_root) / model_digest(texts)
    try:
        if (folder / MANIFEST).exists():
            try:
                return _wrap(load_compiled(folder, list(texts)), folder, boosters)
            except (OSError, ValueError, KeyError) as error:
                say(f"warning: compiled model in {folder} is damaged ({error}); compiling again")
        say("compiling the model to native code (once per model version)")
        compile_boosters(texts, folder, toolchain)
        return _wrap(load_compiled(folder, list(texts)), folder, boosters)
    except Exception as error:  # any failure to compile or load: LightGBM still scores
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        say(f"could not compile the model ({first[:200]}); scoring with LightGBM")
        return None


def _wrap(predictors: dict[str, Any], folder: Path, boosters: dict[str, Any]) -> CompiledBoosters:
    """CompiledBoosters from predictors named main / head-<reason>."""
    heads = {name.removeprefix("head-"): p for name, p in predictors.items() if name != MAIN}
    return CompiledBoosters(predictors[MAIN], heads, folder, boosters)
