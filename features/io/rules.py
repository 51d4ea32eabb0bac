"""Row rules of the contract (keys, nulls, allowed values), declared with dataframely."""

from __future__ import annotations

from collections.abc import Callable

import dataframely as dy
import polars as pl

from common.errors import ContractError


class AccountRules(dy.Schema):
    """accounts: one row per account id."""

    account_id = dy.String(nullable=False, primary_key=True)


class EventRules(dy.Schema):
    """events: who did what, when."""

    account_id = dy.String(nullable=False)
    ts = dy.Datetime(nullable=False, time_zone="UTC", time_unit="us")
    action = dy.String(nullable=False, min_length=1)


class EdgeRules(dy.Schema):
    """edges: both ends and the relation are known."""

    src = dy.String(nullable=False)
    dst = dy.String(nullable=False)
    relation = dy.String(nullable=False, min_length=1)


class LabelRules(dy.Schema):
    """labels: 0 or 1 per account."""

    account_id = dy.String(nullable=False)
    label = dy.Int8(nullable=False, is_in=[0, 1])


RULES: dict[str, type[dy.Schema]] = {
    "accounts": AccountRules,
    "events": EventRules,
    "edges": EdgeRules,
    "labels": LabelRules,
}

PROBLEMS = {
    "nullability": "null values",
    "primary_key": "duplicate values (must be unique)",
    "is_in": "values other than 0 or 1",
    "min_length": "empty strings",
}


def raise_first_failure(
    counts: dict[str, int], table: str, file: str, examples: Callable[[str], list]
) -> None:
    """Raise a ContractError for the first rule in `counts` ('column|rule' -> rows breaking
    it, in rule order) with a count above 0; `examples(column)` gives offending values."""
    broken = [(rule, count) for rule, count in counts.items() if count]
    if not broken:
        return
    schema = RULES[table]
    rule, count = broken[0]
    column, _, kind = rule.partition("|") if "|" in rule else (None, "", rule)
    if kind == "primary_key":
        column = next(c for c in schema.column_names() if schema.columns()[c].primary_key)
    wanted = column and kind != "nullability"
    problem = f"{count} rows with {PROBLEMS.get(kind, kind)}"
    raise ContractError(file, problem, column, examples(column) if wanted else [])


def check_rules(frame: pl.DataFrame, table: str, file: str) -> None:
    """Raise a ContractError for the first broken row rule, with offending values as examples."""
    schema = RULES[table]
    _, failure = schema.filter(frame.select(schema.column_names()), cast=False)
    counts = failure.counts()
    if not counts:
        return

    def examples(column: str) -> list:
        return failure.invalid()[column].drop_nulls().unique(maintain_order=True).to_list()

    raise_first_failure(counts, table, file, examples)


def broken_rules(table: str) -> dict[str, pl.Expr]:
    """'column|rule' -> an expression true on rows breaking that rule, in dataframely's order:
    the row rules of `table` as streaming-friendly expressions (no key rules: those need the
    whole table at once)."""
    out = {}
    for name, column in RULES[table].columns().items():
        if column.primary_key:
            raise ValueError(f"{table}.{name}: key rules cannot be checked row by row")
        for rule, valid in column.validation_rules(pl.col(name)).items():
            out[f"{name}|{rule}"] = valid.not_().fill_null(False)
    return out
