"""The README documents exactly the commands `ringwatch --help` lists, each with an example."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import typer.main

from detection.cli import app
from experiments import docs

README = Path(__file__).resolve().parents[2] / "README.md"


def cli_commands() -> set[str]:
    """Every command path of the app, sub-commands of groups included ('runs list')."""
    root = typer.main.get_command(app)
    names = set()
    for name, command in root.commands.items():
        subcommands = getattr(command, "commands", None)
        if subcommands:
            names |= {f"{name} {sub}" for sub in subcommands}
        else:
            names.add(name)
    return names


def readme_commands() -> set[str]:
    """Commands listed in the README's command table."""
    block = README.read_text().split("<!-- commands -->")[1].split("<!-- /commands -->")[0]
    return set(re.findall(r"^\| `ringwatch ([a-z -]+?)`", block, flags=re.MULTILINE))


def test_readme_command_table_matches_help() -> None:
    assert readme_commands() == cli_commands()


def test_every_command_has_an_example() -> None:
    text = README.read_text()
    examples = re.findall(r"^ringwatch ([a-z-]+(?: [a-z-]+)?)", text, flags=re.MULTILINE)
    for command in cli_commands():
        assert any(e == command or e.startswith(command + " ") for e in examples), command


def test_generated_readme_sections_are_current() -> None:
    assert docs.render(README.read_text()) == README.read_text(), "run python -m experiments.docs"


def test_help_answers_fast_without_heavy_imports() -> None:
    code = (
        "import sys; from detection.cli import app; "
        "heavy = {'lightgbm', 'mlflow', 'numba', 'sklearn', 'matplotlib'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
