"""The house rules of the layout, checked on the source: data flows one way and modules stay
small.

- common/ imports no stage; features/ nothing from training/, detection/ or experiments/;
  training/ nothing from detection/ or experiments/; of detection/, only cli.py imports
  experiments/ (the CLI is the composition root for the simulator, importers and benchmarks).
- No module over 400 lines, no function over 80 lines, except numba kernels (decorated with
  njit: one loop nest reads best whole) and test oracles (the slow, obvious references).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "features", "training", "detection", "experiments")
FORBIDDEN = {
    "common": {"features", "training", "detection", "experiments"},
    "features": {"training", "detection", "experiments"},
    "training": {"detection", "experiments"},
    "detection": {"experiments"},
}
MAY_IMPORT_EXPERIMENTS = {"detection/cli.py"}
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 80
#: Modules allowed to be longer, with the reason.
LONG_MODULES = {
    "experiments/simulate/words.py": "word lists of the simulated headlines: data, no logic",
}
#: Test oracles: slow, obvious references a kernel is compared with.
ORACLES = {"features/behaviour/reference_table.py", "features/behaviour/reference.py",
           "features/graph/reference.py"}  # fmt: skip


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def imported_packages(tree: ast.AST) -> set[str]:
    """Top-level packages a module imports (absolute imports, anywhere in the module)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_data_flows_one_way() -> None:
    broken = []
    for path in sources():
        name = path.relative_to(ROOT).as_posix()
        package = name.split("/")[0]
        uses = imported_packages(ast.parse(path.read_text())) & set(PACKAGES)
        banned = FORBIDDEN.get(package, set())
        if name in MAY_IMPORT_EXPERIMENTS:
            banned = banned - {"experiments"}
        broken += [f"{name} imports {used}" for used in sorted(uses & banned)]
    assert not broken, broken


def is_kernel(node: ast.FunctionDef) -> bool:
    return any("njit" in ast.unparse(d) or "jit(" in ast.unparse(d) for d in node.decorator_list)


@pytest.mark.parametrize("path", sources(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_modules_and_functions_stay_small(path: Path) -> None:
    name = path.relative_to(ROOT).as_posix()
    text = path.read_text()
    if name not in LONG_MODULES:
        assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{name}: split it by what it holds"
    if name in ORACLES:
        return
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
        and not is_kernel(node)
    ]
    assert not long, f"{name}: {long}"
