"""Every demo source family and how to generate it into landing/.

Each family module exposes the same two functions:

- ``generate(landing: Path, *, scale: float, seed: int, months: Sequence[str], on_file=None) -> list[Path]``
  writes the family's files for the given report months (``YYYY-MM``; yearly and snapshot datasets are
  written for the years and the last month those months cover) and returns their paths; ``on_file(path,
  rows)`` is called after each file is written. Same arguments, byte-identical files.
- ``inject_defects(path: Path, rate: float, seed: int) -> int`` gives about ``rate`` of the rows of one
  of the family's files one defect each (for tests) and returns how many rows it changed.
"""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

FAMILIES = {
    "bank_loans": "pipelines.demo.bank_loans",
    "bank_reports": "pipelines.demo.bank_reports",
    "enterprise": "pipelines.demo.enterprise",
    "public_reference": "pipelines.demo.public_reference",
    "public_records": "pipelines.demo.public_records",
    "local_finance": "pipelines.demo.local_finance",
}
HISTORY = ("2019-01", "2025-12")  # the plan's baseline year to its last year


def family(name: str) -> ModuleType:
    if name not in FAMILIES:
        raise KeyError(f"unknown demo source family {name!r}; known: {', '.join(FAMILIES)}")
    return importlib.import_module(FAMILIES[name])


def generate_all(landing: Path, *, scale: float, seed: int, months: Sequence[str],
                 families: Sequence[str] = tuple(FAMILIES),
                 on_file: Callable[[Path, int], None] | None = None) -> list[Path]:
    return [path for name in families
            for path in family(name).generate(landing, scale=scale, seed=seed, months=months, on_file=on_file)]


def parse_months(spec: str) -> list[str]:
    """``2020-01:2020-12`` (inclusive range) or ``2020-01,2020-06`` (list) -> ['2020-01', ...]."""
    parts = [m.strip() for m in spec.replace(":", ",").split(",") if m.strip()]
    for month in parts:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise argparse.ArgumentTypeError(f"not a YYYY-MM month: {month!r}")
    if ":" not in spec:
        return parts
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"a range is FIRST:LAST, got {spec!r}")
    start, end = (int(m[:4]) * 12 + int(m[5:]) - 1 for m in parts)
    if end < start:
        raise argparse.ArgumentTypeError(f"empty month range: {spec}")
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(start, end + 1)]
