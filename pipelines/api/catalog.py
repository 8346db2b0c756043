"""What the API knows of a published mart: its catalog entry, its columns with their classification, its checks.

Served datasets are the marts with a publication (``meta.publications``), named without their schema
(``fct_green_loan_balance_monthly``); the catalog (``meta.catalog_*``, entries ``published.<mart>`` and
``marts.<mart>``) adds descriptions, owners and classifications. The columns themselves are the published
relation's, so a pinned old version is described as it was; a column the catalog does not know counts as L5.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import duckdb

from pipelines.api.errors import ApiError
from pipelines.api.masking import Column
from pipelines.lake import publications
from pipelines.lake.publications import Publication

SCHEMA = "marts"
T = TypeVar("T")
ENTRY_FIELDS = ("description", "owner", "domain", "quality", "freshness", "freshness_detail", "sla", "built_at")


def qualified(name: str) -> str:
    return f"{SCHEMA}.{name}"


def short(dataset: str) -> str:
    return dataset.split(".", 1)[1] if dataset.startswith(f"{SCHEMA}.") else dataset


def if_exists(fn: Callable[[], T], default: T) -> T:
    """``fn()``, or ``default`` when a meta table it reads is not there yet (a lake never catalogued, say).
    Asking information_schema first would list every table of the lake, which takes half a second."""
    try:
        return fn()
    except duckdb.CatalogException:
        return default


def published(con: duckdb.DuckDBPyConnection) -> dict[str, Publication]:
    """The latest publication of every served mart, by API name."""
    latest = if_exists(lambda: publications.latest_all(con), {})
    return {short(ds): pub for ds, pub in latest.items() if ds.startswith(f"{SCHEMA}.")}


def require_published(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """The mart's qualified name, or a 404 when no such mart was ever published."""
    served = published(con)
    if name not in served:
        raise ApiError(404, "unknown_dataset", f"no published dataset {name!r}", datasets=sorted(served))
    return qualified(name)


def entries(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """Catalog entries by API name: the ``published.`` entry (its quality and freshness are the served
    version's) with the ``marts.`` entry's description, which says what the figures are."""
    rows = if_exists(lambda: con.execute(f"SELECT dataset, {', '.join(ENTRY_FIELDS)} FROM meta.catalog_datasets "
                                         "WHERE dataset LIKE 'published.%' OR dataset LIKE 'marts.%'").fetchall(), [])
    by_layer: dict[str, dict[str, dict]] = {"published": {}, "marts": {}}
    for dataset, *values in rows:
        layer, name = dataset.split(".", 1)
        by_layer[layer][name] = dict(zip(ENTRY_FIELDS, values, strict=True))
    found = {}
    for name in by_layer["published"].keys() | by_layer["marts"].keys():
        mart, published_entry = by_layer["marts"].get(name, {}), by_layer["published"].get(name, {})
        found[name] = {**mart, **published_entry,
                       "description": mart.get("description") or published_entry.get("description")}
    return found


def catalog_built_at(con: duckdb.DuckDBPyConnection):
    return if_exists(lambda: con.execute("SELECT max(built_at) FROM meta.catalog_datasets").fetchone()[0], None)


def check_status(con: duckdb.DuckDBPyConnection, dataset: str) -> dict:
    status = if_exists(lambda: publications.latest_check(con, dataset), None)
    if status is None:
        return {"checks": "unknown", "checked_at": None, "checked_snapshot_id": None}
    return {"checks": "passed" if status.passed else "failed", "checked_at": status.evaluated_at,
            "checked_snapshot_id": status.snapshot_id}


def columns(con: duckdb.DuckDBPyConnection, publication: Publication) -> list[Column]:
    """The published relation's columns, described and classified by the catalog."""
    described = con.execute(f"DESCRIBE SELECT * FROM {publication.relation()}").fetchall()
    name = short(publication.dataset)
    catalogued = {column_name: tuple(info) for column_name, *info in if_exists(lambda: con.execute(
        "SELECT column_name, description, classification, personal_information FROM meta.catalog_columns "
        "WHERE dataset IN (?, ?) ORDER BY dataset LIKE 'published.%'",  # the published entry wins
        [f"marts.{name}", f"published.{name}"]).fetchall(), [])}
    return [Column(row[0], row[1], *catalogued.get(row[0], (None, None, None))) for row in described]
