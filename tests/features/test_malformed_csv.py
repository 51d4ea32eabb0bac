"""Property: a malformed events CSV gives exit 0 with exactly the rows written, or exit 2 with one
line; never a traceback, never exit 0 with rows silently changed."""

from __future__ import annotations

import csv
import io
import math
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from detection.cli import app
from features.io.load import load_dataset

runner = CliRunner()
IDS = ("a1", "a2", "a3", "a4")
HEADER = ["account_id", "ts", "action", "amount"]
#: Mutations that must end in exit 2 (NaN is read as missing, with a warning: exit 0).
FATAL = {
    "short row": lambda rows, i: rows[i].pop(),
    "long row": lambda rows, i: rows[i].append("extra"),
    "blank line": lambda rows, i: rows.insert(i + 1, []),
    "far future": lambda rows, i: rows[i].__setitem__(1, "2999-01-01 00:00"),
    "year one": lambda rows, i: rows[i].__setitem__(1, "0001-01-01"),
    "impossible date": lambda rows, i: rows[i].__setitem__(1, "2024-02-30"),
    "infinite amount": lambda rows, i: rows[i].__setitem__(3, "-inf"),
    "blank id": lambda rows, i: rows[i].__setitem__(0, "   "),
    "NUL in id": lambda rows, i: rows[i].__setitem__(0, "a1\x00"),
    "unknown id": lambda rows, i: rows[i].__setitem__(0, "zz9"),
}
HEADER_FATAL = {
    "repeated name": lambda header: header.__setitem__(2, "account_id"),
    "blank name": lambda header: header.__setitem__(3, " "),
}
BENIGN = {"NaN amount": lambda rows, i: rows[i].__setitem__(3, "nan")}

rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(IDS),
        st.integers(1, 27),
        st.sampled_from(["post", "login", "like"]),
        st.one_of(st.just(""), st.floats(-1e6, 1e6, allow_nan=False).map(repr)),
    ),
    min_size=2,
    max_size=8,
)
mutation_strategy = st.lists(
    st.tuples(st.sampled_from(sorted(FATAL) + sorted(BENIGN)), st.integers(0, 7)), max_size=3
)


def apply(table: list[list[str]], mutations: list[tuple[str, int]]) -> set[str]:
    """Apply the mutations (blank lines last, each to a whole row); return the ones applied."""
    applied = set()
    for name, at in sorted(mutations, key=lambda m: m[0] == "blank line"):
        full = [i for i, row in enumerate(table) if len(row) == len(HEADER)]
        if not full:
            continue
        (FATAL | BENIGN)[name](table, full[at % len(full)])
        applied.add(name)
    return applied


def render(header: list[str], rows: list[list[str]]) -> str:
    """CSV text as a writer would produce it (a blank line for an empty row)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        buffer.write("\n") if not row else writer.writerow(row)
    return buffer.getvalue()


def expected(text: str) -> list[tuple]:
    """The rows a correct reader returns: every field as written, NaN amounts missing."""
    parsed = list(csv.reader(io.StringIO(text)))[1:]
    out = []
    for account, ts, action, amount in parsed:
        number = float(amount) if amount else None
        out.append(
            (account, ts[:10], action, None if number is None or math.isnan(number) else number)
        )
    return sorted(out, key=repr)


def loaded(folder: Path) -> list[tuple]:
    """The rows the loader returns, in the same form."""
    events = load_dataset(folder).events.collect()
    out = [
        (a, t.strftime("%Y-%m-%d"), act, amt)
        for a, t, act, amt in events.select("account_id", "ts", "action", "amount").iter_rows()
    ]
    return sorted(out, key=repr)


def write_base(folder: Path, events: str) -> Path:
    """accounts.csv (four accounts created 2024-01-01) and the given events.csv."""
    pl.DataFrame({"account_id": list(IDS), "created_at": ["2024-01-01"] * 4}).write_csv(
        folder / "accounts.csv"
    )
    (folder / "events.csv").write_text(events)
    return folder


@settings(max_examples=60, deadline=None)
@given(rows_strategy, mutation_strategy, st.sampled_from([None, *sorted(HEADER_FATAL)]))
def test_malformed_events_csv_is_read_exactly_or_refused_in_one_line(rows, mutations, header):
    table = [[a, f"2024-01-{d:02d} 10:00", act, amt] for a, d, act, amt in rows]
    names = list(HEADER)
    applied = apply(table, mutations)
    if header:
        HEADER_FATAL[header](names)
    text = render(names, table)
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_base(Path(tmp), text)
        result = runner.invoke(app, ["validate", str(folder)])
        assert "Traceback" not in result.stderr, result.stderr
        assert result.exit_code in (0, 2), (result.exit_code, result.exception)
        fatal = header is not None or bool(applied & set(FATAL))
        if result.exit_code == 0:
            assert not fatal, (mutations, header, text)
            assert loaded(folder) == expected(text)
        else:
            assert result.exit_code == 2, (result.exit_code, result.stderr, text)
            assert fatal, (mutations, result.stderr, text)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
