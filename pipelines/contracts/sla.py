"""The delivery calendar a contract's SLA implies: when a period is due and which period is due by a date.
One rule for the Dagster schedules and freshness policies and for the catalog's freshness."""

from __future__ import annotations

import calendar
import datetime as dt

from pipelines.contracts.model import Contract


def due_date(contract: Contract, period_end: dt.date) -> dt.date:
    """The day a period's delivery is due under the contract's SLA (latency after the period ends)."""
    return period_end + dt.timedelta(days=contract.sla.latency_days)


def period_end(contract: Contract, partition_key: str) -> dt.date:
    """The last day of a month (``YYYY-MM``) or year (``YYYY``) partition."""
    if contract.granularity == "month":
        year, month = int(partition_key[:4]), int(partition_key[5:7])
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    return dt.date(int(partition_key), 12, 31)


def period_due(contract: Contract, today: dt.date) -> str | None:
    """The latest partition whose delivery is due by ``today`` (None for a snapshot dataset)."""
    if contract.granularity == "month":
        year, month = today.year, today.month
        for _ in range(3):  # the previous month, or the one before if it is not due yet
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
            if due_date(contract, period_end(contract, f"{year:04d}-{month:02d}")) < today:
                return f"{year:04d}-{month:02d}"
    if contract.granularity == "year":
        year = today.year - 1
        return str(year if due_date(contract, period_end(contract, str(year))) < today else year - 1)
    return None
