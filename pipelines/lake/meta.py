"""The lake's own bookkeeping tables in ``meta``: what was loaded, what was checked, what was published."""

from __future__ import annotations

import duckdb

from pipelines.catalog.tables import TABLES as CATALOG_TABLES
from pipelines.lake.connection import ensure_schemas, writer
from pipelines.settings import LAKE_ALIAS, Settings

TABLES = {
    # One row per delivered file per load: the reconciliation rows_read = rows_loaded + rows_quarantined.
    "ingestion_log": """
        batch_id VARCHAR NOT NULL, dataset VARCHAR NOT NULL, partition_key VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL, file_sha256 VARCHAR, file_bytes BIGINT,
        rows_read BIGINT NOT NULL, rows_loaded BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL,
        status VARCHAR NOT NULL, message VARCHAR, contract_version VARCHAR NOT NULL,
        started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ NOT NULL,
        rows_warned BIGINT, notes VARCHAR""",
    # Results of every quality suite run against a dataset (Great Expectations, contract checks).
    "quality_results": """
        dataset VARCHAR NOT NULL, suite VARCHAR NOT NULL, passed BOOLEAN NOT NULL,
        expectations_evaluated INTEGER NOT NULL, expectations_failed INTEGER NOT NULL,
        details VARCHAR, snapshot_id BIGINT, evaluated_at TIMESTAMPTZ NOT NULL, scope VARCHAR""",
    # Per dbt test, how far it read when it last passed (the newest load time, the lake snapshot): it next reads
    # what came after (dbt_project/macros/tested_rows.sql, pipelines/quality/dbt_results.py).
    "dbt_test_watermarks": """
        test_id VARCHAR NOT NULL, model VARCHAR, tested_through TIMESTAMPTZ, passed_at TIMESTAMPTZ NOT NULL,
        tested_through_snapshot BIGINT, checksum VARCHAR""",
    # A mart version that passed its checks; consumers read it AT (VERSION => snapshot_id).
    "publications": """
        dataset VARCHAR NOT NULL, version INTEGER NOT NULL, snapshot_id BIGINT NOT NULL,
        row_count BIGINT NOT NULL, checks VARCHAR NOT NULL, published_at TIMESTAMPTZ NOT NULL,
        confirmed_snapshot_id BIGINT""",
    **CATALOG_TABLES,  # the data catalog (pipelines/catalog), rebuilt with every pipeline run
}


# Columns added after a table was first released: a lake created before them gains them on bootstrap.
ADDED_COLUMNS = {"ingestion_log": {"rows_warned": "BIGINT", "notes": "VARCHAR"},
                 # which rows a suite validated (JSON, pipelines/quality/expectations.py); null for dbt's tests
                 "quality_results": {"scope": "VARCHAR"},
                 # the newest snapshot whose figures were found equal to the version's (pipelines/assets/publish.py)
                 "publications": {"confirmed_snapshot_id": "BIGINT"},
                 # the snapshot a test read, and a singular test's SQL (pipelines/quality/dbt_results.py)
                 "dbt_test_watermarks": {"tested_through_snapshot": "BIGINT", "checksum": "VARCHAR"}}
# Columns that were required when a table was first released and no longer are.
RELAXED_COLUMNS = {"dbt_test_watermarks": ("model", "tested_through")}  # a test on a mart has no load time


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The meta tables and their added columns that are missing: every writer session asks, and the statements
    that find everything there cost a catalog lookup each (15 of them, ~70 ms a session, issue 9)."""
    ensure_schemas(con)
    existing: dict[str, set[str]] = {}
    required: set[tuple[str, str]] = set()
    for table, column, nullable in con.execute(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
            "WHERE table_catalog = ? AND table_schema = 'meta'", [LAKE_ALIAS]).fetchall():
        existing.setdefault(table, set()).add(column)
        if nullable == "NO":
            required.add((table, column))
    for name, columns in TABLES.items():
        if name not in existing:
            con.execute(f"CREATE TABLE IF NOT EXISTS meta.{name} ({columns})")
    for name, added in ADDED_COLUMNS.items():
        for column, type_ in added.items():
            if name in existing and column not in existing[name]:  # a new table has them from TABLES
                con.execute(f"ALTER TABLE meta.{name} ADD COLUMN IF NOT EXISTS {column} {type_}")
    for name, columns in RELAXED_COLUMNS.items():
        for column in columns:
            if (name, column) in required:
                con.execute(f"ALTER TABLE meta.{name} ALTER COLUMN {column} DROP NOT NULL")


def bootstrap(settings: Settings) -> None:
    """Create the lake (catalog, schemas, meta tables, and an empty raw and quarantine table for every
    data contract) if it is not there; safe to run again. Every dataset exists from the start, so the
    staging views over it resolve before its first delivery."""
    from pipelines.contracts.model import all_contracts  # the lake's shape comes from the contracts
    from pipelines.ingest.load import create_dataset_tables

    with writer(settings, purpose="bootstrap") as con:
        create_tables(con)
        create_dataset_tables(con, *all_contracts().values())
