"""Typed settings from TOML: dataclasses built strictly (unknown keys and wrong types are
UserErrors naming the key), and flattened back to text or plain dicts."""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from common.errors import UserError


def read_toml(path: Path, what: str = "settings file") -> dict[str, Any]:
    """The tables of a TOML file, or a UserError naming the file."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: {what} not found") from None
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{path}: not valid TOML ({error})") from None


def _type_ok(value: Any, hint: Any) -> bool:
    """Whether a TOML value fits a field's type (ints are accepted for floats)."""
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is bool or hint is str:
        return isinstance(value, hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, arg) for arg in args if arg is not type(None))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return isinstance(value, list) and all(_type_ok(v, args[0]) for v in value)
        fits = isinstance(value, list) and len(value) == len(args)
        return fits and all(_type_ok(v, a) for v, a in zip(value, args, strict=True))
    return False


def _describe(hint: Any) -> str:
    """A short plain name for a field type, for error messages."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args if a is not type(None))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0])}"
        return f"a list of {len(args)} values ({', '.join(_describe(a) for a in args)})"
    return {float: "a number", int: "an integer", bool: "true or false", str: "a string"}[hint]


def build(cls: type, table: dict[str, Any], file: str, prefix: str = "") -> Any:
    """One settings dataclass from a TOML table; keys left out keep their defaults."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{prefix}{key}"
        if key not in known:
            raise UserError(f"{file}: unknown key '{where}' (known: {', '.join(sorted(known))})")
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise UserError(f"{file}: key '{where}' must be a table [{where}]")
            values[key] = build(hint, value, file, f"{where}.")
        elif not _type_ok(value, hint):
            raise UserError(f"{file}: key '{where}' must be {_describe(hint)}, got {value!r}")
        else:
            values[key] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


def flatten(config: Any, prefix: str = "") -> dict[str, str]:
    """A settings dataclass flattened to `section.key -> text` (MLflow params)."""
    flat: dict[str, str] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            flat |= flatten(value, f"{prefix}{f.name}.")
        else:
            flat[f"{prefix}{f.name}"] = str(list(value) if isinstance(value, tuple) else value)
    return flat


def plain(config: Any) -> dict[str, Any]:
    """A settings dataclass as a JSON-able dict (tuples as lists), e.g. to store with a model."""

    def lists(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: lists(v) for k, v in value.items()}
        if isinstance(value, tuple | list):
            return [lists(v) for v in value]
        return value

    return lists(dataclasses.asdict(config))
