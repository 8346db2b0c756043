"""Shared pieces of the enterprise family: months and days, exact number formatting, the JSON-lines writer.

The public data platform's API is dumped as JSON lines: UTF-8, one object per line, camelCase keys (the
contracts' ``businessName``s), numbers written as JSON numbers exactly as the platform holds them (money
as yuan with two decimals, never through a float), dates as ``YYYY-MM-DD`` strings, timestamps as
``YYYY-MM-DD HH:MM:SS`` (Beijing time, no zone, as the platform writes them).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from collections.abc import Iterable
from pathlib import Path

from pipelines.demo.months import (  # noqa: F401  (the enterprise modules import them from here)
    add_months,
    index_of,
    month_end,
    month_first,
    month_index,
    month_str,
)

ENCODING = "utf-8"


class Num(str):
    """A JSON number kept as its exact text: written without quotes."""


def money(cents: int) -> Num:
    """Integer cents as yuan with two decimals: 123456 -> 1234.56 (negative amounts keep their sign)."""
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return Num(f"{sign}{cents // 100}.{cents % 100:02d}")


def fixed(value: int, scale: int) -> Num:
    """An integer in units of 10**-scale as a decimal number: fixed(12345, 4) -> 1.2345."""
    sign, value = ("-", -value) if value < 0 else ("", value)
    unit = 10**scale
    return Num(f"{sign}{value // unit}.{value % unit:0{scale}d}")


def encode(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Num):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return f'"{value:%Y-%m-%d %H:%M:%S}"'
    if isinstance(value, dt.date):
        return f'"{value.isoformat()}"'
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as exact JSON")


def line(record: dict[str, object]) -> str:
    return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{encode(v)}" for k, v in record.items()) + "}\n"


def write_jsonl(path: Path, records: Iterable[dict[str, object]]) -> int:
    """Write the dump through a temporary name, so a file-drop sensor never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", encoding=ENCODING, newline="\n") as f:
        for record in records:
            f.write(line(record))
            count += 1
    os.replace(tmp, path)
    return count


def read_jsonl(path: Path) -> list[dict[str, object]]:
    """Records with numbers kept as their exact text (``Num``), so a rewrite changes nothing else."""
    with path.open(encoding=ENCODING) as f:
        return [json.loads(text, parse_float=Num, parse_int=Num) for text in f if text.strip()]


# --- months and days ------------------------------------------------------------------------------------
def last_weekday(index: int) -> dt.date:
    """The month's last Monday-to-Friday: the demo's last trading day (exchange holidays are ignored)."""
    day = month_end(index)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def random_day(rng: random.Random, index: int, weekdays: bool = False) -> dt.date:
    end = month_end(index)
    while True:
        day = end.replace(day=rng.randint(1, end.day))
        if not weekdays or day.weekday() < 5:
            return day


def rng_for(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(["enterprise", str(seed), *map(str, parts)]))


def round_to(value: float, step: int) -> int:
    """``value`` rounded to a multiple of ``step`` (at least one step)."""
    return max(step, round(value / step) * step)
