"""Does the lake still hold exactly what the ingestion log says was loaded?

Every group of raw rows (one batch, one source file) must number what its log line says it loaded, and
every log line must add up (rows read = loaded + quarantined). A difference means rows were lost,
doubled or changed outside ingestion.
"""

from __future__ import annotations

import duckdb

from pipelines.contracts.model import Contract


def discrepancies(con: duckdb.DuckDBPyConnection, contract: Contract) -> list[str]:
    problems = [
        f"{file} (batch {batch}): read {read} rows, loaded {loaded} + quarantined {bad}"
        for batch, file, read, loaded, bad in con.execute(
            "SELECT batch_id, source_file, rows_read, rows_loaded, rows_quarantined FROM meta.ingestion_log "
            "WHERE dataset = ? AND rows_read <> rows_loaded + rows_quarantined", [contract.name]).fetchall()
    ]
    problems += [
        f"{file} (batch {batch}): {held} rows in {contract.raw_table}, the log says {logged} were loaded"
        for batch, file, held, logged in con.execute(f"""
            WITH held AS (
                SELECT _batch_id AS batch_id, _source_file AS source_file, count(*) AS held
                FROM {contract.raw_table} GROUP BY ALL)
            SELECT held.batch_id, held.source_file, held.held, log.rows_loaded
            FROM held LEFT JOIN meta.ingestion_log AS log
              ON log.dataset = ? AND log.batch_id = held.batch_id AND log.source_file = held.source_file
            WHERE log.rows_loaded IS DISTINCT FROM held.held
            ORDER BY ALL""", [contract.name]).fetchall()
    ]
    return problems
