"""Report months as the demo sources count them: ``YYYY-MM`` strings and month indices (year * 12 + month - 1).

One place for the calendar arithmetic every demo family needs.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from functools import cache


def month_index(month: str) -> int:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValueError(f"not a YYYY-MM month: {month!r}")
    return int(month[:4]) * 12 + int(month[5:]) - 1


def month_str(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_first(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


@cache
def month_end(index: int) -> dt.date:
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def index_of(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
