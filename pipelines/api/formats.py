"""The page in the format asked for, by ``format=`` or the ``Accept`` header: JSON, CSV, Arrow IPC stream, Parquet.

JSON keeps decimals exact (as strings: a float would round 0.1) and dates and timestamps ISO 8601. CSV writes the
same text as JSON. Arrow and Parquet keep DuckDB's types (DECIMAL stays decimal) and carry which publication they
read in the schema's metadata, besides the ``Lakehouse-*`` response headers every format gets.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import decimal
import io
import math

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from pipelines.api.errors import bad_request

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "arrow": "application/vnd.apache.arrow.stream",
    "parquet": "application/vnd.apache.parquet",
}
ACCEPTED = {  # media types a client may ask for, and the format each means
    "application/json": "json", "text/csv": "csv", "application/csv": "csv",
    "application/vnd.apache.arrow.stream": "arrow", "application/vnd.apache.arrow.file": "arrow",
    "application/x-arrow": "arrow", "application/vnd.apache.parquet": "parquet", "application/x-parquet": "parquet",
}


def negotiate(format_param: str | None, accept: str | None) -> str:
    if format_param:
        if format_param not in MEDIA_TYPES:
            raise bad_request("unknown_format", f"unknown format {format_param!r} (formats: "
                                                f"{', '.join(MEDIA_TYPES)})", formats=list(MEDIA_TYPES))
        return format_param
    for part in (accept or "").split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in ACCEPTED:
            return ACCEPTED[media]
    return "json"


def plain(value: object) -> object:
    """A value as JSON can carry it without loss."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, dt.timedelta):
        return str(value)
    return value


def json_rows(table: pa.Table) -> list[dict]:
    return [{name: plain(value) for name, value in row.items()} for row in table.to_pylist()]


def csv_bytes(table: pa.Table) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(table.column_names)
    for row in table.to_pylist():
        writer.writerow(["" if v is None else (str(plain(v)) if not isinstance(v, bool) else str(v).lower())
                         for v in row.values()])
    return out.getvalue().encode("utf-8")


def with_metadata(table: pa.Table, metadata: dict[str, str]) -> pa.Table:
    return table.replace_schema_metadata({f"lakehouse.{k}": v for k, v in metadata.items()})


def arrow_bytes(table: pa.Table, metadata: dict[str, str]) -> bytes:
    table = with_metadata(table, metadata)
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def parquet_bytes(table: pa.Table, metadata: dict[str, str]) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(with_metadata(table, metadata), sink)
    return sink.getvalue().to_pybytes()
