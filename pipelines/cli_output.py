"""How the ``lakehouse`` command prints query results: an aligned table, CSV or JSON.

Values keep their exactness: decimals are written digit for digit (as strings in JSON, where a number
would become a float for most readers), dates and times in ISO 8601. The table printer measures text by
terminal columns, so Chinese (wide) characters line up; it draws with ASCII only, because box-drawing
characters are "ambiguous width" and render double-wide on many CJK terminals.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TextIO

# Control characters a table cell shows escaped, so one row stays one line.
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


def pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def _scalar_text(value: object) -> str | None:
    """Text for values every format writes the same way; None when the caller decides."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")  # never "1E+3" or "0E-10"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return None


def jsonable(value: object) -> object:
    """A JSON-ready copy: exact decimals and odd floats as strings, temporals as ISO 8601, nesting kept."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    text = _scalar_text(value)
    return text if text is not None else str(value)


def text_value(value: object, null: str = "") -> str:
    """A cell as text for CSV (null = empty field) and, with null="NULL", for the table printer."""
    if value is None:
        return null
    if isinstance(value, str):
        return value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return json.dumps(jsonable(value), ensure_ascii=False)
    text = _scalar_text(value)
    return text if text is not None else str(value)


def table_cell(value: object) -> str:
    if isinstance(value, dt.datetime):
        return str(value)  # "2024-01-31 08:00:00+08:00" reads better than the ISO "T"
    text = text_value(value, null="NULL")
    if any(ch in text for ch in _ESCAPES) or any(unicodedata.category(ch) == "Cc" for ch in text):
        text = "".join(_ESCAPES.get(ch, f"\\x{ord(ch):02x}" if unicodedata.category(ch) == "Cc" else ch)
                       for ch in text)
    return text


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def render_table(columns: Sequence[str], rows: Sequence[Sequence[object]], total: int | None = None) -> str:
    """An aligned text table with a footer "N rows"; numbers right-aligned; ``total`` > len(rows) if cut."""
    total = len(rows) if total is None else total
    cells = [[table_cell(v) for v in row] for row in rows]
    right = [any(_is_number(r[i]) for r in rows) and all(r[i] is None or _is_number(r[i]) for r in rows)
             for i in range(len(columns))]
    widths = [max([display_width(c)] + [display_width(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = [" | ".join(pad(c, w) for c, w in zip(columns, widths, strict=True)).rstrip(),
             "-+-".join("-" * w for w in widths)]
    for row in cells:
        lines.append(" | ".join(pad(v, w, r) for v, w, r in zip(row, widths, right, strict=True)).rstrip())
    footer = f"{total} row" + ("" if total == 1 else "s")
    if total > len(rows):
        footer += f" (showing first {len(rows)})"
    lines.append(footer)
    return "\n".join(lines)


def write_csv(out: TextIO, columns: Sequence[str], batches: Iterable[Sequence[Sequence[object]]]) -> int:
    """RFC 4180: a header, CRLF line ends, fields quoted when they need it; returns the rows written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for batch in batches:
        writer.writerows([text_value(v) for v in row] for row in batch)
        count += len(batch)
    return count


def unique_names(columns: Sequence[str]) -> list[str]:
    """JSON object keys must differ: ``select 1 a, 2 a`` gives keys a and a_1."""
    seen: set[str] = set()
    names = []
    for name in columns:
        candidate, n = name, 0
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        names.append(candidate)
    return names


def write_json(out: TextIO, columns: Sequence[str], batches: Iterable[Sequence[Sequence[object]]]) -> int:
    """A JSON array of objects, one per line, streamed; returns the rows written."""
    keys = unique_names(columns)
    count = 0
    out.write("[")
    for batch in batches:
        for row in batch:
            record = dict(zip(keys, (jsonable(v) for v in row), strict=True))
            out.write(("\n" if count == 0 else ",\n") + json.dumps(record, ensure_ascii=False))
            count += 1
    out.write("\n]\n" if count else "]\n")
    return count
