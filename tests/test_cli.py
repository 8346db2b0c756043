"""The ``lakehouse`` command against a real lake in a temporary directory."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from decimal import Decimal
from types import SimpleNamespace

import pytest

from pipelines import cli
from pipelines import settings as settings_module
from pipelines.cli_output import display_width, render_table
from pipelines.lake import inspect, meta
from pipelines.lake.connection import current_snapshot, reader, writer
from pipelines.lake.lock import WriterLockTimeout, writer_lock
from pipelines.settings import LOCATION_VARS, PROJECT_ROOT

ROWS = [("浦东新区", "1234567.89"), ("Minhang", "0.01"), ("黄浦区绿色信贷", "-42.50")]
LOG_ROW = "(?, 'bank_loans', ?, ?, 'sha', 1, ?, ?, ?, 'loaded', NULL, '1.0.0', TIMESTAMPTZ '2024-02-01', ?, 0, NULL)"


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """One bootstrapped lake for the module: marts.t with Chinese text and exact decimals, an ingestion log."""
    root = tmp_path_factory.mktemp("cli_lake")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKEHOUSE_ROOT", str(root))
        for var in LOCATION_VARS:
            mp.delenv(var, raising=False)
        settings = settings_module.load()
        meta.bootstrap(settings)
        with writer(settings, "test setup") as con:
            con.execute("CREATE TABLE marts.t (district VARCHAR, amount DECIMAL(18,2))")
            con.executemany("INSERT INTO marts.t VALUES (?, ?)", [list(r) for r in ROWS])
            t_snapshot = current_snapshot(con)
            # bank_loans 2024-01 loaded twice (the second load replaces the first), 2024-02 once
            for batch, part, file, read, loaded, bad, finished in [
                ("b1", "2024-01", "a.csv", 10, 10, 0, "2024-02-01 10:00:00+00"),
                ("b1", "2024-01", "b.csv", 5, 5, 0, "2024-02-01 10:00:00+00"),
                ("b2", "2024-01", "a.csv", 12, 11, 1, "2024-02-02 10:00:00+00"),
                ("b3", "2024-02", "c.csv", 7, 7, 0, "2024-03-01 10:00:00+00"),
            ]:
                con.execute(f"INSERT INTO meta.ingestion_log VALUES {LOG_ROW}",
                            [batch, part, file, read, loaded, bad, finished])
        yield SimpleNamespace(root=root, settings=settings, t_snapshot=t_snapshot)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def pipe_columns(line: str) -> list[int]:
    """Display columns at which the " | " separators of a table line sit."""
    cols, width = [], 0
    for ch in line:
        if ch == "|":
            cols.append(width)
        width += display_width(ch)
    return cols


# ------------------------------------------------------------------------------------------------- sql

def test_sql_table_lines_up_chinese_text(lake, capsys):
    code, out, err = run(capsys, "sql", "select district, amount from marts.t order by amount desc")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[-1] == "3 rows"
    header, rule, *body = lines[:-1]
    assert [line.split("|")[0].strip() for line in body] == ["浦东新区", "Minhang", "黄浦区绿色信贷"]
    assert all(pipe_columns(line) == pipe_columns(header) for line in body)
    assert "-+-" in rule and display_width(rule) == max(display_width(line) for line in body)
    # amounts are right-aligned: every row ends at the same display column
    assert len({display_width(line) for line in body}) == 1
    assert body[0].endswith("1234567.89") and body[2].endswith("-42.50")


def test_sql_table_counts_every_row_but_shows_the_first_thousand(lake, capsys):
    code, out, _ = run(capsys, "sql", "select range as i from range(1500)")
    assert code == 0
    assert out.splitlines()[-1] == "1500 rows (showing first 1000)"
    assert len(out.splitlines()) == 1000 + 3
    code, out, _ = run(capsys, "sql", "select range as i from range(1500)", "--max-rows", "2")
    assert out.splitlines()[-1] == "1500 rows (showing first 2)"


def test_sql_csv_and_json_are_complete_unless_max_rows_cuts_them(lake, capsys):
    code, out, err = run(capsys, "sql", "select range as i from range(3000)", "--format", "csv")
    assert code == 0 and len(out.splitlines()) == 3001 and err == ""
    code, out, err = run(capsys, "sql", "select range as i from range(5)", "--format", "json", "--max-rows", "2")
    assert json.loads(out) == [{"i": 0}, {"i": 1}] and "cut at 2 rows" in err
    code, out, err = run(capsys, "sql", "select range as i from range(5)", "--format", "csv", "--max-rows", "5")
    assert len(out.splitlines()) == 6 and err == ""


def test_sql_csv_is_rfc4180_and_exact(lake, capsys):
    code, out, err = run(capsys, "sql", "select district, amount, 'a,\"b\"' as q from marts.t order by district",
                         "--format", "csv")
    assert code == 0, err
    assert out.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[0] == ["district", "amount", "q"]
    assert sorted((r[0], r[1]) for r in rows[1:]) == sorted(ROWS)
    assert {r[2] for r in rows[1:]} == {'a,"b"'}


def test_sql_json_keeps_decimals_exact_and_dates_iso(lake, capsys):
    sql = "select district, amount, DATE '2024-01-31' as d, NULL as n, 0::DECIMAL(38,10) as z from marts.t"
    code, out, err = run(capsys, "sql", sql, "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert {(r["district"], r["amount"]) for r in records} == set(ROWS)
    assert sum(Decimal(r["amount"]) for r in records) == Decimal("1234525.40")
    assert records[0]["d"] == "2024-01-31" and records[0]["n"] is None and records[0]["z"] == "0.0000000000"


def test_sql_reads_the_query_from_stdin(lake, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("select count(*) as n\nfrom marts.t"))
    code, out, _ = run(capsys, "sql", "-", "--format", "csv")
    assert code == 0 and out == "n\r\n3\r\n"


@pytest.mark.parametrize("sql, message", [
    ("selec 1", "Parser Error"),
    ("select * from marts.no_such_table", "no_such_table"),
])
def test_sql_errors_are_one_line_and_exit_1(lake, capsys, sql, message):
    code, out, err = run(capsys, "sql", sql)
    assert code == 1 and out == ""
    assert err.startswith("lakehouse sql: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def refused(kind: str) -> str:
    return f"only queries are allowed here (got {kind}); the lake is written by the pipelines"


def lake_state(lake) -> tuple[int, list[str], list[tuple]]:
    """The current snapshot, the lake's tables and every file under the lake's directory."""
    with reader(lake.settings) as con:
        snapshot = current_snapshot(con)
        tables = con.execute("SELECT schema_name, table_name, estimated_size FROM duckdb_tables() "
                             "WHERE database_name = 'lake' ORDER BY ALL").fetchall()
    files = sorted(str(p.relative_to(lake.root)) for p in lake.root.rglob("*")
                   if p.is_file() and p.suffix != ".lock" and not p.name.endswith(("-wal", "-shm")))
    return snapshot, tables, files


def test_sql_refuses_to_write_the_lake(lake, capsys):
    code, out, err = run(capsys, "sql", "insert into marts.t values ('x', 1)")
    assert (code, out, err) == (1, "", f"lakehouse sql: {refused('INSERT')}\n")
    code, out, _ = run(capsys, "sql", "select count(*) from marts.t", "--format", "csv")
    assert out.splitlines()[1] == "3"


def test_sql_takes_chinese_literals_and_still_sees_a_writing_call_after_them(lake, capsys):
    code, out, _ = run(capsys, "sql", "select count(*) from marts.t where '企业' = '企业'", "--format", "csv")
    assert (code, out.splitlines()[1]) == (0, "3")
    code, _, err = run(capsys, "sql", "select '绿色贷款' as x, lake.merge_adjacent_files()")
    assert (code, err) == (1, f"lakehouse sql: {refused('merge_adjacent_files()')}\n")


def test_sql_refuses_to_attach_the_catalog_read_write(lake, capsys):
    before = lake_state(lake)
    attach = (f"ATTACH 'ducklake:{lake.settings.catalog}' AS w (DATA_PATH '{lake.settings.data_path}'); "
              "CREATE TABLE w.marts.x AS SELECT 1 AS i")
    code, out, err = run(capsys, "sql", attach)
    assert (code, out, err) == (1, "", f"lakehouse sql: {refused('ATTACH')}\n")
    assert lake_state(lake) == before
    assert ("marts", "x") not in {(s, n) for s, n, _ in before[1]}


@pytest.mark.parametrize("template, kind", [
    ("COPY marts.t TO '{file}'", "COPY"),
    ("copy (select * from marts.t) to '{file}' (format csv)", "COPY"),
    ("EXPLAIN ANALYZE COPY marts.t TO '{file}'", "EXPLAIN COPY"),  # EXPLAIN ANALYZE runs what it explains
    ("select * from marts.no_such_table; copy marts.t to '{file}'", "COPY"),  # nothing runs, not even the first
    ("select 1; select 2;\n-- and then\nEXPORT DATABASE '{file}'", "EXPORT"),
])
def test_sql_refuses_to_write_files(lake, capsys, tmp_path, template, kind):
    target = tmp_path / "out.csv"
    before = lake_state(lake)
    code, out, err = run(capsys, "sql", template.format(file=target))
    assert (code, out, err) == (1, "", f"lakehouse sql: {refused(kind)}\n")
    assert not target.exists() and lake_state(lake) == before


def test_sql_refuses_lake_maintenance_calls(lake, capsys):
    """DuckLake's maintenance functions write data files even with the lake attached READ_ONLY."""
    with writer(lake.settings, "test") as con:  # Parquet files that merge_adjacent_files would merge
        con.execute("CREATE TABLE marts.fragments AS SELECT range AS i FROM range(20000)")
        con.execute("INSERT INTO marts.fragments SELECT range FROM range(20000)")
    before = lake_state(lake)
    for sql, kind in [("select * from ducklake_merge_adjacent_files('lake')", "ducklake_merge_adjacent_files()"),
                      ("from lake.merge_adjacent_files()", "merge_adjacent_files()"),
                      ("select * from \"CHECKPOINT\" /* a comment */ ('lake')", "checkpoint()"),
                      ("select * from query('select * from ducklake_' || 'flush_inlined_data(''lake'')')", "query()")]:
        assert run(capsys, "sql", sql) == (1, "", f"lakehouse sql: {refused(kind)}\n")
    assert lake_state(lake) == before


@pytest.mark.parametrize("sql, kind", [
    ("DETACH lake", "DETACH"), ("update marts.t set amount = 0", "UPDATE"), ("delete from marts.t", "DELETE"),
    ("create temp table x (i int)", "CREATE"), ("drop table marts.t", "DROP"),
    ("alter table marts.t add column x int", "ALTER"), ("set threads = 1", "SET"), ("reset threads", "SET"),
    ("use memory", "SET"), ("install httpfs", "LOAD"), ("load httpfs", "LOAD"), ("call pragma_version()", "CALL"),
    ("checkpoint", "CALL"), ("begin", "TRANSACTION"), ("pragma enable_profiling", "PRAGMA"),
    ("pragma threads = 1", "SET"), ("prepare p as select 1", "PREPARE"), ("vacuum", "VACUUM"),
    ("explain analyze insert into marts.t values ('x', 1)", "EXPLAIN INSERT"),
    ("explain (analyze, format json) create table x as select 1", "EXPLAIN CREATE"),
    ("explain select * from ducklake_expire_snapshots('lake')", "ducklake_expire_snapshots()"),
    ("select * from marts.t", None), ("explain (format json) select 1", None), ("explain (select 1)", None),
    ("select 'merge_adjacent_files(' as s", None), ("select * from ducklake_snapshots('lake')", None),
])
def test_refusal_names_the_statement_type(sql, kind):
    [statement] = cli.duckdb.extract_statements(sql)
    assert cli.refusal(statement) == kind


@pytest.mark.parametrize("sql, expected", [
    ("SHOW TABLES", "0 rows"),  # the lake's default schema is empty
    ("SHOW marts.t", "DECIMAL(18,2)"),
    ("DESCRIBE marts.t", "DECIMAL(18,2)"),
    ("SUMMARIZE marts.t", "-42.50"),
    ("FROM marts.t WHERE amount > 1000", "浦东新区"),
    ("WITH big AS (SELECT * FROM marts.t WHERE amount > 1000) SELECT district FROM big", "浦东新区"),
    ("TABLE marts.t", "3 rows"),
    ("VALUES (1, 'a'), (2, 'b')", "2 rows"),
    ("PRAGMA table_info('marts.t')", "district"),
    ("PRAGMA version", "library_version"),
    ("SELECT count(*) AS snapshots FROM lake.snapshots()", "snapshots"),
    ("EXPLAIN SELECT * FROM marts.t", "physical_plan"),
    ("EXPLAIN ANALYZE SELECT count(*) FROM marts.t", "analyzed_plan"),
    ("select 1 as a; select 2 as b", "b"),
])
def test_sql_still_answers_queries(lake, capsys, sql, expected):
    code, out, err = run(capsys, "sql", sql)
    assert code == 0, err
    assert expected in out


def test_sql_without_a_lake_says_how_to_make_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path))
    code, _, err = run(capsys, "sql", "select 1")
    assert code == 1 and "no lake at" in err and "make run" in err
    assert not (tmp_path / "lakehouse").exists()  # a reader creates nothing


WRITER = """
import sys, time
from pathlib import Path
from pipelines import settings
from pipelines.lake.connection import writer
stop, deadline = Path(sys.argv[1]), time.monotonic() + 600
with writer(settings.load(), "test busy writer") as con:
    con.execute("CREATE TABLE IF NOT EXISTS marts.busy (i INTEGER, note VARCHAR)")
    i = 0
    while not stop.exists() and time.monotonic() < deadline:
        con.execute("BEGIN")
        con.execute("INSERT INTO marts.busy SELECT range, '绿色' FROM range(?, ? + 50)", [i, i])
        con.execute("COMMIT")
        i += 50
        if i == 50:
            print("writing", flush=True)
"""


def test_sql_reads_while_another_process_writes(lake, capsys, tmp_path):
    """Reads for ~3 s while a writer holds the lock and commits a transaction after another."""
    stop = tmp_path / "stop"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        # the writer really holds the lock meanwhile
        with pytest.raises(WriterLockTimeout), writer_lock(lake.settings.lock_file, 0.1):
            pass
        counts, until = [], time.monotonic() + 3
        while time.monotonic() < until or len(counts) < 3:
            code, out, err = run(capsys, "sql", "select count(*) from marts.busy", "--format", "csv")
            assert code == 0, err
            counts.append(int(out.splitlines()[1]))
        assert proc.poll() is None  # every read above ran while the writer was writing
        stop.touch()
        assert proc.wait(timeout=300) == 0
    finally:
        proc.kill()
        proc.wait()
    assert counts == sorted(counts) and counts[-1] > counts[0]
    assert all(c % 50 == 0 for c in counts)  # every read sees whole transactions


# ---------------------------------------------------------------------------------------------- status

def status_json(capsys) -> dict:
    code, out, err = run(capsys, "status", "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_status_lists_tables_with_rows_and_last_snapshot(lake, capsys):
    doc = status_json(capsys)
    objects = {(o["schema"], o["name"]): o for o in doc["objects"]}
    t = objects[("marts", "t")]
    assert (t["kind"], t["rows"], t["last_snapshot"]) == ("table", 3, lake.t_snapshot)
    assert t["snapshot_time"]
    assert {("meta", "ingestion_log"), ("meta", "quality_results"), ("meta", "publications")} <= set(objects)

    code, out, _ = run(capsys, "status")
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("marts ") and "| t " in line)
    assert [c.strip() for c in line.split("|")][:5] == ["marts", "t", "table", "3", str(lake.t_snapshot)]


def test_status_follows_inlined_changes_files_and_views(lake, capsys):
    with writer(lake.settings, "test") as con:
        con.execute("CREATE TABLE marts.s (i INTEGER)")
        con.execute("INSERT INTO marts.s VALUES (1), (2), (3)")  # small: inlined in the catalog
        con.execute("CREATE TABLE marts.big AS SELECT range AS i FROM range(20000)")  # a Parquet file
        big_snapshot = current_snapshot(con)
        con.execute("CREATE VIEW marts.v_s AS SELECT * FROM marts.s")
        view_snapshot = current_snapshot(con)
        con.execute("DELETE FROM marts.s WHERE i = 2")  # an inlined delete: no file either
        s_snapshot = current_snapshot(con)
        inlined = con.execute("SELECT count(*) FROM __ducklake_metadata_lake.ducklake_data_file "
                              "JOIN __ducklake_metadata_lake.ducklake_table USING (table_id) "
                              "WHERE table_name = 's'").fetchone()[0]
    assert inlined == 0  # so the snapshot below cannot come from a data file
    objects = {(o["schema"], o["name"]): o for o in status_json(capsys)["objects"]}
    assert (objects[("marts", "s")]["rows"], objects[("marts", "s")]["last_snapshot"]) == (2, s_snapshot)
    assert (objects[("marts", "big")]["rows"], objects[("marts", "big")]["last_snapshot"]) == (20000, big_snapshot)
    assert objects[("marts", "v_s")]["kind"] == "view"
    assert (objects[("marts", "v_s")]["rows"], objects[("marts", "v_s")]["last_snapshot"]) == (2, view_snapshot)


def test_status_counts_the_rest_of_the_lake_past_a_broken_view(lake, capsys):
    with writer(lake.settings, "test") as con:
        con.execute("CREATE TABLE marts.gone AS SELECT 1 AS i")
        con.execute("CREATE VIEW marts.v_gone AS SELECT * FROM marts.gone")
        con.execute("DROP TABLE marts.gone")  # the view now fails when read
    code, out, err = run(capsys, "status", "--format", "json")
    objects = {(o["schema"], o["name"]): o for o in json.loads(out)["objects"]}
    assert objects[("marts", "v_gone")]["rows"] is None and objects[("marts", "t")]["rows"] == 3
    assert code == 0 and "cannot count marts.v_gone" in err


def test_catalog_reads_restore_the_optimizer_setting(lake):
    with reader(lake.settings) as con:
        con.execute("SET disabled_optimizers = 'filter_pushdown'")
        with inspect.common_subplans_off(con):
            assert "common_subplan" in con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0]
        assert con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0] == "filter_pushdown"


def test_status_summarises_each_partitions_latest_ingestion(lake, capsys):
    [row] = status_json(capsys)["ingestion"]
    assert row["dataset"] == "bank_loans"
    assert (row["partitions"], row["first_partition"], row["last_partition"], row["files"]) == (
        2, "2024-01", "2024-02", 2)
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"], row["reconciles"]) == (19, 18, 1, True)
    assert row["last_loaded_at"].startswith("2024-03-01")


def test_init_then_status_on_a_fresh_lake(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path))
    code, out, err = run(capsys, "status")
    assert code == 1 and "no lake at" in err and "make run" in err
    code, out, err = run(capsys, "init")
    assert code == 0, err
    assert str(tmp_path / "lakehouse" / "catalog.sqlite") in out and str(tmp_path / "lakehouse" / "data") in out
    code, out, err = run(capsys, "status")
    assert code == 0, err
    assert "meta.ingestion_log is empty" in out and "ingestion_log" in out


# ----------------------------------------------------------------------------------------------- shell

def shell(lake, script: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LAKEHOUSE_ROOT": str(lake.root), "HOME": str(lake.root)}
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "shell"], input=script, capture_output=True,
                          text=True, env=env, cwd=PROJECT_ROOT, timeout=600)


def test_shell_runs_statements_from_a_pipe(lake):
    result = shell(lake, "select district,\n  amount from marts.t\n  where amount > 1000;\n"
                         ".tables\n.schema marts.t\nselect 'a;b' as s; -- two; in one line\nselect 42 as x")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "浦东新区 | 1234567.89" in out and "a;b" in out and "42" in out
    tables = {tuple(cell.strip() for cell in line.split("|")[:2]) for line in out.splitlines() if "|" in line}
    assert {("marts", "t"), ("meta", "ingestion_log"), ("raw", "bank__loans")} <= tables  # .tables
    assert "amount      | DECIMAL(18,2)" in out  # .schema


def test_shell_reports_errors_and_carries_on(lake):
    result = shell(lake, "selec 1;\ninsert into marts.t values ('x', 1);\n.nope\nselect 7 as seven;\n.quit\n"
                         "select 8 as never;\n")
    assert result.returncode == 1
    assert "Parser Error" in result.stderr and refused("INSERT") in result.stderr and ".nope" in result.stderr
    assert "Traceback" not in result.stderr
    assert "seven" in result.stdout and "never" not in result.stdout


def test_shell_refuses_writes_and_carries_on(lake, tmp_path):
    target = tmp_path / "out.csv"
    before = lake_state(lake)
    result = shell(lake, f"ATTACH 'ducklake:{lake.settings.catalog}' AS w\n"
                         f"  (DATA_PATH '{lake.settings.data_path}');\n"
                         "create table w.marts.x as select 1 as i;\n"
                         f"copy marts.t to '{target}';\n"
                         f"select 'first' as never_shown; copy marts.t to '{target}';\n"
                         "select 7 as seven;\n.tables\n.schema marts.t\n.schema marts.t;detach\"lake\"\n"
                         "summarize marts.t;\nfrom marts.t where amount > 1000;\n")
    assert result.returncode == 1
    kinds = ("ATTACH", "CREATE", "COPY", "COPY", "DETACH")
    assert result.stderr.splitlines() == [f"Error: {refused(kind)}" for kind in kinds]
    out = result.stdout
    assert "never_shown" not in out and "seven" in out
    assert re.search(r"^meta +\| ingestion_log", out, re.M) and "amount      | DECIMAL(18,2)" in out  # .tables, .schema
    assert "1234567.89" in out and "浦东新区" in out  # summarize, from
    assert not target.exists() and lake_state(lake) == before


def test_shell_checks_a_line_of_statements_before_running_any(lake, capsys):
    with reader(lake.settings) as con:
        sh = cli.Shell(con)
        sh.feed("select 'first' as never_shown; set threads = 1;")
        assert capsys.readouterr() == ("", f"Error: {refused('SET')}\n") and sh.failed
        sh.feed("select 'still here' as s;")
        assert "still here" in capsys.readouterr().out


@pytest.mark.parametrize("text, complete", [
    ("select 1;", True), ("select 1", False), ("select ';'", False), ("select ';';", True),
    ("select 1; -- done", True), ("select 1 -- not yet;", False), ("select /* ; */ 1", False),
    ("select 'it''s';", True), ('select "a;b"', False), ("select 1;\n", True),
])
def test_statement_complete(text, complete):
    assert cli.statement_complete(text) is complete


def test_duckdb_binary_is_used_only_at_our_version(tmp_path, monkeypatch):
    fake = tmp_path / "duckdb"
    monkeypatch.setenv("PATH", str(tmp_path))
    fake.write_text(f"#!/bin/sh\necho 'v{cli.duckdb.__version__} fake'\n")
    fake.chmod(0o755)
    assert cli.duckdb_cli() == str(fake)
    fake.write_text("#!/bin/sh\necho 'v0.9.0 old'\n")
    assert cli.duckdb_cli() is None


def test_duckdb_binary_gets_the_same_read_only_session(lake):
    setup = cli.duckdb_cli_setup(lake.settings)
    assert f"SET GLOBAL extension_directory = '{lake.settings.extension_dir}'" in setup
    assert setup[-2].startswith("ATTACH 'ducklake:sqlite:") and setup[-2].endswith(", READ_ONLY)")
    assert setup[-1] == "USE lake"


# ------------------------------------------------------------------------------------------------- dbt

def test_dbt_version_runs_the_venvs_dbt_without_the_writer_lock(lake, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_LOCK_TIMEOUT_S", "0.5")
    with writer_lock(lake.settings.lock_file, 5):  # held: a command that waited for it would fail
        assert cli.main(["dbt", "--version"]) == 0


@pytest.mark.parametrize("args, sub, writes", [
    (["--version"], None, False), (["parse", "--quiet"], "parse", False), (["ls"], "ls", False),
    (["deps"], "deps", False), (["run", "--select", "x"], "run", True), (["--debug", "build"], "build", True),
    (["docs", "generate"], "docs", True), (["debug"], "debug", True), ([], None, False),
])
def test_dbt_takes_the_writer_lock_only_for_writing_commands(args, sub, writes):
    assert cli.dbt_plan(args) == (sub, writes)


# ---------------------------------------------------------------------------------------------- output

def test_render_table_measures_wide_characters():
    assert display_width("浦东a") == 5 and display_width("é") == 1 and display_width("e\u0301") == 1
    text = render_table(["名称", "n"], [("一", 1), ("abc", None)])
    lines = text.splitlines()
    assert lines == ["名称 | n", "-----+-----", "一   |    1", "abc  | NULL", "2 rows"]
