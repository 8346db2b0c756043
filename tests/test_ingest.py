"""Contract-driven ingestion: nothing lost, nothing doubled, bad input explained and kept."""

import csv
import multiprocessing
import shutil
from decimal import Decimal

import pytest

from pipelines.contracts.model import all_contracts
from pipelines.demo.bank_loans import inject_defects
from pipelines.ingest import load as load_module
from pipelines.ingest.load import load_partition, partition_files
from pipelines.lake.connection import reader

CONTRACT = all_contracts()["bank_loans"]


def _file_rows(settings, month):
    rows = []
    for path in partition_files(CONTRACT, settings.landing, month):
        with path.open(encoding="gb18030", newline="") as f:
            rows += list(csv.DictReader(f))
    return rows


def _raw(settings, month, columns="bank_code, loan_id, balance, is_green, _source_file, _source_row"):
    with reader(settings) as con:
        return con.execute(f"SELECT {columns} FROM raw.bank__loans WHERE report_month = ? ORDER BY ALL",
                           [f"{month}-01"]).fetchall()


def test_a_month_loads_every_row_with_lineage_and_reconciles(landed):
    result = load_partition(CONTRACT, "2020-02", landed, log=lambda _: None)
    expected = _file_rows(landed, "2020-02")
    assert result.rows_read == len(expected) == result.rows_loaded
    assert result.rows_quarantined == 0
    raw = _raw(landed, "2020-02")
    assert len(raw) == len(expected)
    assert sum(r[2] for r in raw) == sum(Decimal(r["贷款余额(元)"]) for r in expected)  # exact, to the fen
    assert all(r[4].endswith(".csv") and r[5] >= 1 for r in raw)
    with reader(landed) as con:
        log = con.execute("SELECT source_file, rows_read, rows_loaded, rows_quarantined, status, contract_version, "
                          "file_sha256 FROM meta.ingestion_log WHERE partition_key = '2020-02'").fetchall()
        versions = con.execute("SELECT DISTINCT _contract_version FROM raw.bank__loans").fetchall()
    assert len(log) == 2 and all(r[1] == r[2] + r[3] and r[4] == "loaded" and len(r[6]) == 64 for r in log)
    assert versions == [(CONTRACT.version,)] and log[0][5] == CONTRACT.version


def test_loading_the_same_month_twice_changes_nothing(landed):
    load_partition(CONTRACT, "2020-01", landed, log=lambda _: None)
    load_partition(CONTRACT, "2020-03", landed, log=lambda _: None)
    first = _raw(landed, "2020-01")
    load_partition(CONTRACT, "2020-01", landed, log=lambda _: None)
    assert _raw(landed, "2020-01") == first
    with reader(landed) as con:
        months = con.execute(
            "SELECT report_month::VARCHAR, count(*) FROM raw.bank__loans GROUP BY 1 ORDER BY 1").fetchall()
    assert [m for m, _ in months] == ["2020-01-01", "2020-03-01"]


def test_bad_rows_are_quarantined_with_file_row_column_rule_and_raw_value(landed):
    path = partition_files(CONTRACT, landed.landing, "2020-01")[0]
    original = path.read_text(encoding="gb18030").splitlines()
    injected = inject_defects(path, rate=0.25, seed=1)
    damaged = path.read_text(encoding="gb18030").splitlines()
    changed = [i for i, (a, b) in enumerate(zip(original, damaged, strict=True)) if a != b]
    ids = [line.split(",")[3] for line in damaged]
    duplicated = {i for i in range(1, len(ids)) if ids.count(ids[i]) > 1}
    result = load_partition(CONTRACT, "2020-01", landed, log=lambda _: None)
    assert len(changed) == injected
    # every changed row, plus the untouched rows whose loan id a defect copied, and nothing else
    assert result.rows_quarantined == len(set(changed) | duplicated)
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    with reader(landed) as con:
        rules = dict(con.execute("SELECT rule, count(*) FROM quarantine.bank__loans GROUP BY 1").fetchall())
        sample = con.execute("SELECT source_file, source_row, column_name, raw_value, raw_record "
                             "FROM quarantine.bank__loans WHERE rule = 'minimum' LIMIT 1").fetchone()
    assert {"minimum", "validValues", "primaryKey", "type:DATE"} <= set(rules)
    assert sample[0] == str(path) and sample[1] >= 1 and sample[2] == "balance" and sample[3].startswith("-")
    assert "贷款余额(元)" in sample[4]  # the whole delivered row is kept


@pytest.mark.parametrize(("name", "content", "rule"), [
    ("empty.csv", b"", "empty"),
    ("undecodable.csv", b"HEADER\n2020-01,\xff\xff\xff\n", "encoding"),
    ("truncated.csv", b"HEADER\n2020-01,C1033330500001\n", "malformed"),
    ("missing_column.csv", "报告期,金融机构代码\n2020-01,C1\n".encode("gb18030"), "missing_column"),
])
def test_a_bad_file_is_set_aside_with_its_reason_and_the_others_still_load(landed, name, content, rule):
    header = partition_files(CONTRACT, landed.landing, "2020-01")[0].read_bytes().split(b"\n")[0]
    bad = landed.landing / "bank_loans" / "2020-01" / name
    bad.write_bytes(content.replace(b"HEADER", header))
    result = load_partition(CONTRACT, "2020-01", landed, log=lambda _: None)
    [rejected] = result.rejected
    assert rejected.rejected.startswith(rule)
    moved = landed.landing / "rejected" / "bank_loans" / "2020-01" / name
    assert moved.exists() and not bad.exists()
    reason = moved.with_name(name + ".reason.txt").read_text()
    assert f"rule: {rule}" in reason and name in reason
    assert result.rows_loaded == len(_file_rows(landed, "2020-01")) > 0
    with reader(landed) as con:
        status = con.execute("SELECT status, message FROM meta.ingestion_log WHERE source_file = ?",
                             [str(moved)]).fetchone()
    assert status[0] == "rejected" and rule in status[1]


def test_a_failure_inside_the_load_leaves_the_previous_state(landed, monkeypatch):
    load_partition(CONTRACT, "2020-01", landed, log=lambda _: None)
    before = _raw(landed, "2020-01")

    def crash(*args):  # runs inside the transaction, after the month was deleted and re-inserted
        raise RuntimeError("crash in the middle of a load")

    monkeypatch.setattr(load_module, "log_files", crash)
    shutil.copy(partition_files(CONTRACT, landed.landing, "2020-02")[0],
                landed.landing / "bank_loans" / "2020-01" / "extra.csv")
    with pytest.raises(RuntimeError, match="crash"):
        load_partition(CONTRACT, "2020-01", landed, log=lambda _: None)
    assert _raw(landed, "2020-01") == before


def test_a_big_backfill_commits_whole_partitions_in_bounded_transactions(landed, monkeypatch):
    """A transaction holds its rows in memory until it commits: a backfill commits every COMMIT_EVERY_ROWS rows,
    always after a whole partition; a failure later keeps what was committed and leaves the rest as it was."""
    from pipelines.ingest.load import load_partitions

    months = ["2020-01", "2020-02", "2020-03"]
    per_month = len(_file_rows(landed, "2020-01"))
    monkeypatch.setattr(load_module, "COMMIT_EVERY_ROWS", per_month * 2)  # two months a transaction
    results = load_partitions(CONTRACT, months, landed, log=lambda _: None)
    snapshots = [r.snapshot_id for r in results]
    assert snapshots[0] == snapshots[1] < snapshots[2]
    assert [len(_raw(landed, m)) for m in months] == [len(_file_rows(landed, m)) for m in months]

    real_log_files = load_module.log_files

    def crash_in_march(con, contract, group, *args):
        if any(d.result.partition_key == "2020-03" for d in group):
            raise RuntimeError("crash while loading March")
        real_log_files(con, contract, group, *args)

    before = {m: _raw(landed, m) for m in months}
    monkeypatch.setattr(load_module, "COMMIT_EVERY_ROWS", 1)  # every month its own transaction
    monkeypatch.setattr(load_module, "log_files", crash_in_march)
    for month in months:  # a re-delivery of every month, with one more file each
        shutil.copy(partition_files(CONTRACT, landed.landing, month)[0],
                    landed.landing / "bank_loans" / month / "again.csv")
    with pytest.raises(RuntimeError, match="March"):
        load_partitions(CONTRACT, months, landed, log=lambda _: None)
    # January and February were committed with the re-delivery (its duplicate loans quarantined), March not
    after = {m: _raw(landed, m) for m in months}
    assert after["2020-01"] != before["2020-01"] and after["2020-02"] != before["2020-02"]
    assert after["2020-03"] == before["2020-03"]


def test_months_loaded_together_are_each_checked_as_their_own_partition(landed):
    """A backfill checks the months of a transaction in one query: each row against the month its file was
    delivered for, keys unique within that month, and each month logged as its own batch."""
    from pipelines.ingest.load import load_partitions

    january, february = _file_rows(landed, "2020-01"), _file_rows(landed, "2020-02")
    extra = landed.landing / "bank_loans" / "2020-02" / "extra.csv"
    with extra.open("w", encoding="gb18030", newline="") as f:  # a January row, and a February row again
        out = csv.DictWriter(f, fieldnames=list(february[0]))
        out.writeheader()
        out.writerows([january[0], february[0]])
    results = load_partitions(CONTRACT, ["2020-01", "2020-02"], landed, log=lambda _: None)

    assert results[0].snapshot_id == results[1].snapshot_id  # one transaction
    assert (results[0].rows_loaded, results[0].rows_quarantined) == (len(january), 0)  # its twin is elsewhere
    assert (results[1].rows_loaded, results[1].rows_quarantined) == (len(february) - 1, 3)
    with reader(landed) as con:
        quarantined = con.execute(
            "SELECT partition_key, regexp_extract(source_file, '[^/]+$'), source_row, rule, batch_id "
            "FROM quarantine.bank__loans ORDER BY ALL").fetchall()
        batches = con.execute("SELECT strftime(report_month, '%Y-%m'), _batch_id FROM raw.bank__loans "
                              "GROUP BY ALL ORDER BY ALL").fetchall()
    rules = {(file, row): rule for _, file, row, rule, _ in quarantined}
    assert rules[("extra.csv", 1)] == "partition:2020-02" and rules[("extra.csv", 2)] == "primaryKey"
    assert sorted(rules.values()).count("primaryKey") == 2
    assert {(k, b) for k, *_, b in quarantined} == {("2020-02", results[1].batch_id)}
    assert batches == [("2020-01", results[0].batch_id), ("2020-02", results[1].batch_id)]


def test_a_rejected_redelivery_keeps_the_banks_previous_rows(landed):
    load_partition(CONTRACT, "2020-01", landed, log=lambda _: None)
    before = _raw(landed, "2020-01")
    broken = partition_files(CONTRACT, landed.landing, "2020-01")[0]
    header, first, second = broken.read_bytes().split(b"\n")[:3]
    broken.write_bytes(b"\n".join([header, first, b",".join(second.split(b",")[:5])]))  # cut short in line 3
    result = load_partition(CONTRACT, "2020-01", landed, log=lambda _: None)
    assert [f.rejected.split(":")[0] for f in result.rejected] == ["malformed"]
    assert "line 3 has 5 fields" in result.rejected[0].rejected
    assert _raw(landed, "2020-01") == before


def _load_in_other_process(month):
    from pipelines import settings as settings_module

    load_partition(CONTRACT, month, settings_module.load(), log=lambda _: None)


def test_concurrent_loads_are_serialized_not_failed(landed):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_load_in_other_process, args=(m,)) for m in ("2020-01", "2020-02", "2020-03")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    with reader(landed) as con:
        assert con.execute("SELECT count(DISTINCT report_month) FROM raw.bank__loans").fetchone()[0] == 3


def test_reconciliation_finds_rows_changed_outside_ingestion(landed):
    from pipelines.ingest.reconcile import discrepancies
    from pipelines.lake.connection import writer

    load_partition(CONTRACT, "2020-01", landed, log=lambda _: None)
    load_partition(CONTRACT, "2020-02", landed, log=lambda _: None)
    with reader(landed) as con:
        assert discrepancies(con, CONTRACT) == []
    with writer(landed) as con:  # someone deletes a loan by hand
        con.execute("DELETE FROM raw.bank__loans WHERE rowid = (SELECT min(rowid) FROM raw.bank__loans)")
    with reader(landed) as con:
        [problem] = discrepancies(con, CONTRACT)
    assert "the log says" in problem and ".csv" in problem
