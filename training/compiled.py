"""Compiled scoring: the model's boosters as native code (treelite 4.8 + tl2cgen 1.0, gcc).

A booster compiled by tl2cgen gives exactly Booster.predict's raw scores (same float64
comparisons against the same float64 thresholds; tested) at a fraction of the cost. Compiling
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


@dataclass
class CompiledBoosters:
    """Native predictors of the overall booster and each reason head."""

    main: Any  # tl2cgen.Predictor
    heads: dict[str, Any]
    folder: Path

    def raw_scores(self, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Raw log-odds of the overall booster and of every head over one float64 matrix."""
        import tl2cgen

        matrix = tl2cgen.DMatrix(np.ascontiguousarray(x, dtype=np.float64))
        raw = self.main.predict(matrix, pred_margin=True).reshape(-1)
        heads = {r: p.predict(matrix, pred_margin=True).reshape(-1) for r, p in self.heads.items()}
        return raw, heads


def booster_texts(model: Any) -> dict[str, str]:
    """The LightGBM text of the overall booster ("main") and of each head, by name."""
    texts = {MAIN: model.booster.model_to_string()}
    texts |= {f"head-{r}": h.booster.model_to_string() for r, h in sorted(model.heads.items())}
    return texts


def model_digest(texts: dict[str, str]) -> str:
    """What a compiled folder is named by: the boosters, the compiler stack and the machine."""
    import tl2cgen
    import treelite

    digest = hashlib.sha256()
    stack = f"treelite {treelite.__version__} tl2cgen {tl2cgen.__version__} {platform.machine()}"
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
        predictors[name] = tl2cgen.Predictor(library, nthread=os.cpu_count() or 1)
    return predictors


def compile_model(
    model: Any, cache_root: Path, say: Say = silent, toolchain: str = TOOLCHAIN
) -> CompiledBoosters | None:
    """The model's compiled predictors, from `cache_root` or compiled now; None (said) when
    compiling fails, e.g. without a C compiler: LightGBM then scores as before."""
    texts = booster_texts(model)
    folder = Path(cache_root) / model_digest(texts)
    names = list(texts)
    try:
        if (folder / MANIFEST).exists():
            try:
                return _wrap(load_compiled(folder, names), folder)
            except (OSError, ValueError, KeyError) as error:
                say(f"warning: compiled model in {folder} is damaged ({error}); compiling again")
        say("compiling the model to native code (once per model version)")
        compile_boosters(texts, folder, toolchain)
        return _wrap(load_compiled(folder, names), folder)
    except Exception as error:  # any failure to compile or load: LightGBM still scores
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        say(f"could not compile the model ({first[:200]}); scoring with LightGBM")
        return None


def _wrap(predictors: dict[str, Any], folder: Path) -> CompiledBoosters:
    """CompiledBoosters from predictors named main / head-<reason>."""
    heads = {name.removeprefix("head-"): p for name, p in predictors.items() if name != MAIN}
    return CompiledBoosters(predictors[MAIN], heads, folder)
