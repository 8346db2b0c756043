"""What the catalog reads from the lake itself: physical columns, row counts, last snapshots, loads, checks."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import duckdb

from pipelines.catalog.entries import ColumnEntry, DatasetEntry, QualityResult
from pipelines.contracts.model import Contract
from pipelines.contracts.sla import due_date, period_due, period_end  # the schedules' rule too
from pipelines.lake.connection import retry_transient
from pipelines.lake.inspect import LATEST_LOADS, last_snapshots, row_counts
from pipelines.settings import LAKE_ALIAS, Settings


def physical_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """<schema>.<table> -> [(column, type)] in the lake, in column order."""
    rows = retry_transient(lambda: con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? ORDER BY table_schema, table_name, ordinal_position", [LAKE_ALIAS]).fetchall())
    found: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, type_ in rows:
        found.setdefault(f"{schema}.{table}", []).append((column, type_))
    return found


def apply_physical(entry: DatasetEntry, columns: list[tuple[str, str]], settings: Settings) -> None:
    """The lake's types onto the declared columns; columns only the lake has are added (drift reports them)."""
    for name, type_ in columns:
        column = entry.column(name)
        if column is None:
            entry.columns.append(ColumnEntry(name, data_type=type_))
        else:
            column.data_type = type_
    if entry.kind == "table":
        schema, table = entry.dataset.split(".")
        entry.location = f"{settings.data_path}{schema}/{table}/"  # DuckLake's layout of a table's data files


def apply_counts(con: duckdb.DuckDBPyConnection, datasets: dict[str, DatasetEntry], log: Callable[[str], None]) -> None:
    snapshots = last_snapshots(con)
    in_lake = {name: tuple(name.partition(".")[::2]) for name in datasets}
    in_lake = {name: table for name, table in in_lake.items() if table in snapshots}
    counts = row_counts(con, list(in_lake.values()), on_error=log)
    for name, table in in_lake.items():
        entry = datasets[name]
        entry.snapshot_id, entry.snapshot_time = snapshots[table]
        entry.row_count = counts[table]


LOADS_SQL = f"""
    WITH latest AS ({LATEST_LOADS})
    SELECT dataset, max(partition_key) FILTER (WHERE status <> 'rejected'),
           max(finished_at) FILTER (WHERE status <> 'rejected'),
           count(*) FILTER (WHERE status = 'rejected'), sum(rows_read)::BIGINT, sum(rows_loaded)::BIGINT,
           sum(rows_quarantined)::BIGINT, coalesce(sum(rows_warned), 0)::BIGINT, count(*),
           bool_and(rows_read = rows_loaded + rows_quarantined)
    FROM latest GROUP BY dataset"""


def latest_loads(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in retry_transient(lambda: con.execute(LOADS_SQL).fetchall())}


def freshness(contract: Contract, load: tuple | None, today: dt.date) -> tuple[str, str]:
    """(status, detail) of a raw dataset against its contract's SLA: is the latest period that is due loaded?"""
    if load is None or load[0] is None or load[1] is None:
        return "never loaded", "no delivery has been loaded"
    latest, loaded_at = load[0], load[1]
    if contract.granularity == "snapshot":
        period = {"month": 31, "year": 366, "day": contract.sla.every}[contract.sla.frequency]
        deadline = loaded_at.date() + dt.timedelta(days=period + contract.sla.latency_days)
        if today > deadline:
            return "overdue", f"last snapshot loaded {loaded_at.date()}; the next was due by {deadline}"
        return "fresh", f"last snapshot loaded {loaded_at.date()}"
    due = period_due(contract, today)
    if due is None or latest >= due:
        return "fresh", f"latest period {latest} loaded; {due} is the latest due"
    deadline = due_date(contract, period_end(contract, due))
    return "overdue", f"latest period loaded is {latest}; {due} was due by {deadline}"


def contract_checks(con: duckdb.DuckDBPyConnection, contract: Contract, load: tuple | None) -> list[QualityResult]:
    """The contract's validation of the latest load of every partition: the files, then each rule's count."""
    raw = contract.raw_table
    if load is None:
        return []
    _, loaded_at, rejected, read, loaded, quarantined, warned, files, reconciles = load
    status = "failed" if rejected or not reconciles else ("warned" if quarantined or warned else "passed")
    details = {"files": files, "files_rejected": rejected, "rows_read": read, "rows_loaded": loaded,
               "rows_quarantined": quarantined, "rows_warned": warned, "reconciles": reconciles}
    results = [QualityResult(raw, "contract", "ingestion", status, rejected + quarantined, json.dumps(details),
                             loaded_at)]
    by_rule = retry_transient(lambda: con.execute(
        f"SELECT rule, severity, count(*), max(loaded_at) FROM {LAKE_ALIAS}.{contract.quarantine_table} "
        "GROUP BY rule, severity ORDER BY rule").fetchall())
    for rule, severity, count, at in by_rule:
        results.append(QualityResult(raw, "contract", rule, "warned" if severity == "warning" else "failed", count,
                                     f"{count} rows {'warned' if severity == 'warning' else 'quarantined'}", at))
    return results


QUALITY_SQL = f"""
    SELECT dataset, split_part(suite, ':', 1), substr(suite, strpos(suite, ':') + 1), passed, expectations_failed,
           details, evaluated_at
    FROM {LAKE_ALIAS}.meta.quality_results
    QUALIFY row_number() OVER (PARTITION BY dataset, suite ORDER BY evaluated_at DESC) = 1"""


def recorded_checks(con: duckdb.DuckDBPyConnection) -> list[QualityResult]:
    """The latest result of every dbt test and Great Expectations suite recorded in meta.quality_results
    (suites are named ``<kind>:<name>``: ``great_expectations:…``, ``dbt_test:…``)."""
    return [QualityResult(dataset, kind, suite, "passed" if passed and not (details or "").startswith("warn:")
                          else "warned" if passed else "failed", failed, details, at)
            for dataset, kind, suite, passed, failed, details, at in
            retry_transient(lambda: con.execute(QUALITY_SQL).fetchall())]


def apply_publications(con: duckdb.DuckDBPyConnection, datasets: dict[str, DatasetEntry]) -> None:
    """A published dataset is the mart at the snapshot of its latest publication."""
    rows = retry_transient(lambda: con.execute(f"""
        SELECT dataset, max(version), arg_max(snapshot_id, version), arg_max(row_count, version), max(published_at)
        FROM {LAKE_ALIAS}.meta.publications GROUP BY dataset""").fetchall())
    for mart, version, snapshot, rows_, at in rows:
        entry = datasets.get("published." + mart.split(".", 1)[1])
        if entry is not None:
            entry.snapshot_id, entry.row_count, entry.snapshot_time = snapshot, rows_, at
            entry.location = f"{mart} AT (VERSION => {snapshot})"
            entry.contract_version = f"publication {version}"
