"""The seam between input frames and the feature code: dtypes, snapshot cut, account index.

Everything downstream sees one shape: events with `aidx` (the account's position in the
account_id-sorted accounts table, Int64), `ts` (Int64 microseconds since the epoch, UTC),
`code` (Int8 index into `ACTIONS`, -1 for any other action), identifiers hashed to UInt64
(`target`, `ip`, `device`, `instrument`; null stays null), `text` and `amount` (read only on
posts and payments respectively). Hashes are polars' own: fine inside one run, never persisted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pyarrow as pa

from features.io.contract import CORE_ACTIONS

#: The core actions of the contract, each with fixed per-action count columns.
ACTIONS = CORE_ACTIONS
CODE = {name: i for i, name in enumerate(ACTIONS)}
ENGAGEMENTS = (CODE["like"], CODE["comment"], CODE["share"])
HASH_SEED = 0x5EED
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TS_US = pl.Datetime("us", "UTC")
OPTIONAL = {
    "target_id": pl.String(),
    "ip": pl.String(),
    "device": pl.String(),
    "instrument": pl.String(),
    "text": pl.String(),
    "amount": pl.Float64(),
}


def as_of_us(as_of: datetime) -> int:
    """The snapshot as microseconds since the epoch (naive datetimes are taken as UTC)."""
    moment = as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of
    return (moment - EPOCH) // timedelta(microseconds=1)


def epoch_us(name: str, dtype: pl.DataType) -> pl.Expr:
    """A datetime column as Int64 microseconds since the epoch (naive values taken as UTC)."""
    column = pl.col(name)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        column = column.dt.replace_time_zone("UTC")
    return column.dt.epoch("us").cast(pl.Int64)


def hashed(name: str) -> pl.Expr:
    """A string identifier as a UInt64 hash, null kept null (in-run use only)."""
    return pl.when(pl.col(name).is_not_null()).then(pl.col(name).hash(HASH_SEED)).alias(name)


def account_index(accounts: pl.DataFrame) -> pl.DataFrame:
    """Accounts sorted by account_id with `aidx` (row position), `created_us`, `followers`."""
    schema = accounts.collect_schema()
    created = (
        epoch_us("created_at", schema["created_at"])
        if "created_at" in schema
        else pl.lit(None, pl.Int64)
    )
    followers = (
        pl.col("followers").cast(pl.Float64) if "followers" in schema else pl.lit(None, pl.Float64)
    )
    return (
        accounts.lazy()
        .select(
            pl.col("account_id").cast(pl.String),
            created.alias("created_us"),
            followers.alias("followers"),
        )
        .sort("account_id")
        .collect()
        .with_row_index("aidx")
        .with_columns(pl.col("aidx").cast(pl.Int64))
    )


def event_source(events: pl.DataFrame | pl.LazyFrame, as_of: int) -> pl.LazyFrame:
    """Events up to the snapshot with canonical dtypes; absent optional columns are null."""
    lazy = events.lazy()
    schema = lazy.collect_schema()
    columns = [
        pl.col("account_id").cast(pl.String),
        epoch_us("ts", schema["ts"]).alias("ts"),
        pl.col("action").cast(pl.String),
    ]
    for name, dtype in OPTIONAL.items():
        present = name in schema and schema[name] != pl.Null
        columns.append(pl.col(name).cast(dtype) if present else pl.lit(None, dtype).alias(name))
    return lazy.select(columns).filter(pl.col("ts").is_not_null() & (pl.col("ts") <= as_of))


def normalise(source: pl.LazyFrame, members: pl.DataFrame) -> pl.LazyFrame:
    """The events of `members` (account_id, aidx, optionally bucket) in the downstream shape.

    An inner join with the members both maps accounts to positions and drops other accounts'
    events (a `replace_strict` lookup rebuilds its table per morsel: slow with many accounts).
    """
    code = pl.col("action").replace_strict(
        list(ACTIONS), list(range(len(ACTIONS))), default=-1, return_dtype=pl.Int8
    )
    keys = [c for c in members.columns if c not in ("account_id", "aidx")]
    compact = source.select(  # hash before the join: it then gathers integers, not strings
        "account_id",
        "ts",
        code.alias("code"),
        hashed("target_id").alias("target"),
        hashed("ip"),
        hashed("device"),
        hashed("instrument"),
        "text",
        "amount",
    )
    columns = ("ts", "code", "target", "ip", "device", "instrument", "text", "amount")
    joined = compact.join(members.lazy(), on="account_id", how="inner")
    return joined.select("aidx", *keys, *columns)


def string_buffers(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Arrow offsets (int64) and UTF-8 bytes (uint8) of a string series; nulls read as ''."""
    array = series.fill_null("").rechunk().to_arrow()
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    _, offsets, data = array.buffers()
    start = array.offset
    offsets = np.frombuffer(offsets, dtype=np.int64)[start : start + len(array) + 1]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return offsets, data


def csr(aidx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted account positions: the distinct accounts and CSR offsets into the rows."""
    n = aidx.shape[0]
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(1, np.int64)
    starts = np.flatnonzero(np.diff(aidx)) + 1
    offsets = np.concatenate(([0], starts, [n])).astype(np.int64)
    return aidx[offsets[:-1]].astype(np.int64), offsets
