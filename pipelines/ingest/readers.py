"""Read a delivered file into an Arrow table of strings, or reject it with the reason.

Every value is kept as the string that was delivered; typing happens in SQL derived from the contract,
so a bad value becomes a quarantined row instead of a failed file. GB18030 is decoded by Python's codec
(through pyarrow): DuckDB 1.5.5's own gb18030 reader corrupts characters that straddle its buffer edge.
"""

from __future__ import annotations

import codecs
import csv as stdlib_csv
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
    header = _header(path, contract.encoding)
    missing = [c.source_name for c in contract.columns if c.source_name not in header]
    if missing:
        raise FileRejected(path, "missing_column", f"required columns absent: {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise FileRejected(path, "duplicate_column", "a header appears twice")
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
