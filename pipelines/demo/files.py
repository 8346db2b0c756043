"""Demo deliveries as files. Writing goes the way a well-behaved source does: through a temporary name, renamed
when complete, so a landing sensor never sees half a file (the loader ignores ``*.tmp``)."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path


def read_csv(path: Path, encoding: str) -> tuple[list[str], list[list[str]]]:
    """A CSV delivery's header and rows (to inject defects into it, or to read it back)."""
    with path.open(encoding=encoding, newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], encoding: str) -> int:
    """Write a CSV delivery (RFC 4180 line ends) and return its number of data rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            n += 1
    os.replace(tmp, path)
    return n
