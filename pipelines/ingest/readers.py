"""Read a delivered file into an Arrow table of strings, or reject it with the reason.

Every value is kept as the string that was delivered, without the whitespace around it; typing happens in SQL
derived from the contract, so a bad value becomes a quarantined row instead of a failed file. GB18030 is decoded by
Python's codec (through pyarrow): DuckDB 1.5.5's own gb18030 reader corrupts characters that straddle its buffer edge.

Whatever the format (CSV, JSON lines, XLSX), the result has one string column per contract column
(an optional column the file lacks is all null), ``_extra_columns`` (the columns the contract does not
name, as a JSON object per row, so nothing delivered is dropped) and ``_source_row``: for CSV the n-th
data row, for JSON lines the line number, for XLSX the sheet's row number, as a person would find it.
"""

from __future__ import annotations

import codecs
import csv as stdlib_csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv

from pipelines.contracts.model import Contract


class FileRejected(Exception):
    """A file that cannot be loaded at all: it is set aside with this reason and the rule it broke."""

    def __init__(self, path: Path, rule: str, detail: str):
        super().__init__(f"{path}: {rule}: {detail}")
        self.path, self.rule, self.detail = path, rule, detail


def _header(path: Path, encoding: str) -> list[str]:
    with path.open("rb") as f:
        first = f.readline()
    try:
        line = codecs.decode(first, encoding).lstrip("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise FileRejected(path, "encoding", f"header is not valid {encoding}: {exc.reason}") from None
    return next(stdlib_csv.reader([line]))


def _line_of(path: Path, encoding: str, text: str) -> int | str:
    """The line number of a row pyarrow could not parse (it does not always say); only on the error path."""
    with path.open(encoding=encoding, errors="replace", newline="") as f:
        for number, line in enumerate(f, 1):
            if line.rstrip("\r\n") == text.rstrip("\r\n"):
                return number
    return "?"


def read_delivered(path: Path, contract: Contract) -> pa.Table:
    if path.stat().st_size == 0:
        raise FileRejected(path, "empty", "the file has no bytes")
    reader = {"csv": _read_csv, "jsonl": _read_jsonl, "xlsx": _read_xlsx}[contract.file_format]
    return _conform(path, contract, reader(path, contract))


def _check_header(path: Path, contract: Contract, header: list[str]) -> None:
    if len(set(header)) != len(header):
        twice = sorted({h for h in header if header.count(h) > 1})
        raise FileRejected(path, "duplicate_column", f"headers appear twice: {', '.join(twice)}")
    missing = [c.source_name for c in contract.columns if c.required and c.source_name not in header]
    if missing:
        raise FileRejected(path, "missing_column", f"required columns absent: {', '.join(missing)}")


def _conform(path: Path, contract: Contract, table: pa.Table) -> pa.Table:
    """The contract's columns in its order (absent optional ones as nulls) with the whitespace around each value
    removed, extras folded into JSON as delivered."""
    named = {c.source_name for c in contract.columns}
    extras = [name for name in table.column_names if name not in named and name != "_source_row"]
    # Trimmed here, on the reader's thread: Arrow trims a loan month's 24 columns in 0.2 s, DuckDB's trim() in the
    # checking query took 1.2 s of both cores (issue 9). Unicode whitespace: a tab or an ideographic space too.
    columns = {c.source_name: pc.utf8_trim_whitespace(table[c.source_name]) if c.source_name in table.column_names
               else pa.nulls(table.num_rows, pa.string()) for c in contract.columns}
    if extras:
        records = table.select(extras).to_pylist()
        extra_json = pa.array([json.dumps({k: v for k, v in r.items() if v not in (None, "")}, ensure_ascii=False)
                               for r in records], pa.string())
    else:
        extra_json = pa.nulls(table.num_rows, pa.string())
    out = pa.table({**columns, "_extra_columns": extra_json, "_source_row": table["_source_row"]})
    return out.replace_schema_metadata({"extra_columns": json.dumps(extras, ensure_ascii=False)})


def extra_columns(table: pa.Table) -> list[str]:
    """The delivered columns the contract does not name (kept in ``_extra_columns``)."""
    return json.loads((table.schema.metadata or {}).get(b"extra_columns", b"[]"))


def _read_csv(path: Path, contract: Contract) -> pa.Table:
    header = _header(path, contract.encoding)
    _check_header(path, contract, header)
    invalid: list = []

    def first_invalid_row(row) -> str:
        invalid.append(row)
        return "error"

    try:
        table = csv.read_csv(
            path,
            read_options=csv.ReadOptions(encoding=contract.encoding, block_size=16 << 20),
            parse_options=csv.ParseOptions(newlines_in_values=False, invalid_row_handler=first_invalid_row),
            convert_options=csv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except UnicodeDecodeError as exc:
        raise FileRejected(path, "encoding", f"not valid {contract.encoding}: {exc.reason}") from None
    except pa.ArrowInvalid as exc:
        if invalid:
            row = invalid[0]
            line = row.number if row.number is not None else _line_of(path, contract.encoding, row.text)
            detail = (f"line {line} has {row.actual_columns} fields, the header {row.expected_columns}: "
                      f"{row.text[:120]!r}")
        else:
            detail = str(exc).splitlines()[0]
        raise FileRejected(path, "malformed", detail) from None
    # `_source_row` n is the n-th data row, on line n + 1 of the file (line 1 is the header).
    return table.append_column("_source_row", pc.add(pa.array(range(table.num_rows), pa.int64()), 1))


def _json_text(value: object) -> str | None:
    """A JSON value as the string it was delivered as (numbers arrive as their text, see parse_float)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def _read_jsonl(path: Path, contract: Contract) -> pa.Table:
    columns: dict[str, list] = {}
    lines: list[int] = []
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                text = raw.decode(contract.encoding).lstrip("\ufeff")
            except UnicodeDecodeError as exc:
                raise FileRejected(path, "encoding",
                                   f"line {number} is not valid {contract.encoding}: {exc.reason}") from None
            if not text.strip():
                continue
            try:
                # numbers are kept exactly as written: typing (and the scale check) happens in SQL
                record = json.loads(text, parse_float=str, parse_int=str)
            except json.JSONDecodeError as exc:
                raise FileRejected(path, "malformed", f"line {number} is not JSON: {exc.msg} at column {exc.colno}: "
                                                      f"{text[:120]!r}") from None
            if not isinstance(record, dict):
                raise FileRejected(path, "malformed", f"line {number} is not a JSON object")
            row = len(lines)
            for key, value in record.items():
                values = columns.get(key)
                if values is None:  # not setdefault: its default list would be built for every value (quadratic)
                    values = columns[key] = [None] * row
                values.extend([None] * (row - len(values)))
                values.append(_json_text(value))
            lines.append(number)
    if not lines:
        raise FileRejected(path, "empty", "no JSON records in the file")
    _check_header(path, contract, list(columns))
    data = {key: pa.array(values + [None] * (len(lines) - len(values)), pa.string()) for key, values in columns.items()}
    return pa.table({**data, "_source_row": pa.array(lines, pa.int64())})


def _cell_text(value: object) -> str | None:
    """A cell as the text Excel shows: whole numbers without a point, floats to 15 significant digits."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = format(value, ".15g")
        return format(Decimal(text), "f") if "e" in text else text
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: Path, contract: Contract) -> pa.Table:
    """The sheet through calamine (a Rust reader, some 18 times faster than openpyxl on the local financial
    organisations' returns); rows are kept with their sheet row numbers, empty rows included."""
    import python_calamine as calamine  # only XLSX deliveries need it

    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
    except (calamine.CalamineError, OSError, ValueError) as exc:
        raise FileRejected(path, "malformed", f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    try:
        if contract.sheet_name is not None and contract.sheet_name not in book.sheet_names:
            raise FileRejected(path, "missing_sheet", f"no sheet {contract.sheet_name!r}; "
                                                      f"the workbook has {', '.join(book.sheet_names)}")
        name = contract.sheet_name or book.sheet_names[0]
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except (calamine.CalamineError, OSError, ValueError) as exc:
        raise FileRejected(path, "malformed", f"the workbook is damaged ({type(exc).__name__}: {exc})") from None
    finally:
        book.close()
    if len(rows) < contract.header_row:
        raise FileRejected(path, "empty", f"sheet {name!r} has no row {contract.header_row}")
    header = [(_cell_text(h) or "").strip() for h in rows[contract.header_row - 1]]
    while header and not header[-1]:
        header.pop()
    _check_header(path, contract, header)
    data: list[list] = [[] for _ in header]
    numbers = []
    for number, cells in enumerate(rows[contract.header_row:], contract.header_row + 1):
        texts = [_cell_text(v) for v in cells]
        if all(t is None or t == "" for t in texts):
            continue  # blank rows (formatting left below a table) are not records
        if any(t not in (None, "") for t in texts[len(header):]):
            raise FileRejected(path, "malformed", f"row {number} has values beyond the header's {len(header)} columns")
        for i in range(len(header)):
            data[i].append(texts[i] if i < len(texts) else None)
        numbers.append(number)
    return pa.table({**{h: pa.array(v, pa.string()) for h, v in zip(header, data, strict=True)},
                     "_source_row": pa.array(numbers, pa.int64())})
