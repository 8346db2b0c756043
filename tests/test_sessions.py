"""A process reuses one DuckDB instance per lake for its reader and writer sessions (issue 9: attaching the lake
cost about a second a session); what each session sees must not change."""

import shutil
import subprocess
import sys

from pipelines.lake import connection, meta

COMMIT_ELSEWHERE = """
from pipelines.lake.connection import writer
with writer() as con:
    con.execute("INSERT INTO meta.session_probe VALUES (2)")
"""


def test_sessions_reuse_one_instance_and_see_commits_from_other_processes(lake):
    connection.close_sessions()
    with connection.writer(lake) as con:
        con.execute("CREATE TABLE meta.session_probe (n INTEGER)")
        con.execute("INSERT INTO meta.session_probe VALUES (1)")
    with connection.reader(lake) as con:
        assert con.execute("SELECT list(n ORDER BY n) FROM meta.session_probe").fetchone()[0] == [1]
    with connection.reader(lake) as con:
        pass
    assert len(connection._SESSIONS) == 2  # one read-only and one read-write instance, each reused

    # another process commits: the next session of this one reads the new snapshot
    subprocess.run([sys.executable, "-c", COMMIT_ELSEWHERE], check=True)
    with connection.reader(lake) as con:
        assert con.execute("SELECT list(n ORDER BY n) FROM meta.session_probe").fetchone()[0] == [1, 2]
    with connection.writer(lake) as con:
        con.execute("INSERT INTO meta.session_probe VALUES (3)")
    with connection.reader(lake) as con:
        assert con.execute("SELECT count(*) FROM meta.session_probe").fetchone()[0] == 3
    assert len(connection._SESSIONS) == 2


def test_a_lake_made_again_at_the_same_place_is_attached_again(lake):
    with connection.writer(lake) as con:
        con.execute("CREATE TABLE meta.session_probe AS SELECT 1 AS n")
    with connection.reader(lake) as con:
        assert con.execute("SELECT count(*) FROM meta.session_probe").fetchone()[0] == 1

    shutil.rmtree(lake.root / "lakehouse")
    meta.bootstrap(lake)  # a new, empty lake where the old one was
    with connection.reader(lake) as con:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'meta'").fetchall()}
    assert "session_probe" not in tables and "quality_results" in tables
