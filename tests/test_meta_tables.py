"""The lake's meta tables: a writer session creates what is missing, and only that."""

from pipelines.lake import meta
from pipelines.lake.connection import reader, writer


def meta_columns(settings) -> dict[str, set[str]]:
    with reader(settings) as con:
        rows = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE table_schema = 'meta'").fetchall()
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    return columns


def test_a_lake_from_before_a_table_and_a_column_gains_them_and_keeps_its_rows(lake):
    complete = meta_columns(lake)
    assert set(meta.TABLES) <= set(complete)
    with writer(lake) as con:  # as a lake made before publications' confirmation and before the catalog
        con.execute("INSERT INTO meta.publications (dataset, version, snapshot_id, row_count, checks, published_at) "
                    "VALUES ('marts.x', 1, 1, 3, '[]', now())")
        con.execute("ALTER TABLE meta.publications DROP COLUMN confirmed_snapshot_id")
        con.execute("DROP TABLE meta.catalog_glossary")
    with writer(lake) as con:
        meta.create_tables(con)
        kept = con.execute("SELECT dataset, row_count, confirmed_snapshot_id FROM meta.publications").fetchall()
    assert meta_columns(lake) == complete
    assert kept == [("marts.x", 3, None)]


def test_a_complete_lake_is_left_as_it_is(lake):
    with reader(lake) as con:
        before = con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone()
    with writer(lake) as con:
        meta.create_tables(con)
    with reader(lake) as con:
        assert con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone() == before


def test_a_watermark_table_from_before_marts_were_tested_by_snapshot_takes_their_rows(lake):
    """The first release required a model and a load time of every watermark; a test on a mart has neither."""
    with writer(lake) as con:
        con.execute("DROP TABLE meta.dbt_test_watermarks")
        con.execute("CREATE TABLE meta.dbt_test_watermarks (test_id VARCHAR NOT NULL, model VARCHAR NOT NULL, "
                    "tested_through TIMESTAMPTZ NOT NULL, passed_at TIMESTAMPTZ NOT NULL)")
    with writer(lake) as con:
        meta.create_tables(con)
        con.execute("INSERT INTO meta.dbt_test_watermarks (test_id, tested_through_snapshot, checksum, passed_at) "
                    "VALUES ('test.lakehouse.x', 3, '', now())")
        nullable = dict(con.execute("SELECT column_name, is_nullable FROM information_schema.columns "
                                    "WHERE table_name = 'dbt_test_watermarks'").fetchall())
    assert nullable == {"test_id": "NO", "model": "YES", "tested_through": "YES", "passed_at": "NO",
                        "tested_through_snapshot": "YES", "checksum": "YES"}
