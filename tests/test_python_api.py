"""The README's "Python API" chain: it imports only public names (each package's __all__) and
runs as written on a small simulated world."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def example() -> str:
    """The python block of the README's Python API section."""
    section = README.read_text().split("## Python API")[1]
    return section.split("```python\n")[1].split("```")[0]


def test_the_example_imports_only_public_names() -> None:
    imported = [
        (node.module, alias.name)
        for node in ast.parse(example()).body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]
    assert imported
    for module, name in imported:
        assert module in ("features", "training", "detection"), module
        assert name in importlib.import_module(module).__all__, f"{module}.{name}"


@pytest.mark.parametrize("package", ["common", "features", "training", "detection"])
def test_every_exported_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_the_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from experiments.simulate import WorldConfig, simulate_to

    simulate_to(WorldConfig(accounts=1_500, seed=5).check(), tmp_path / "ringwatch-demo" / "data")
    monkeypatch.chdir(tmp_path)
    exec(compile(example(), "README.md", "exec"), {})
    printed = capsys.readouterr().out.split()
    assert Path(printed[1]).parent == Path("lists") and (Path(printed[1]) / "report.html").exists()
    assert int(printed[2]) > 0
