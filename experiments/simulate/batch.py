"""Event batches: generators emit compact integer columns; one step makes them contract rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl
import pyarrow as pa

from experiments.simulate.kinds import ACTION, ACTIONS
from features.io.contract import EDGES, EVENTS, TS

POST_CONTENT = 10**12  # own posts get content ids POST_CONTENT + account * 10**5 + k
OWN_POST = -2  # content placeholder: "this post's own new content id"
RAW_SCHEMA = {
    "acc": pl.Int64,
    "sec": pl.Float64,
    "action": pl.Int8,
    "t_acc": pl.Int64,
    "content": pl.Int64,
    "ip": pl.Int64,
    "dev": pl.Int64,
    "inst": pl.Int64,
    "amount": pl.Float64,
    "text": pl.String,
}
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_SCRAMBLE = np.uint64(0x9E3779B97F4A7C15)


def raw(acc, sec, action, **columns) -> pl.DataFrame:
    """A batch of generated events; unspecified identifier columns are -1 (none)."""
    n = len(acc)
    data: dict[str, object] = {"acc": acc, "sec": sec}
    data["action"] = np.broadcast_to(np.asarray(action, dtype=np.int8), (n,))
    for name in ("t_acc", "content", "ip", "dev", "inst"):
        value = columns.get(name)
        data[name] = np.full(n, -1, np.int64) if value is None else np.broadcast_to(value, (n,))
    amount = columns.get("amount")
    data["amount"] = np.full(n, np.nan) if amount is None else amount
    text = columns.get("text")
    data["text"] = pl.Series("text", [None] * n, dtype=pl.String) if text is None else text
    return pl.DataFrame(data, schema=RAW_SCHEMA)


def hex_ids(values: np.ndarray, prefix: str, digits: int = 12) -> pl.Series:
    """Opaque fingerprints: a fixed scramble of each number, in hexadecimal, after a prefix."""
    mixed = (values.astype(np.uint64) + np.uint64(1)) * _SCRAMBLE
    mixed >>= np.uint64(64 - 4 * digits)
    shifts = np.arange(digits - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    nibbles = ((mixed[:, None] >> shifts) & np.uint64(15)).astype(np.uint8)
    width = len(prefix) + digits
    chars = np.empty((len(values), width), dtype=np.uint8)
    chars[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    chars[:, len(prefix) :] = _HEX[nibbles]
    offsets = np.arange(0, width * (len(values) + 1), width, dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(
        len(values), pa.py_buffer(offsets), pa.py_buffer(chars.ravel())
    )
    return pl.Series(pl.from_arrow(array)).cast(pl.String)


@dataclass(frozen=True)
class Names:
    """String names of every account, device and instrument number, built once per world."""

    accounts: pl.Series
    devices: pl.Series
    instruments: pl.Series

    @staticmethod
    def build(n_accounts: int, n_devices: int, n_instruments: int) -> Names:
        return Names(
            id_series(n_accounts),
            hex_ids(np.arange(max(n_devices, 1)), "d"),
            hex_ids(np.arange(max(n_instruments, 1)), "card_"),
        )


def named(names: pl.Series, codes: np.ndarray) -> pl.Series:
    """The names of integer codes; -1 gives null."""
    valid = codes >= 0
    gathered = names.gather(np.where(valid, codes, 0))
    return pl.select(pl.when(pl.Series(valid)).then(gathered)).to_series()


def account_ids(acc: pl.Expr, width: int) -> pl.Expr:
    """Stable account ids like a0000123."""
    return pl.format("a{}", acc.cast(pl.String).str.zfill(width))


def id_width(n: int) -> int:
    """Digits of account ids for a world of n accounts (at least 7)."""
    return max(7, len(str(n - 1)))


def id_series(n: int) -> pl.Series:
    """The account id of every account index, for gathering."""
    return pl.select(account_ids(pl.int_range(n, dtype=pl.Int64), id_width(n))).to_series()


def ip_strings(ip: pl.Expr) -> pl.Expr:
    """Dotted-quad strings of integer IPv4 addresses (null for -1)."""
    octets = [(ip // (1 << s)) % 256 for s in (24, 16, 8, 0)]
    return pl.when(ip >= 0).then(pl.format("{}.{}.{}.{}", *octets))


def order_by(major: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """Stable order by (major, minor) integers: one int64 key when it fits, else lexsort."""
    if major.size == 0:
        return np.zeros(0, dtype=np.int64)
    major = major - major.min()
    minor = minor - minor.min()
    span = int(minor.max()) + 1
    if (int(major.max()) + 1) * span < 2**62:
        return np.argsort(major * span + minor, kind="stable")
    return np.lexsort((minor, major))


def ip_names(ips: np.ndarray) -> pl.Series:
    """Dotted quads of integer addresses (-1 = null), formatting each distinct address once."""
    distinct, inverse = np.unique(ips, return_inverse=True)
    strings = pl.DataFrame({"ip": distinct}).select(ip_strings(pl.col("ip"))).to_series()
    return strings.gather(inverse.ravel())


def _column(batch: pl.DataFrame, name: str) -> np.ndarray:
    return batch[name].to_numpy()


def materialise(batch: pl.DataFrame, start: datetime, names: Names) -> pl.DataFrame:
    """Contract-typed events sorted by account and time (content ids of new posts assigned)."""
    start_us = int(start.timestamp() * 1_000_000)
    ts = np.floor(_column(batch, "sec") * 1e6).astype(np.int64)
    order = order_by(_column(batch, "acc"), ts)
    ts = start_us + ts[order]
    acc, action = _column(batch, "acc")[order], _column(batch, "action")[order]
    content, t_acc = _column(batch, "content")[order], _column(batch, "t_acc")[order]
    own = np.flatnonzero((action == ACTION["post"]) & (content == OWN_POST))
    k = np.arange(own.size) - np.searchsorted(acc[own], acc[own], side="left")
    content[own] = POST_CONTENT + acc[own] * 100_000 + k
    content[t_acc >= 0] = -1
    amount = batch["amount"].gather(order)
    codes = pl.DataFrame({"content": content})
    events = pl.DataFrame(
        {
            "account_id": names.accounts.gather(acc),
            "ts": pl.Series(ts).cast(TS),
            "action": pl.Series(ACTIONS, dtype=pl.String).gather(action.astype(np.int64)),
            "target_id": named(names.accounts, t_acc),
            "ip": ip_names(_column(batch, "ip")[order]),
            "device": named(names.devices, _column(batch, "dev")[order]),
            "instrument": named(names.instruments, _column(batch, "inst")[order]),
            "text": batch["text"].gather(order),
            "amount": pl.select(pl.when(amount.is_nan()).then(None).otherwise(amount)).to_series(),
        }
    )
    contents = codes.select(pl.when(pl.col("content") >= 0).then(pl.format("c{}", "content")))
    events = events.with_columns(pl.coalesce("target_id", contents.to_series()).alias("target_id"))
    return events.select([pl.col(c).cast(t) for c, t in EVENTS.schema.items()])


EDGE_RAW = {
    "src": pl.Int64,
    "dst": pl.Int64,
    "relation": pl.String,
    "weight": pl.Float64,
    "sec": pl.Float64,
}


def materialise_edges(edges: pl.DataFrame, start: datetime, names: Names) -> pl.DataFrame:
    """Contract-typed edges (the raw frame comes sorted by source, relation, destination)."""
    start_us = int(start.timestamp() * 1_000_000)
    ts = start_us + np.floor(_column(edges, "sec") * 1e6).astype(np.int64)
    out = pl.DataFrame(
        {
            "src": names.accounts.gather(_column(edges, "src")),
            "dst": names.accounts.gather(_column(edges, "dst")),
            "relation": edges["relation"],
            "weight": edges["weight"],
            "ts": pl.Series(ts).cast(TS),
        }
    )
    return out.select([pl.col(c).cast(t) for c, t in EDGES.schema.items()])
