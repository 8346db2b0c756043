"""Load one partition of a contracted dataset into the lake, in one transaction, losing nothing.

The files delivered for the partition are read as strings, checked by the SQL derived from the contract,
and then, in a single lake commit: the partition's previous rows are replaced, rows that break a rule go
to ``quarantine`` with file, row, column, rule and raw value, and every file gets a reconciled line in
``meta.ingestion_log`` (rows_read = rows_loaded + rows_quarantined). Files that cannot be read at all are
moved to ``landing/rejected/`` with a reason file beside them.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.contracts.model import Contract
from pipelines.contracts.rules import MACROS, validation_sql, value_literal
from pipelines.ingest.readers import FileRejected, read_delivered
from pipelines.lake.connection import writer
from pipelines.lake.meta import create_tables
from pipelines.lake.sql import literal, quote
from pipelines.settings import Settings

LINEAGE_COLUMNS = {
    "_source_file": "VARCHAR", "_source_row": "BIGINT", "_batch_id": "VARCHAR",
    "_loaded_at": "TIMESTAMPTZ", "_contract_version": "VARCHAR",
}
QUARANTINE_COLUMNS = {
    "partition_key": "VARCHAR", "source_file": "VARCHAR", "source_row": "BIGINT", "column_name": "VARCHAR",
    "rule": "VARCHAR", "raw_value": "VARCHAR", "raw_record": "VARCHAR", "batch_id": "VARCHAR",
    "loaded_at": "TIMESTAMPTZ", "contract_version": "VARCHAR",
}


@dataclass
class FileResult:
    path: str
    sha256: str
    bytes: int
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rejected: str | None = None


@dataclass
class LoadResult:
    dataset: str
    partition_key: str
    batch_id: str
    files: list[FileResult] = field(default_factory=list)
    snapshot_id: int | None = None

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rejected(self) -> list[FileResult]:
        return [f for f in self.files if f.rejected]


def partition_files(contract: Contract, landing: Path, partition_key: str) -> list[Path]:
    pattern = contract.landing_pattern.format(partition=partition_key)
    return sorted(p for p in landing.glob(pattern) if p.is_file())


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def reject(path: Path, landing: Path, rule: str, detail: str) -> Path:
    """Move a file that cannot be loaded to landing/rejected/, keeping its path, with a reason beside it."""
    target = landing / "rejected" / path.relative_to(landing)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(path, target)
    reason = target.with_name(target.name + ".reason.txt")
    reason.write_text(f"file: {path}\nrule: {rule}\ndetail: {detail}\nat: {datetime.now(UTC).isoformat()}\n",
                      encoding="utf-8")
    return target


def ensure_table(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str],
                 partition_by: str | None = None) -> None:
    """Create the table, or add the columns a newer contract version brought (never drops one)."""
    schema, name = table.split(".")
    existing = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'lake' "
        "AND table_schema = ? AND table_name = ?", [schema, name]).fetchall()}
    if not existing:
        cols = ", ".join(f"{quote(c)} {t}" for c, t in columns.items())
        con.execute(f"CREATE TABLE {table} ({cols})")
        if partition_by:
            con.execute(f"ALTER TABLE {table} SET PARTITIONED BY ({quote(partition_by)})")
        return
    for column, type_ in columns.items():
        if column not in existing:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {quote(column)} {type_}")


def raw_columns(contract: Contract) -> dict[str, str]:
    return {c.name: c.physical_type for c in contract.columns} | LINEAGE_COLUMNS


def load_partition(contract: Contract, partition_key: str, settings: Settings, log=print) -> LoadResult:
    landing = settings.landing
    result = LoadResult(contract.name, partition_key, uuid.uuid4().hex)
    started = datetime.now(UTC)
    tables = {}
    for path in partition_files(contract, landing, partition_key):
        file = FileResult(str(path), sha256(path), path.stat().st_size)
        result.files.append(file)
        try:
            tables[file.path] = read_delivered(path, contract)
            file.rows_read = tables[file.path].num_rows
        except FileRejected as exc:
            file.rejected = f"{exc.rule}: {exc.detail}"
            file.path = str(reject(path, landing, exc.rule, exc.detail))
            log(f"rejected {path}: {exc.rule}: {exc.detail}")

    if not result.files:
        # Nothing delivered for this month: leave whatever the lake holds for it untouched.
        log(f"{contract.name} {partition_key}: no files under {landing}; nothing to load")
        return result

    with writer(settings, purpose=f"ingest {contract.name} {partition_key}", log=log) as con:
        for sql in MACROS:
            con.execute(sql)
        create_tables(con)
        part = contract.partition_column.name
        ensure_table(con, contract.raw_table, raw_columns(contract), partition_by=part)
        ensure_table(con, contract.quarantine_table, QUARANTINE_COLUMNS)

        selects = []
        for i, (path, table) in enumerate(tables.items()):
            con.register(f"_file_{i}", table)
            selects.append(f"SELECT {literal(path)} AS _source_file, * FROM _file_{i}")
        if selects:
            # a view: the Arrow tables are read once, by the validation query, never copied
            con.execute("CREATE TEMP VIEW _delivered AS " + " UNION ALL BY NAME ".join(selects))
        else:
            cols = ", ".join(f"{quote(c.source_name)} VARCHAR" for c in contract.columns)
            con.execute(f"CREATE TEMP TABLE _delivered (_source_file VARCHAR, _source_row BIGINT, {cols})")
        con.execute("CREATE TEMP TABLE _checked AS " + validation_sql(contract, "_delivered", partition_key))

        loaded_at = datetime.now(UTC)
        lineage = [literal(result.batch_id), f"TIMESTAMPTZ '{loaded_at.isoformat()}'",
                   literal(contract.version)]
        typed = ", ".join(quote(c.name) for c in contract.columns)
        raw_json = ", ".join(f"{literal(c.source_name)}: {quote('_raw__' + c.name)}" for c in contract.columns)
        partition_value = value_literal(contract.partition_column, partition_key)

        con.execute("BEGIN")
        try:
            if tables:  # when every file was rejected, the month keeps what it had
                con.execute(f"DELETE FROM {contract.raw_table} WHERE {quote(part)} = {partition_value}")
                con.execute(f"DELETE FROM {contract.quarantine_table} WHERE partition_key = ?", [partition_key])
            con.execute(f"""
                INSERT INTO {contract.raw_table} ({typed}, {', '.join(LINEAGE_COLUMNS)})
                SELECT {typed}, _source_file, _source_row, {', '.join(lineage)}
                FROM _checked WHERE len(_violations) = 0 ORDER BY _source_file, _source_row""")
            con.execute(f"""
                INSERT INTO {contract.quarantine_table} ({', '.join(QUARANTINE_COLUMNS)})
                SELECT {literal(partition_key)}, _source_file, _source_row, v.column, v.rule, v.value,
                       to_json({{{raw_json}}})::VARCHAR, {', '.join(lineage)}
                FROM (SELECT *, unnest(_violations) AS v FROM _checked WHERE len(_violations) > 0)
                ORDER BY _source_file, _source_row""")
            counts = dict(((f, (loaded, bad)) for f, loaded, bad in con.execute("""
                SELECT _source_file, count(*) FILTER (WHERE len(_violations) = 0),
                       count(*) FILTER (WHERE len(_violations) > 0)
                FROM _checked GROUP BY ALL""").fetchall()))
            finished = datetime.now(UTC)
            for file in result.files:
                file.rows_loaded, file.rows_quarantined = counts.get(file.path, (0, 0))
                if file.rows_read != file.rows_loaded + file.rows_quarantined:
                    raise AssertionError(f"{file.path}: read {file.rows_read} rows but accounted for "
                                         f"{file.rows_loaded} loaded + {file.rows_quarantined} quarantined")
                con.execute(
                    "INSERT INTO meta.ingestion_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [result.batch_id, contract.name, partition_key, file.path, file.sha256, file.bytes,
                     file.rows_read, file.rows_loaded, file.rows_quarantined,
                     "rejected" if file.rejected else ("partial" if file.rows_quarantined else "loaded"),
                     file.rejected, contract.version, started, finished])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        result.snapshot_id = con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone()[0]
    return result
