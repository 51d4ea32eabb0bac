"""The events scan against the in-memory reading of the same files: same rows, same errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.errors import ContractError
from features.io.contract import ACCOUNTS, EVENTS
from features.io.load import cut_at, drop_unknown_references, load_dataset, read_conformed
from features.io.rules import RULES, broken_rules
from features.io.sanity import TimeWindow
from features.io.tables import find_table

AS_OF = datetime(2024, 2, 3, 12, tzinfo=UTC)
ACCOUNT_IDS = ("a1", "a2", "a3", "a4", "a5")
#: a4 and a5 are created after the snapshot: their events are left out.
CREATED = [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3)] + [
    datetime(2024, 2, 10, tzinfo=UTC),
    None,
]
TIMES = ("2024-02-01 10:00", "2024-02-02T11:30:00Z", "2024-02-03", "2024-02-05 09:00:00+02:00")
BAD_TIMES = ("yesterday", "2024-02-30", "")
FORMS = ("csv", "parquet", "folder")


def accounts() -> pl.DataFrame:
    return pl.DataFrame({"account_id": list(ACCOUNT_IDS), "created_at": CREATED})


def write_table(frame: pl.DataFrame, folder: Path, name: str, form: str) -> None:
    """One table as a CSV file, a Parquet file or a folder of two Parquet parts."""
    if form == "csv":
        frame.write_csv(folder / f"{name}.csv")
    elif form == "parquet":
        frame.write_parquet(folder / f"{name}.parquet")
    else:
        (folder / name).mkdir()
        half = max(frame.height // 2, 1)
        frame.head(half).write_parquet(folder / name / "part-0.parquet")
        frame.slice(half).write_parquet(folder / name / "part-1.parquet")


def write_base(folder: Path, events: pl.DataFrame, form: str) -> Path:
    folder.mkdir(parents=True)
    write_table(accounts(), folder, "accounts", form)
    write_table(events, folder, "events", form)
    return folder


def eager_events(folder: Path, as_of: datetime) -> tuple[pl.DataFrame, list[str]]:
    """The events as the loader read them before they became a scan: whole, typed, checked,
    unknown accounts dropped, cut at the snapshot, accounts alive at it."""
    known, _ = read_conformed(folder, ACCOUNTS, TimeWindow())
    events, _ = read_conformed(folder, EVENTS, TimeWindow())
    file = str(find_table(folder, "events"))
    events, warnings = drop_unknown_references(events, "events", file, known["account_id"])
    alive = cut_at(known, "created_at", as_of)["account_id"].implode()
    events = cut_at(events, "ts", as_of).filter(pl.col("account_id").is_in(alive))
    return events.select(list(EVENTS.schema)), warnings


def outcome(load) -> tuple[str, object]:
    """('error', message) or ('ok', value) of a loading function."""
    try:
        return "ok", load()
    except ContractError as error:
        return "error", str(error)


@st.composite
def event_tables(draw) -> pl.DataFrame:
    """Events stored as text, with some of every kind of breakage a user can bring."""
    n = draw(st.integers(1, 30))

    def column(good, bad=()):
        values = [draw(st.sampled_from(good)) for _ in range(n)]
        if draw(st.integers(0, 3)) == 0:  # a quarter of the columns get a broken cell or two
            for _ in range(draw(st.integers(1, 2))):
                values[draw(st.integers(0, n - 1))] = draw(st.sampled_from([*bad, None]))
        return values

    frame = {
        "account_id": column(ACCOUNT_IDS, ("ghost",)),
        "ts": column(TIMES, BAD_TIMES),
        "action": column(("post", "like", "view"), ("",)),
        "target_id": column(("a1", "c9")),
        "amount": column(("9.5", " 3 ", "-1e3"), ("x",)),
        "extra": column(("kept", "out")),
    }
    if draw(st.booleans()):
        del frame["amount"]
    return pl.DataFrame(frame, schema={k: pl.String for k in frame})


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event_tables(), st.sampled_from(FORMS))
def test_scanned_events_equal_the_whole_table_read(tmp_path_factory, events, form) -> None:
    folder = write_base(tmp_path_factory.mktemp("base") / "data", events, form)
    kind, want = outcome(lambda: eager_events(folder, AS_OF))
    got_kind, ds = outcome(lambda: load_dataset(folder, AS_OF))
    assert got_kind == kind, (want, ds)
    if kind == "error":
        assert ds == want
        return
    frame, warnings = want
    assert ds.events.collect().equals(frame)
    assert ds.n_events == frame.height
    assert list(ds.warnings) == warnings


@settings(max_examples=60, deadline=None)
@given(event_tables())
def test_streaming_rule_counts_equal_dataframely(events) -> None:
    typed = events.select(
        "account_id",
        pl.col("ts").str.to_datetime("%Y-%m-%d %H:%M", time_zone="UTC", strict=False),
        "action",
    )
    _, failure = RULES["events"].filter(typed, cast=False)
    rules = broken_rules("events")
    counts = typed.lazy().select(rule.sum().alias(n) for n, rule in rules.items()).collect()
    assert {k: v for k, v in counts.row(0, named=True).items() if v} == failure.counts()


def test_key_rules_are_not_checked_row_by_row() -> None:
    with pytest.raises(ValueError, match="key rules"):
        broken_rules("accounts")


@pytest.mark.parametrize("form", FORMS)
def test_default_snapshot_is_the_last_event_of_a_known_account(tmp_path: Path, form) -> None:
    events = pl.DataFrame(
        {
            "account_id": ["a1", "a2"] * 100 + ["ghost"],  # under 1 % unknown: dropped
            "ts": ["2024-02-01 10:00", "2024-02-02 10:00"] * 100 + ["2024-03-01 00:00"],
            "action": ["post"] * 201,
        }
    )
    ds = load_dataset(write_base(tmp_path / "data", events, form))
    assert ds.as_of == datetime(2024, 2, 2, 10, tzinfo=UTC)
    assert ds.n_events == 200
    assert "1 rows (0.5%) reference accounts" in ds.warnings[0]


def test_unreadable_events_file_is_one_clear_error(tmp_path: Path) -> None:
    folder = write_base(tmp_path / "data", pl.DataFrame({"account_id": ["a1"]}), "parquet")
    (folder / "events.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ContractError, match=r"events\.parquet: cannot be read as a table"):
        load_dataset(folder)


@pytest.mark.parametrize(
    ("column", "values"),
    [("ts", [1.5, 2.5]), ("ts", [{"a": 1}] * 2), ("amount", [[1.0], [2.0]]), ("text", [[1], []])],
)
def test_values_of_a_wrong_kind_name_the_column(tmp_path: Path, column, values) -> None:
    events = pl.DataFrame(
        {"account_id": ["a1", "a2"], "ts": ["2024-02-01 10:00"] * 2, "action": ["post"] * 2}
    ).with_columns(pl.Series(column, values))
    folder = write_base(tmp_path / "data", events, "parquet")
    kind, want = outcome(lambda: eager_events(folder, AS_OF))
    assert kind == "error" and f"column '{column}': cannot be read as" in want
    with pytest.raises(ContractError) as raised:
        load_dataset(folder, AS_OF)
    assert str(raised.value) == want
