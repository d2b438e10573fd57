"""Streaming writers: one Parquet (or CSV) file per table, columns cast to the schema's types.

Chunks are appended through pyarrow's ParquetWriter / CSVWriter, so memory stays bounded by one
chunk however many rows a table gets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fundguard.data.schema import Table

ARROW_TYPES = {
    "str": pa.string(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("ms"),  # Parquet has no seconds unit; ms round-trips exactly
    "amount": pa.decimal128(16, 2),
    "qty": pa.decimal128(16, 4),
    "price": pa.decimal128(16, 6),
    "ratio": pa.decimal128(8, 4),
    "json": pa.string(),
}


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type], nullable=not c.required) for c in table.columns])


def _column(values, typ: pa.DataType, n: int) -> pa.Array:
    if values is None:
        return pa.nulls(n, typ)
    if isinstance(values, pd.Series):
        values = values.to_numpy()
    if np.isscalar(values) or values is None:
        return pa.array([values] * n, typ) if values is not None else pa.nulls(n, typ)
    arr = np.asarray(values)
    if pa.types.is_decimal(typ):
        f = pa.array(np.asarray(arr, dtype=float), pa.float64(), from_pandas=True)
        return f.cast(typ)
    if pa.types.is_timestamp(typ):
        return pa.array(arr.astype("datetime64[ms]"), typ, from_pandas=True)
    if pa.types.is_date(typ):
        if arr.dtype == object:
            return pa.array(pd.to_datetime(pd.Series(arr)).dt.date, typ, from_pandas=True)
        return pa.array(arr.astype("datetime64[D]"), typ, from_pandas=True)
    if pa.types.is_integer(typ):
        return pa.array(arr, from_pandas=True).cast(typ)
    if arr.dtype.kind in "U":
        return pa.array(arr, typ)
    return pa.array(arr, typ, from_pandas=True)


def to_arrow(table: Table, df) -> pa.Table:
    """df: a DataFrame or a dict of numpy arrays / scalars."""
    schema = arrow_schema(table)
    n = len(df) if isinstance(df, pd.DataFrame) else next(len(v) for v in df.values() if isinstance(v, np.ndarray))
    cols = [_column(df.get(f.name), f.type, n) for f in schema]
    return pa.Table.from_arrays(cols, schema=schema)


class Sink:
    def __init__(self, out_dir: Path, table: Table, fmt: str) -> None:
        self.table = table
        self.schema = arrow_schema(table)
        self.path = out_dir / f"{table.name}.{fmt}"
        self.fmt = fmt
        self.rows = 0
        self._w: pq.ParquetWriter | pacsv.CSVWriter | None = None

    def write(self, df) -> None:
        t = to_arrow(self.table, df)
        if self._w is None:
            if self.fmt == "parquet":
                self._w = pq.ParquetWriter(self.path, self.schema, compression="zstd")
            else:
                self._w = pacsv.CSVWriter(self.path, self.schema)
        self._w.write_table(t)
        self.rows += len(t)

    def close(self) -> None:
        if self._w is None:  # an empty table still gets a file with its header
            self.write(pd.DataFrame({c: [] for c in self.table.column_names}))
        self._w.close()
