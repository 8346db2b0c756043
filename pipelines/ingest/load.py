"""Load one partition of a contracted dataset into the lake, in one transaction, losing nothing.

The files delivered for the partition are read as strings, checked by the SQL derived from the contract,
and then, in a single lake commit: the partition's previous rows are replaced, rows that break a rule go
to ``quarantine`` with file, row, column, rule and raw value, and every file gets a reconciled line in
``meta.ingestion_log`` (rows_read = rows_loaded + rows_quarantined). Files that cannot be read at all are
moved to ``landing/rejected/`` with a reason file beside them.
"""

from __future__ import annotations

import fnmatch
import hashlib
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.contracts.model import Contract
from pipelines.contracts.rules import MACROS, validation_sql, value_literal
from pipelines.ingest.read_ahead import ReadAhead
from pipelines.ingest.readers import FileRejected, extra_columns, read_delivered
from pipelines.lake.connection import current_snapshot, writer
from pipelines.lake.meta import create_tables
from pipelines.lake.sql import literal, quote
from pipelines.settings import LAKE_ALIAS, Settings

LINEAGE_COLUMNS = {
    "_source_file": "VARCHAR", "_source_row": "BIGINT", "_batch_id": "VARCHAR",
    "_loaded_at": "TIMESTAMPTZ", "_contract_version": "VARCHAR",
    "_extra_columns": "VARCHAR",  # delivered columns the contract does not name, as JSON (null if none)
}
QUARANTINE_COLUMNS = {
    "partition_key": "VARCHAR", "source_file": "VARCHAR", "source_row": "BIGINT", "column_name": "VARCHAR",
    "rule": "VARCHAR", "raw_value": "VARCHAR", "raw_record": "VARCHAR", "batch_id": "VARCHAR",
    "loaded_at": "TIMESTAMPTZ", "contract_version": "VARCHAR",
    "severity": "VARCHAR",  # error: the row is here instead of raw; warning: the row loaded, with this warning
}
SNAPSHOT_KEY = "snapshot"  # the partition key logged for a snapshot dataset's loads
COMMIT_EVERY_ROWS = 1_000_000  # rows a load transaction holds (in memory) before it commits (issue 9)
READ_AHEAD_ROWS = COMMIT_EVERY_ROWS  # rows read ahead while the previous partitions are checked and written
READ_THREADS = 2  # files of a partition read at once (see read_files)


@dataclass
class FileResult:
    path: str
    sha256: str
    bytes: int
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_warned: int = 0  # loaded, with a warning recorded in quarantine
    extra_columns: list[str] = field(default_factory=list)
    rejection: FileRejected | None = None

    @property
    def rejected(self) -> str | None:
        """``rule: detail`` when the file could not be read at all."""
        return f"{self.rejection.rule}: {self.rejection.detail}" if self.rejection else None


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
    def rows_warned(self) -> int:
        return sum(f.rows_warned for f in self.files)

    @property
    def rejected(self) -> list[FileResult]:
        return [f for f in self.files if f.rejected]


# Files a delivery is still writing (written under a hidden or temporary name, renamed when complete).
IN_PROGRESS = (".*", "*.part", "*.tmp", "*.crdownload", "*.reason.txt")


def in_progress(path: Path) -> bool:
    return any(fnmatch.fnmatch(path.name, pattern) for pattern in IN_PROGRESS)


def partition_files(contract: Contract, landing: Path, partition_key: str | None) -> list[Path]:
    """The files delivered for a partition (for a snapshot dataset, ``partition_key`` None: all of them)."""
    pattern = contract.landing_pattern.format(partition=partition_key) if partition_key else contract.landing_pattern
    return sorted(p for p in landing.glob(pattern) if p.is_file() and not in_progress(p))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def rejected_path(path: Path, landing: Path) -> Path:
    return landing / "rejected" / path.relative_to(landing)


def reject(path: Path, landing: Path, rule: str, detail: str) -> Path:
    """Move a file that cannot be loaded to landing/rejected/, keeping its path, with a reason beside it."""
    target = rejected_path(path, landing)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(path, target)
    reason = target.with_name(target.name + ".reason.txt")
    reason.write_text(f"file: {path}\nrule: {rule}\ndetail: {detail}\nat: {datetime.now(UTC).isoformat()}\n",
                      encoding="utf-8")
    return target


def _table_ddl(schema: str, name: str, columns: dict[str, str], existing: set[str],
               partition_by: str | None) -> list[str]:
    """The statements that create the table, or add the columns a newer contract version brought."""
    table = f"{quote(schema)}.{quote(name)}"
    if not existing:
        ddl = [f"CREATE TABLE {table} ({', '.join(f'{quote(c)} {t}' for c, t in columns.items())})"]
        return ddl + ([f"ALTER TABLE {table} SET PARTITIONED BY ({quote(partition_by)})"] if partition_by else [])
    return [f"ALTER TABLE {table} ADD COLUMN {quote(c)} {t}" for c, t in columns.items() if c not in existing]


def create_dataset_tables(con: duckdb.DuckDBPyConnection, *contracts: Contract) -> None:
    """Each dataset's raw table (partitioned like its deliveries) and quarantine table, as its contract says;
    columns are only ever added. One transaction: every table is created with its partitioning, or none."""
    existing: dict[tuple[str, str], set[str]] = {}
    for schema, name, column in con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns WHERE table_catalog = ?",
            [LAKE_ALIAS]).fetchall():
        existing.setdefault((schema, name), set()).add(column)
    ddl = []
    for contract in contracts:
        part = contract.partition_column
        for table, columns, partition_by in ((contract.raw_table, raw_columns(contract), part.name if part else None),
                                             (contract.quarantine_table, QUARANTINE_COLUMNS, None)):
            schema, name = table.split(".")
            ddl += _table_ddl(schema, name, columns, existing.get((schema, name), set()), partition_by)
    if not ddl:
        return
    con.execute("BEGIN")
    try:
        for statement in ddl:
            con.execute(statement)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def raw_columns(contract: Contract) -> dict[str, str]:
    return {c.name: c.physical_type for c in contract.columns} | LINEAGE_COLUMNS


def read_file(path: Path, contract: Contract) -> tuple[FileResult, pa.Table | None]:
    file = FileResult(str(path), sha256(path), path.stat().st_size)
    try:
        table = read_delivered(path, contract)
    except FileRejected as exc:
        file.rejection = exc
        return file, None
    file.rows_read, file.extra_columns = table.num_rows, extra_columns(table)
    return file, table


def read_files(paths: list[Path], contract: Contract, log) -> tuple[list[FileResult], dict]:
    """A partition's files, read READ_THREADS at a time: decoding GB18030 holds Python's lock, pyarrow's parsing
    and hashing do not, so one file is decoded while another is parsed (a loan month at scale 1, 12 files:
    2.5 s one after the other, issue 9). Results and messages keep the files' order."""
    if len(paths) > 1:
        pool = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="read-file")
        try:
            read = list(pool.map(lambda path: read_file(path, contract), paths))
        finally:  # an unexpected error does not wait for the files still queued
            pool.shutdown(cancel_futures=True)
    else:
        read = [read_file(path, contract) for path in paths]
    for file, _ in read:
        if file.rejection:
            log(f"rejecting {file.path}: {file.rejection.rule}: {file.rejection.detail}")
        elif file.extra_columns:
            log(f"{file.path}: columns the contract does not name, kept in _extra_columns: "
                f"{', '.join(file.extra_columns)}")
    return [file for file, _ in read], {file.path: table for file, table in read if table is not None}


@dataclass
class Delivered:
    """A partition's files, read and not yet loaded."""
    result: LoadResult
    tables: dict[str, pa.Table]  # file → its rows, conformed to the contract
    started: datetime
    loaded_before: bool  # the ingestion log has seen the partition: it may hold rows to replace


def stage(con: duckdb.DuckDBPyConnection, contract: Contract, group: list[Delivered]) -> None:
    """``_checked``: every delivered row of the group's partitions, typed, with the rules it breaks."""
    # One Arrow table for all of them, registered once and checked by one query: every file was conformed
    # to the contract's columns, so they concatenate without copying; registering per file cost 25 ms a file.
    delivered = [table.append_column("_source_file", pa.array([path] * table.num_rows, pa.string()))
                 .append_column("_partition_key", pa.array([d.result.partition_key] * table.num_rows, pa.string()))
                 for d in group for path, table in d.tables.items()]
    if delivered:
        con.register("_delivered", pa.concat_tables(delivered))
    else:  # every file was rejected: an empty relation of the delivered shape
        cols = ", ".join(f"NULL::VARCHAR AS {quote(c.source_name)}" for c in contract.columns)
        con.execute(f"CREATE OR REPLACE TEMP VIEW _delivered AS SELECT NULL::VARCHAR AS _source_file, "
                    f"NULL::VARCHAR AS _partition_key, NULL::BIGINT AS _source_row, NULL::VARCHAR AS _extra_columns, "
                    f"{cols} WHERE FALSE")
    con.execute("CREATE OR REPLACE TEMP TABLE _checked AS " + validation_sql(contract, "_delivered"))


def unstage(con: duckdb.DuckDBPyConnection) -> None:
    """Release the delivered rows before the next group is read."""
    con.unregister("_delivered")  # the Arrow table, or the empty view
    con.execute("DROP TABLE IF EXISTS _checked")


def replace_partitions(con: duckdb.DuckDBPyConnection, contract: Contract, group: list[Delivered]) -> None:
    """Each partition's rows (a snapshot's: all rows) become those of the files just read; a file that was
    rejected keeps the rows its previous, readable delivery gave (a broken re-delivery must not erase a
    bank's month). A partition the ingestion log has never seen has nothing to delete, which saves most
    of a small partition's cost."""
    part = contract.partition_column
    raw_gone, quarantine_gone = [], []
    for d in group:
        if not d.loaded_before:
            continue
        kept = ", ".join(literal(f.path) for f in d.result.files if f.rejected)
        in_partition = "TRUE" if part is None else f"{quote(part.name)} = {value_literal(part, d.result.partition_key)}"
        raw_gone.append(f"({in_partition}" + (f" AND _source_file NOT IN ({kept}))" if kept else ")"))
        quarantine_gone.append(f"(partition_key = {literal(d.result.partition_key)}"
                               + (f" AND source_file NOT IN ({kept}))" if kept else ")"))
    if raw_gone:
        con.execute(f"DELETE FROM {contract.raw_table} WHERE {' OR '.join(raw_gone)}")
        con.execute(f"DELETE FROM {contract.quarantine_table} WHERE {' OR '.join(quarantine_gone)}")
    batch_id = "CASE _partition_key " + " ".join(
        f"WHEN {literal(d.result.partition_key)} THEN {literal(d.result.batch_id)}" for d in group) + " END"
    lineage = [batch_id, f"TIMESTAMPTZ '{datetime.now(UTC).isoformat()}'", literal(contract.version)]
    typed = ", ".join(quote(c.name) for c in contract.columns)
    # In no particular order (a row's place is its _source_file and _source_row): sorting a loan month's 1.35 M rows
    # by file path cost 0.3 s of its 5 s and wrote the Parquet on one thread (issue 9). A row group is still a run of
    # consecutive delivered rows, so its statistics span a few neighbouring files (2-4 banks' codes a loan month's
    # row group, against 1-2 sorted).
    con.execute(f"""
        INSERT INTO {contract.raw_table} ({typed}, {', '.join(LINEAGE_COLUMNS)})
        SELECT {typed}, _source_file, _source_row, {', '.join(lineage)}, _extra_columns
        FROM _checked WHERE NOT _quarantined""")
    con.execute(f"""
        INSERT INTO {contract.quarantine_table} ({', '.join(QUARANTINE_COLUMNS)})
        SELECT _partition_key, _source_file, _source_row, v.column, v.rule, v.value,
               _raw_record, {', '.join(lineage)}, v.severity
        FROM (SELECT *, unnest(_violations) AS v FROM _checked WHERE len(_violations) > 0)
        ORDER BY _source_file, _source_row""")
    counts = {f: (loaded, bad, warned) for f, loaded, bad, warned in con.execute("""
        SELECT _source_file, count(*) FILTER (WHERE NOT _quarantined), count(*) FILTER (WHERE _quarantined),
               count(*) FILTER (WHERE NOT _quarantined AND len(_violations) > 0)
        FROM _checked GROUP BY ALL""").fetchall()}
    for file in (f for d in group for f in d.result.files):
        file.rows_loaded, file.rows_quarantined, file.rows_warned = counts.get(file.path, (0, 0, 0))
        if file.rows_read != file.rows_loaded + file.rows_quarantined:
            raise AssertionError(f"{file.path}: read {file.rows_read} rows but accounted for "
                                 f"{file.rows_loaded} loaded + {file.rows_quarantined} quarantined")


LOG_FIELDS = ("batch_id", "dataset", "partition_key", "source_file", "file_sha256", "file_bytes", "rows_read",
              "rows_loaded", "rows_quarantined", "rows_warned", "status", "message", "notes", "contract_version",
              "started_at", "finished_at")


def log_files(con: duckdb.DuckDBPyConnection, contract: Contract, group: list[Delivered], landing: Path) -> None:
    finished = datetime.now(UTC)
    rows = []
    for d in group:
        for file in d.result.files:
            status = "rejected" if file.rejected else ("partial" if file.rows_quarantined else "loaded")
            path = str(rejected_path(Path(file.path), landing)) if file.rejected else file.path
            notes = f"columns not in the contract: {', '.join(file.extra_columns)}" if file.extra_columns else None
            rows.append([d.result.batch_id, contract.name, d.result.partition_key, path, file.sha256, file.bytes,
                         file.rows_read, file.rows_loaded, file.rows_quarantined, file.rows_warned, status,
                         file.rejected, notes, contract.version, d.started, finished])
    # one statement for the group's files, not one per file
    con.execute("INSERT INTO meta.ingestion_log (batch_id, dataset, partition_key, source_file, file_sha256, "
                "file_bytes, rows_read, rows_loaded, rows_quarantined, rows_warned, status, message, notes, "
                "contract_version, started_at, finished_at) "
                "SELECT unnest(?, recursive := true)", [[dict(zip(LOG_FIELDS, r, strict=True)) for r in rows]])


def load_partition(contract: Contract, partition_key: str | None, settings: Settings, log=print) -> LoadResult:
    """Load a month (``YYYY-MM``), a year (``YYYY``) or, with ``partition_key`` None, a snapshot dataset."""
    return load_partitions(contract, [partition_key], settings, log)[0]


def load_partitions(contract: Contract, partition_keys: list[str | None], settings: Settings, log=print
                    ) -> list[LoadResult]:
    """Load partitions in one writer session (a backfill of seven years of months pays for attaching the lake
    once, not 84 times), committing them in groups."""
    for key in partition_keys:
        if (key is None) != (contract.partition_column is None):
            raise ValueError(f"{contract.name} is a {contract.granularity} dataset: "
                             + ("it has no partitions" if key else "name the partition to load"))
    landing = settings.landing
    results, todo = [], []
    for key in dict.fromkeys(partition_keys):  # a partition named twice is loaded once
        result = LoadResult(contract.name, key or SNAPSHOT_KEY, uuid.uuid4().hex)
        results.append(result)
        if partition_files(contract, landing, key):
            todo.append((key, result))
        else:  # nothing delivered: leave whatever the lake holds for this partition untouched
            log(f"{contract.name} {result.partition_key}: no files under {landing}; nothing to load")
    if not todo:
        return results
    span = todo[0][1].partition_key + (f"..{todo[-1][1].partition_key}" if len(todo) > 1 else "")
    with writer(settings, purpose=f"ingest {contract.name} {span}", log=log) as con:
        for sql in MACROS:
            con.execute(sql)
        create_tables(con)
        create_dataset_tables(con, contract)
        # Partitions are read one after the other and checked and committed together, so a backfill of seven
        # years of a small dataset plans its checks and commits once instead of 84 times. A group holds its rows
        # in memory until it commits (about 1.4 KB a loan row: 2.8 million rows took 3.9 GB), so once the
        # partitions read hold COMMIT_EVERY_ROWS they are committed and the next ones start a new group. Every
        # partition is committed whole or not at all; after a failure, the partitions of the failed group keep
        # what they held before.
        # Raw and quarantine rows of a partition only ever come from its loads, all of which are logged.
        logged = {k for (k,) in con.execute("SELECT DISTINCT partition_key FROM meta.ingestion_log WHERE dataset = ?",
                                            [contract.name]).fetchall()}
        # Files are read under the lock, so what is committed is what was read, and a load that waited for the
        # lock cannot commit older contents over a newer load; the next partitions are read while a group is
        # checked and written (READ_AHEAD_ROWS more rows in memory).
        def read(item: tuple[str | None, LoadResult]) -> tuple[Delivered, list[str]]:
            key, result = item
            started, messages = datetime.now(UTC), []
            result.files, tables = read_files(partition_files(contract, landing, key), contract, messages.append)
            return Delivered(result, tables, started, result.partition_key in logged), messages

        group: list[Delivered] = []
        try:
            with ReadAhead(todo, read, rows=lambda r: r[0].result.rows_read, max_rows=READ_AHEAD_ROWS) as reads:
                for delivered, messages in reads:
                    for message in messages:  # logged here: the run's log is written from this thread
                        log(message)
                    group.append(delivered)
                    last = delivered.result is todo[-1][1]
                    if sum(d.result.rows_read for d in group) >= COMMIT_EVERY_ROWS or last:
                        _load_group(con, contract, group, landing)
                        group = []
        except BaseException:
            _set_aside([r for _, r in todo if r.snapshot_id is not None], landing)
            raise
    _set_aside([r for _, r in todo], landing)
    return results


def _set_aside(committed: list[LoadResult], landing: Path) -> None:
    """Only once a load is committed are its unreadable files set aside, with their reason beside them."""
    for result in committed:
        for file in result.rejected:
            file.path = str(reject(Path(file.path), landing, file.rejection.rule, file.rejection.detail))


def _commit(con: duckdb.DuckDBPyConnection, committed: list[LoadResult]) -> None:
    con.execute("COMMIT")
    snapshot = current_snapshot(con)
    for result in committed:
        result.snapshot_id = snapshot


def _load_group(con: duckdb.DuckDBPyConnection, contract: Contract, group: list[Delivered], landing: Path) -> None:
    """Partitions read one after the other, checked together, then written and logged in one lake transaction.

    The checks go into a session table before the transaction begins: DuckDB scans a table created inside the
    still-open transaction on one thread, which made writing a loan month at scale 1 slower by 0.4 s (issue 9).
    The checks read nothing from the lake, so what is committed is still what was read under the writer lock."""
    try:
        stage(con, contract, group)
        con.execute("BEGIN")
        try:
            replace_partitions(con, contract, group)
            log_files(con, contract, group, landing)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        _commit(con, [d.result for d in group])  # a failed COMMIT has ended the transaction: nothing to roll back
    finally:
        unstage(con)
