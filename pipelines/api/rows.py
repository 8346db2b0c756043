"""From the query string to one parameterised SELECT over a published mart.

Identifiers come only from the published relation's own columns (quoted), never from the request's text; every
value is converted to the column's type here and bound as a parameter. Pages are an offset into one total order
(the requested sort, then every column the caller sees in clear, then a hash of the whole row for rows equal in
all of those): the order cannot change between pages because a publication's snapshot is immutable, and the
cursor pins the publication it started on.

Filter syntax: ``filter=column:op:value``, repeatable (all must hold), ops eq ne lt le gt ge like in;
``in`` takes values separated by ``,`` (``region:in:330502,330503``); ``like`` is SQL LIKE (``%`` and ``_``) on
text columns. Sorting: ``sort=a,-b`` (``-``: descending).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import hashlib
import json
import math
import re
from dataclasses import dataclass, field

from pipelines.api.access import Role
from pipelines.api.errors import ApiError, bad_request
from pipelines.api.masking import Column
from pipelines.lake.sql import quote

DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
MAX_IN_VALUES = 1000
BANK_COLUMN = "bank_code"  # the column that scopes a bank's key to its own rows
OPS = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "like": "LIKE", "in": "IN"}

INTEGER_RANGES = {
    "TINYINT": (-2**7, 2**7 - 1), "SMALLINT": (-2**15, 2**15 - 1), "INTEGER": (-2**31, 2**31 - 1),
    "BIGINT": (-2**63, 2**63 - 1), "HUGEINT": (-2**127, 2**127 - 1), "UTINYINT": (0, 2**8 - 1),
    "USMALLINT": (0, 2**16 - 1), "UINTEGER": (0, 2**32 - 1), "UBIGINT": (0, 2**64 - 1),
}
_INTEGER = re.compile(r"[+-]?\d{1,40}")
_DECIMAL_TYPE = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    values: tuple

    def normalised(self) -> list:
        return [self.column, self.op, [str(v) for v in self.values]]


@dataclass
class RowsQuery:
    """The parsed request: what to select, which rows, in what order, which page."""
    columns: list[Column]  # the selected columns, in the order asked
    filters: list[Filter] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    limit: int = DEFAULT_LIMIT
    offset: int = 0


# ----------------------------------------------------------------------------------------------- values

def typed_value(text: str, column: Column) -> object:
    """``text`` as a value of the column's type, or a 400 saying why it is not one."""
    kind = column.data_type.upper()
    base = kind.split("(", 1)[0].strip()

    def wrong(expected: str) -> ApiError:
        return bad_request("bad_value", f"{text!r} is not {expected} (column {column.name} is {column.data_type})",
                           column=column.name, value=text)

    if column.is_text:
        return text
    if base in INTEGER_RANGES:
        low, high = INTEGER_RANGES[base]
        if not _INTEGER.fullmatch(text.strip()) or not low <= int(text) <= high:
            raise wrong(f"an integer of type {base}")
        return int(text)
    if base == "DECIMAL":
        try:
            value = decimal.Decimal(text.strip())
        except decimal.InvalidOperation:
            raise wrong("a decimal number") from None
        match = _DECIMAL_TYPE.fullmatch(kind)
        precision = int(match.group(1)) if match else 38
        if not value.is_finite() or abs(value.adjusted()) > precision or len(value.as_tuple().digits) > 38:
            raise wrong(f"a decimal number within {column.data_type}")
        return value
    if base in ("DOUBLE", "FLOAT", "REAL"):
        try:
            value = float(text)
        except ValueError:
            raise wrong("a number") from None
        if not math.isfinite(value):
            raise wrong("a finite number")
        return value
    if base == "BOOLEAN":
        lowered = text.strip().lower()
        if lowered not in ("true", "false", "1", "0"):
            raise wrong("true or false")
        return lowered in ("true", "1")
    if base == "DATE":
        try:
            return dt.date.fromisoformat(text.strip())
        except ValueError:
            raise wrong("a date YYYY-MM-DD") from None
    if base.startswith("TIMESTAMP"):
        try:
            return dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise wrong("an ISO timestamp") from None
    raise bad_request("unfilterable_column", f"column {column.name} of type {column.data_type} cannot be filtered",
                      column=column.name)


# ----------------------------------------------------------------------------------------------- parsing

def known_column(name: str, columns: dict[str, Column], dataset: str) -> Column:
    if name not in columns:
        raise bad_request("unknown_column", f"{dataset} has no column {name!r}", column=name,
                          columns=sorted(columns))
    return columns[name]


def visible(column: Column, role: Role, use: str) -> Column:
    if not column.in_clear_for(role):
        raise ApiError(403, "column_masked", f"cannot {use} on column {column.name}: it is classified "
                       f"{column.level_label}, above clearance {role.clearance_label} of role {role.name}",
                       column=column.name)
    return column


def parse_columns(text: str | None, columns: dict[str, Column], dataset: str) -> list[Column]:
    if not text or not text.strip():
        return list(columns.values())
    chosen: dict[str, Column] = {}
    for name in (part.strip() for part in text.split(",")):
        if not name:
            raise bad_request("bad_columns", "columns= is a comma-separated list of column names")
        chosen.setdefault(name, known_column(name, columns, dataset))
    return list(chosen.values())


def parse_filter(text: str, columns: dict[str, Column], role: Role, dataset: str) -> Filter:
    parts = text.split(":", 2)
    if len(parts) != 3 or not parts[0]:
        raise bad_request("bad_filter", f"filter {text!r} is not column:op:value", filter=text)
    name, op, raw = parts
    column = known_column(name, columns, dataset)
    if op not in OPS:
        raise bad_request("unknown_op", f"unknown filter op {op!r} (ops: {', '.join(OPS)})", op=op,
                          ops=list(OPS))
    visible(column, role, "filter")
    if op == "like" and not column.is_text:
        raise bad_request("bad_filter", f"like applies to text columns; {name} is {column.data_type}",
                          filter=text)
    raws = raw.split(",") if op == "in" else [raw]
    if len(raws) > MAX_IN_VALUES:
        raise bad_request("bad_filter", f"in takes at most {MAX_IN_VALUES} values", filter=text)
    return Filter(name, op, tuple(typed_value(value, column) for value in raws))


def parse_sort(text: str | None, columns: dict[str, Column], role: Role, dataset: str) -> list[tuple[str, bool]]:
    if not text or not text.strip():
        return []
    keys: dict[str, bool] = {}
    for part in (p.strip() for p in text.split(",")):
        descending = part.startswith("-")
        name = part.lstrip("-+")
        if not name:
            raise bad_request("bad_sort", "sort= is a comma-separated list of columns, '-' for descending")
        visible(known_column(name, columns, dataset), role, "sort")
        keys.setdefault(name, descending)
    return list(keys.items())


def parse_limit(limit: int) -> int:
    if limit > MAX_LIMIT:
        raise bad_request("page_too_large", f"limit {limit} is above the maximum page of {MAX_LIMIT} rows",
                          maximum=MAX_LIMIT)
    if limit < 1:
        raise bad_request("bad_limit", "limit must be at least 1")
    return limit


# ------------------------------------------------------------------------------------------------ cursor

def fingerprint(dataset: str, query: RowsQuery, pin: dict, role: Role) -> str:
    """What a cursor belongs to: the same question asked by the same role (any page of it)."""
    shape = [dataset, [c.name for c in query.columns], [f.normalised() for f in query.filters], query.sort,
             pin, role.name]
    return hashlib.sha256(json.dumps(shape, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_cursor(version: int, offset: int, print_: str) -> str:
    raw = json.dumps({"v": version, "o": offset, "f": print_}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, print_: str) -> tuple[int, int]:
    """(publication version, offset) of a cursor this same query returned, or a 400."""
    bad = bad_request("bad_cursor", "the cursor is not one this query returned (pass next_cursor unchanged, "
                                    "with the same dataset, columns, filters, sort and version)")
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        version, offset, mark = doc["v"], doc["o"], doc["f"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise bad from None
    if (mark != print_ or not isinstance(version, int) or not isinstance(offset, int) or offset < 0
            or version < 1 or offset > 2**62):
        raise bad
    return version, offset


# ---------------------------------------------------------------------------------------------------- SQL

def build_sql(relation: str, all_columns: list[Column], query: RowsQuery, role: Role) -> tuple[str, list]:
    """The page's SELECT and its parameters (one more row than the page, to know whether another follows)."""
    where, params = [], []
    if role.institution_code and any(c.name == BANK_COLUMN for c in all_columns):
        where.append(f"src.{quote(BANK_COLUMN)} = ?")  # a bank's key: its own rows, whatever else is asked
        params.append(role.institution_code)
    for flt in query.filters:
        ref = f"src.{quote(flt.column)}"
        if flt.op == "in":
            where.append(f"{ref} IN ({', '.join('?' for _ in flt.values)})")
        else:
            where.append(f"{ref} {OPS[flt.op]} ?")
        params.extend(flt.values)
    order = [f"src.{quote(name)} {'DESC' if desc else 'ASC'} NULLS LAST" for name, desc in query.sort]
    sorted_names = {name for name, _ in query.sort}
    order += [f"src.{quote(c.name)} ASC NULLS LAST" for c in all_columns
              if c.in_clear_for(role) and c.name not in sorted_names]
    order.append("hash(src) ASC")  # rows equal in every clear column: a fixed order revealing nothing masked
    projections = ", ".join(c.projection(role) for c in query.columns)
    sql = (f"SELECT {projections} FROM (SELECT * FROM {relation}) AS src"
           + (f" WHERE {' AND '.join(where)}" if where else "")
           + f" ORDER BY {', '.join(order)} LIMIT ? OFFSET ?")
    return sql, [*params, query.limit + 1, query.offset]


def scope_of(role: Role, all_columns: list[Column]) -> dict | None:
    if role.institution_code and any(c.name == BANK_COLUMN for c in all_columns):
        return {BANK_COLUMN: role.institution_code}
    return None
