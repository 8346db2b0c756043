"""Reading published marts: the validated version consumers cite, the latest or one pinned by version or date.

A publication (``meta.publications``, written by ``pipelines/assets/publish.py``) names the lake snapshot its checks
validated; reading the mart ``AT (VERSION => snapshot_id)`` gives exactly the figures that were published, however
the mart changed since. Every consumer (the API, the one screen, an analyst's query) resolves versions here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from pipelines.lake.sql import quote


class NotPublished(LookupError):
    """The mart has no publication matching the request (never published, or not at that version or date)."""


@dataclass(frozen=True)
class Publication:
    dataset: str
    version: int
    snapshot_id: int
    row_count: int
    checks: str
    published_at: dt.datetime

    def relation(self) -> str:
        """The mart as it was published, for a FROM clause."""
        schema, table = self.dataset.split(".", 1)
        return f"{quote(schema)}.{quote(table)} AT (VERSION => {int(self.snapshot_id)})"


COLUMNS = "dataset, version, snapshot_id, row_count, checks, published_at"


def resolve(con: duckdb.DuckDBPyConnection, dataset: str, version: int | None = None,
            as_of: dt.date | dt.datetime | None = None) -> Publication:
    """The publication to read: ``version`` if given, else the latest published on or before ``as_of`` (a date
    means the end of that day, UTC), else the latest."""
    where, params = ["dataset = ?"], [dataset]
    if version is not None:
        where.append("version = ?")
        params.append(int(version))
    if as_of is not None:
        if not isinstance(as_of, dt.datetime):
            as_of = dt.datetime.combine(as_of, dt.time.max, tzinfo=dt.UTC)
        elif as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=dt.UTC)
        where.append("published_at <= ?")
        params.append(as_of)
    row = con.execute(f"SELECT {COLUMNS} FROM meta.publications WHERE {' AND '.join(where)} "
                      "ORDER BY version DESC LIMIT 1", params).fetchone()
    if row is None:
        wanted = (f" version {version}" if version is not None else "") + (f" as of {as_of:%Y-%m-%d %H:%M:%S %Z}"
                                                                          if as_of is not None else "")
        raise NotPublished(f"{dataset} has no publication{wanted}")
    return Publication(*row)


def history(con: duckdb.DuckDBPyConnection, dataset: str) -> list[Publication]:
    """Every publication of the mart, newest first."""
    return [Publication(*row) for row in con.execute(
        f"SELECT {COLUMNS} FROM meta.publications WHERE dataset = ? ORDER BY version DESC", [dataset]).fetchall()]


def latest_all(con: duckdb.DuckDBPyConnection) -> dict[str, Publication]:
    """The latest publication of every published mart."""
    rows = con.execute(f"SELECT {COLUMNS} FROM meta.publications QUALIFY "
                       "row_number() OVER (PARTITION BY dataset ORDER BY version DESC) = 1").fetchall()
    return {row[0]: Publication(*row) for row in rows}


@dataclass(frozen=True)
class CheckStatus:
    """The newest Great Expectations result of a mart, which decides whether it can be published."""
    dataset: str
    passed: bool
    snapshot_id: int | None
    evaluated_at: dt.datetime
    details: str | None


def latest_check(con: duckdb.DuckDBPyConnection, dataset: str) -> CheckStatus | None:
    """A mart whose newest check failed stays at its last good publication; this says so."""
    row = con.execute(
        "SELECT dataset, passed, snapshot_id, evaluated_at, details FROM meta.quality_results "
        "WHERE dataset = ? AND suite LIKE 'great_expectations:%' "
        "ORDER BY snapshot_id DESC NULLS LAST, evaluated_at DESC LIMIT 1", [dataset]).fetchone()
    return CheckStatus(*row) if row else None
