"""Checks that cost the new data, not the history (issue 9): the ingest reconciliation scoped to the batches
logged since it last passed still catches rows changed anywhere."""

import re

from pipelines.contracts.model import all_contracts
from pipelines.ingest.load import load_partition, partition_files
from pipelines.ingest.reconcile import discrepancies
from pipelines.lake.connection import current_snapshot, reader, writer

CONTRACT = all_contracts()["bank_loans"]


def _load(settings, month):
    return load_partition(CONTRACT, month, settings, log=lambda _: None)


def _passed_at(settings) -> int:
    with reader(settings) as con:
        assert discrepancies(con, CONTRACT) == []
        return current_snapshot(con)


def _scoped(settings, since):
    with reader(settings) as con:
        return discrepancies(con, CONTRACT, since=since)


def test_scoped_check_catches_a_row_deleted_from_an_old_batch(landed):
    _load(landed, "2020-01")
    _load(landed, "2020-02")
    since = _passed_at(landed)
    _load(landed, "2020-03")
    assert _scoped(landed, since) == []
    with writer(landed) as con:  # someone deletes a January loan by hand: outside the batches the check counts
        con.execute("DELETE FROM raw.bank__loans WHERE rowid = "
                    "(SELECT min(rowid) FROM raw.bank__loans WHERE report_month = '2020-01-01')")
    problems = _scoped(landed, since)
    assert problems[0] == f"raw.bank__loans holds {_count(landed)} rows, the log says {_count(landed) + 1} are held"
    # the full audit that follows names the file the row went missing from
    [named] = problems[1:]
    assert "2020-01" in named and "the log says" in named


def test_scoped_check_catches_a_row_added_to_a_new_batch(landed):
    _load(landed, "2020-01")
    since = _passed_at(landed)
    new = _load(landed, "2020-02")
    with writer(landed) as con:  # a February loan doubled outside ingestion, and a January one lost: same total
        con.execute("INSERT INTO raw.bank__loans SELECT * FROM raw.bank__loans WHERE report_month = '2020-02-01' "
                    "LIMIT 1")
        con.execute("DELETE FROM raw.bank__loans WHERE rowid = "
                    "(SELECT min(rowid) FROM raw.bank__loans WHERE report_month = '2020-01-01')")
    [problem] = _scoped(landed, since)  # the total is right: counting the new batch finds it
    assert re.search(rf"\(batch {new.batch_id}\): (\d+) rows in raw.bank__loans, the log says (\d+) were", problem)
    held, logged = map(int, re.search(r": (\d+) rows in .*says (\d+) were", problem).groups())
    assert held == logged + 1


def test_nothing_new_passes_scoped_and_full(landed):
    _load(landed, "2020-01")
    since = _passed_at(landed)
    assert _scoped(landed, since) == []
    assert _scoped(landed, None) == []  # no previous pass: the full audit


def test_a_reloaded_partition_and_a_rejected_redelivery_reconcile(landed):
    """What the log says is held follows the loads: a reload replaces the partition's rows, a file the reload
    could not read keeps its earlier rows (under the earlier batch)."""
    _load(landed, "2020-01")
    since = _passed_at(landed)
    _load(landed, "2020-01")
    assert _scoped(landed, since) == []
    broken = partition_files(CONTRACT, landed.landing, "2020-01")[0]
    header, first, second = broken.read_bytes().split(b"\n")[:3]
    broken.write_bytes(b"\n".join([header, first, b",".join(second.split(b",")[:5])]))
    assert _load(landed, "2020-01").rejected
    assert _scoped(landed, since) == []
    _passed_at(landed)  # and the full audit agrees
    with writer(landed) as con:  # rows of a replaced load left behind would double the month
        con.execute("INSERT INTO raw.bank__loans SELECT * REPLACE ('old-batch' AS _batch_id) FROM raw.bank__loans "
                    "WHERE report_month = '2020-01-01' LIMIT 2")
    with reader(landed) as con:
        [problem] = discrepancies(con, CONTRACT)
    assert "(batch old-batch): 2 rows in raw.bank__loans, the log says no held load" in problem


def _count(settings) -> int:
    with reader(settings) as con:
        return con.execute("SELECT count(*) FROM raw.bank__loans").fetchone()[0]
