"""Regenerates the README's generated sections (input contract, feature registry) from the code.

Run `python -m experiments.docs` after changing features/io/contract.py or a feature's spec; a test
fails while the README is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from features.io.contract import TABLES
from features.registry import all_specs

README = Path(__file__).resolve().parent.parent / "README.md"


def type_name(dtype: object) -> str:
    """A reader's name for a polars type."""
    return "timestamp (UTC)" if str(dtype).startswith("Datetime") else str(dtype).lower()


def contract_markdown() -> str:
    """One Markdown table per input table."""
    parts = []
    for table in TABLES:
        need = "required" if table.required else "optional"
        parts.append(f"**`{table.name}`** ({need}): {table.description}.\n")
        parts.append("| column | type | required | meaning |\n|---|---|---|---|")
        for column in table.columns:
            required = "yes" if column.required else ""
            kind = type_name(column.dtype)
            parts.append(f"| `{column.name}` | {kind} | {required} | {column.description} |")
        parts.append("")
    return "\n".join(parts)


def features_markdown() -> str:
    """The feature registry as one Markdown table."""
    rows = ["| feature | stage | unit | meaning |", "|---|---|---|---|"]
    rows += [f"| `{s.name}` | {s.stage} | {s.unit} | {s.description} |" for s in all_specs()]
    return "\n".join(rows)


def simulator_markdown() -> str:
    """The simulator's knobs (imported here so that `docs` stays cheap to import)."""
    from experiments.simulate.config import knobs_markdown

    return knobs_markdown()


SECTIONS = {
    "contract": contract_markdown,
    "features": features_markdown,
    "simulator": simulator_markdown,
}


def render(text: str) -> str:
    """README text with every generated section replaced by its current rendering."""
    for name, make in SECTIONS.items():
        pattern = re.compile(
            rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.DOTALL
        )
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), text)
    return text


def main() -> int:
    """Rewrite README.md in place; exit 1 with --check when it is out of date."""
    text = README.read_text()
    fresh = render(text)
    if "--check" in sys.argv:
        return int(fresh != text)
    README.write_text(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
