"""Does the lake still hold exactly what the ingestion log says was loaded?

Every group of raw rows (one batch, one source file) must number what its log line says it loaded, every
load the log says is still held must be there (a later load of the partition replaces it, except a file the
later delivery could not read, whose previous rows stay: ``load.replace_partition``), and every log line must
add up (rows read = loaded + quarantined). A difference means rows were lost, doubled or changed outside
ingestion.

The full audit groups the whole raw table by batch and file, a cost that grows with history. A check that last
passed at lake snapshot S (``since=S``) counts only the batches logged after S, filtered on their load time so
DuckLake reads only their data files, and catches a change elsewhere with one whole-table invariant: the table's
row count (from DuckLake's file metadata) equals the sum of the rows the log says are held. When that fails the
full audit runs to say where.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import duckdb

from pipelines.contracts.model import Contract


def discrepancies(con: duckdb.DuckDBPyConnection, contract: Contract, since: int | None = None) -> list[str]:
    """Everything that does not reconcile; a full audit unless ``since`` (a snapshot where it all reconciled).
    Each lake query costs a tenth of a second or more of catalog round trips whatever it reads, so the log is
    read once, with whether each batch was already logged at ``since``."""
    was_logged = "FALSE"
    if since is not None:
        was_logged = (f"batch_id IN (SELECT batch_id FROM meta.ingestion_log AT (VERSION => {int(since)}) "
                      "WHERE dataset = $dataset)")
    try:
        lines = con.execute(
            "SELECT partition_key, batch_id, source_file, status, rows_read, rows_loaded, rows_quarantined, "
            f"started_at, {was_logged} FROM meta.ingestion_log WHERE dataset = $dataset "
            "ORDER BY partition_key, started_at, batch_id", {"dataset": contract.name}).fetchall()
    except duckdb.Error:
        if since is None:
            raise
        return discrepancies(con, contract)  # the snapshot is gone (expired): nothing to scope by
    problems = [f"{file} (batch {batch}): read {read} rows, loaded {loaded} + quarantined {bad}"
                for _, batch, file, _, read, loaded, bad, _, _ in lines if read != loaded + bad]
    held = held_loads(lines)
    if since is None:
        return problems + _compare(con, contract, held, None, set())
    expected = sum(held.values())
    [(total,)] = con.execute(f"SELECT count(*) FROM {contract.raw_table}").fetchall()
    if total != expected:  # rows lost or doubled somewhere: find where
        return [*problems, f"{contract.raw_table} holds {total} rows, the log says {expected} are held",
                *_compare(con, contract, held, None, set())]
    new = {batch: started for _, batch, _, _, _, _, _, started, logged_before in lines if not logged_before}
    if not new:
        return problems
    return problems + _compare(con, contract, held, min(new.values()), set(new))


def held_loads(lines: list[tuple]) -> dict[tuple[str, str], int]:
    """Rows per (batch, source file) the log says the raw table holds now: each partition's last load, plus the
    earlier rows of a file that load rejected (they were kept). ``lines`` are the dataset's log lines in load
    order (partition_key, batch_id, source_file, status, rows_read, rows_loaded, ...)."""
    batches: dict[str, dict[str, list]] = defaultdict(dict)  # partition -> batch -> lines, in load order
    for partition, batch, file, status, _, loaded, *_ in lines:
        batches[partition].setdefault(batch, []).append((file, status, loaded))
    held: dict[tuple[str, str], int] = {}
    for loads in batches.values():
        current: dict[str, tuple[str, int]] = {}  # source file -> (batch, rows)
        for batch, files in loads.items():
            kept = {f: current[f] for rejected, status, _ in files if status == "rejected"
                    for f in current if _rejected_copy_of(rejected, f)}
            current = kept | {f: (batch, loaded) for f, status, loaded in files if status != "rejected"}
        held |= {(batch, f): rows for f, (batch, rows) in current.items()}
    return held


def _rejected_copy_of(rejected: str, path: str) -> bool:
    """A rejected file is logged at landing/rejected/<its path under landing> (``load.rejected_path``)."""
    _, sep, tail = rejected.rpartition("/rejected/")
    return bool(sep) and path.endswith("/" + tail)


def _compare(con: duckdb.DuckDBPyConnection, contract: Contract, held: dict[tuple[str, str], int],
             loaded_from: datetime | None, batches: set[str]) -> list[str]:
    """Raw rows grouped by batch and file against ``held``: all of them, or the batches loaded from
    ``loaded_from`` on (all rows of a batch share one load time; a constant lets DuckLake skip older files)."""
    where = "" if loaded_from is None else f"WHERE _loaded_at >= TIMESTAMPTZ '{loaded_from.isoformat()}'"
    groups = {(b, f): n for b, f, n in con.execute(
        f"SELECT _batch_id, _source_file, count(*) FROM {contract.raw_table} {where} GROUP BY ALL").fetchall()}
    expected = held if loaded_from is None else {k: n for k, n in held.items() if k[0] in batches}
    problems = []
    for (batch, file), n in sorted(groups.items() | {k: 0 for k in expected.keys() - groups.keys()}.items(),
                                   key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        logged = expected.get((batch, file))
        if logged is None and loaded_from is not None:
            logged = held.get((batch, file))  # a group in the window from an older batch (not expected)
        if n != (logged or 0):
            says = "no held load" if logged is None else f"{logged} were loaded"
            problems.append(f"{file} (batch {batch}): {n} rows in {contract.raw_table}, the log says {says}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """``python -m pipelines.ingest.reconcile [dataset ...]``: the full audit, of every dataset or those named."""
    import sys

    from pipelines.contracts.model import all_contracts
    from pipelines.lake.connection import reader

    names = (sys.argv[1:] if argv is None else argv) or list(all_contracts())
    failed = 0
    with reader() as con:
        for name in names:
            problems = discrepancies(con, all_contracts()[name])
            failed += bool(problems)
            print(f"{name}: {'reconciles' if not problems else f'{len(problems)} discrepancies'}")
            for problem in problems:
                print(f"  {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
