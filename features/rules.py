"""Row rules of the contract (keys, nulls, allowed values), declared with dataframely."""

from __future__ import annotations

import dataframely as dy
import polars as pl

from features.errors import ContractError


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


def check_rules(frame: pl.DataFrame, table: str, file: str) -> None:
    """Raise a ContractError for the first broken row rule, with offending values as examples."""
    schema = RULES[table]
    columns = schema.column_names()
    _, failure = schema.filter(frame.select(columns), cast=False)
    counts = failure.counts()
    if not counts:
        return
    rule, count = next(iter(counts.items()))
    column, _, kind = rule.partition("|") if "|" in rule else (None, "", rule)
    if kind == "primary_key":
        column = next(c for c in columns if schema.columns()[c].primary_key)
    invalid = failure.invalid()
    wanted = column and kind != "nullability"
    examples = invalid[column].drop_nulls().unique(maintain_order=True).to_list() if wanted else []
    problem = f"{count} rows with {PROBLEMS.get(kind, kind)}"
    raise ContractError(file, problem, column, examples)
