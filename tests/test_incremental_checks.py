"""Checks and publication cost what changed, not the history (issue 9): a Great Expectations suite validates the
rows changed since it last passed, and publication compares a mart's versions through DuckLake's table changes."""

import dataclasses
import json

import pytest

from pipelines.assets.publish import publish, same_rows
from pipelines.lake.connection import current_snapshot, reader, writer
from pipelines.quality.expectations import Suite, build_data_docs_index, data_docs_dir, record, validate

MART = "marts.t_monthly"
SUITE = Suite("t_monthly", MART, "a month-kept mart", [
    {"expect_table_row_count_to_be_between": {"min_value": 1}},
    {"expect_compound_columns_to_be_unique": {"column_list": ["report_month", "bank"]}},
    {"expect_column_values_to_be_between": {"column": "amount", "min_value": 0}},
])


def months(con, *months_: str) -> None:
    con.execute(f"INSERT INTO {MART} SELECT CAST(m AS DATE), b, CAST(10 AS DECIMAL(18, 2)) "
                "FROM unnest(?) AS t(m), unnest(['A', 'B', 'C']) AS u(b)", [list(months_)])


@pytest.fixture
def mart(lake):
    with writer(lake) as con:
        con.execute(f"CREATE TABLE {MART} (report_month DATE, bank VARCHAR, amount DECIMAL(18, 2))")
        months(con, "2020-01-01", "2020-02-01")
    return lake


def results(settings) -> list[tuple]:
    with reader(settings) as con:
        return con.execute("SELECT passed, expectations_evaluated, scope FROM meta.quality_results "
                           "WHERE dataset = ? ORDER BY evaluated_at", [MART]).fetchall()


def test_a_suite_validates_what_changed_since_it_passed(mart):
    first = validate(mart, SUITE)
    assert first.passed and first.scope["rows"] == "all" and first.scope["rows_validated"] == 6
    record(mart, first)
    with writer(mart) as con:  # a new month arrives
        months(con, "2020-03-01")
    second = validate(mart, SUITE)
    assert second.passed and second.evaluated == 3
    assert second.scope | {"suite_fingerprint": None} == {
        "rows": "changed", "since_snapshot": first.snapshot_id, "rows_in_scope": 3, "rows_validated": 3,
        "sampled": False, "suite_fingerprint": None}
    record(mart, second)
    unchanged = validate(mart, SUITE)  # nothing new: nothing to validate, and nothing written
    assert unchanged.passed and unchanged.evaluated == 0 and unchanged.scope["unchanged"]
    record(mart, unchanged)
    assert [(p, n, json.loads(s)["rows_validated"]) for p, n, s in results(mart)] == [(True, 3, 6), (True, 3, 3)]


def test_a_bad_changed_row_fails_and_is_validated_again_until_corrected(mart):
    record(mart, validate(mart, SUITE))
    with writer(mart) as con:
        con.execute(f"UPDATE {MART} SET amount = -1 WHERE report_month = DATE '2020-02-01' AND bank = 'B'")
    failed = validate(mart, SUITE)
    assert not failed.passed and failed.scope["rows_validated"] == 1
    assert [f["expectation"] for f in failed.failed] == ["expect_column_values_to_be_between"]
    record(mart, failed)
    with writer(mart) as con:  # another month, the bad row still there: validated since the last pass
        months(con, "2020-03-01")
    again = validate(mart, SUITE)
    assert not again.passed and again.scope["rows_validated"] == 4


def test_an_emptied_table_an_edited_suite_and_too_many_rows_are_validated_whole(mart):
    record(mart, validate(mart, SUITE))
    edited = dataclasses.replace(SUITE, expectations=[*SUITE.expectations, {
        "expect_column_values_to_be_in_set": {"column": "bank", "value_set": ["A", "B", "C"]}}])
    assert validate(mart, edited).scope["rows_validated"] == 6
    with writer(mart) as con:
        con.execute(f"DELETE FROM {MART}")
    emptied = validate(mart, SUITE)
    assert not emptied.passed and emptied.scope["rows"] == "all"
    with writer(mart) as con:
        months(con, "2020-01-01", "2020-02-01", "2020-03-01")
    sampled = validate(dataclasses.replace(mart, gx_max_rows=4), edited)
    assert sampled.scope["sampled"] and sampled.scope["rows_in_scope"] == 9 and 0 < sampled.scope["rows_validated"] < 9


def test_a_sample_is_reproducible_and_keeps_every_row_of_a_sampled_key(mart):
    """More rows than gx_max_rows are sampled by a hash of the suite's unique key: the same rows every run, and a
    duplicated key is sampled with both its rows, so uniqueness still fails on the sample."""
    with writer(mart) as con:
        con.execute(f"INSERT INTO {MART} SELECT DATE '2019-01-01' + INTERVAL (i) DAY, b, i "
                    "FROM range(400) AS t(i), unnest(['P', 'Q', 'R', 'S', 'T']) AS u(b)")
    small = dataclasses.replace(mart, gx_max_rows=200)
    first, again = validate(small, SUITE), validate(small, SUITE)
    assert first.passed and first.scope["sampled"] and first.scope["rows_in_scope"] == 2006
    assert 100 < first.scope["rows_validated"] < 300 and again.scope == first.scope
    with writer(mart) as con:  # every key twice, the copies with another amount
        con.execute(f"INSERT INTO {MART} SELECT report_month, bank, amount + 1 FROM {MART}")
    duplicated = validate(small, SUITE)
    [failure] = duplicated.failed  # every sampled row has its key's other row beside it
    assert failure["expectation"] == "expect_compound_columns_to_be_unique"
    assert duplicated.scope["sampled"] and failure["observed"] == duplicated.scope["rows_validated"]


def test_text_columns_read_as_categories_still_fail_on_bad_values(mart):
    """Text columns reach GX as pandas categoricals (its row filters copy integer codes, not strings): a value
    outside the set, a text breaking the pattern, a null and a duplicated text key are each still found."""
    suite = Suite("t_monthly", MART, "text rules", [
        {"expect_column_values_to_be_in_set": {"column": "bank", "value_set": ["A", "B", "C"]}},
        {"expect_column_values_to_match_regex": {"column": "bank", "regex": "^[A-Z]$"}},
        {"expect_column_values_to_not_be_null": {"column": "bank"}},
        {"expect_compound_columns_to_be_unique": {"column_list": ["report_month", "bank"]}},
    ])
    assert validate(mart, suite).passed
    with writer(mart) as con:
        con.execute(f"INSERT INTO {MART} VALUES (DATE '2020-03-01', 'x1', 1), (DATE '2020-03-01', NULL, 1), "
                    "(DATE '2020-01-01', 'A', 2)")
    failed = {f["expectation"]: f["observed"] for f in validate(mart, suite).failed}
    assert failed == {"expect_column_values_to_be_in_set": 1, "expect_column_values_to_match_regex": 1,
                      "expect_column_values_to_not_be_null": 1, "expect_compound_columns_to_be_unique": 2}


def test_publication_compares_versions_through_their_changes(mart):
    with writer(mart) as con:
        v1 = current_snapshot(con)
        con.execute("BEGIN")  # a month rebuilt with the same figures: deleted and inserted again
        con.execute(f"DELETE FROM {MART} WHERE report_month = DATE '2020-02-01'")
        months(con, "2020-02-01")
        con.execute("COMMIT")
        v2 = current_snapshot(con)
        con.execute(f"UPDATE {MART} SET amount = 11 WHERE report_month = DATE '2020-01-01' AND bank = 'A'")
        v3 = current_snapshot(con)
        con.execute(f"CREATE OR REPLACE TABLE {MART} AS SELECT * FROM {MART} AT (VERSION => {v2})")  # rebuilt whole
        v4 = current_snapshot(con)
        con.execute(f"ALTER TABLE {MART} ADD COLUMN note VARCHAR")
        v5 = current_snapshot(con)
    with reader(mart) as con:
        assert same_rows(con, MART, v1, v2)
        assert not same_rows(con, MART, v2, v3) and not same_rows(con, MART, v1, v3)
        assert same_rows(con, MART, v2, v4) and not same_rows(con, MART, v3, v4)
        assert not same_rows(con, MART, v4, v5)


def test_the_data_docs_index_lists_every_result_with_its_outcome(mart):
    """Each validation renders its own page; the index is rebuilt once a run (by the catalog) and keeps what it read
    of each stored result for the process (data_docs_views.IndexBuilder): a result stored after it was first built
    still shows, failed as failed."""
    def index() -> str:
        return (data_docs_dir(mart) / "index.html").read_text(encoding="utf-8")

    record(mart, validate(mart, SUITE))
    build_data_docs_index(mart)
    with writer(mart) as con:
        con.execute(f"UPDATE {MART} SET amount = -1 WHERE bank = 'A'")
    record(mart, validate(mart, SUITE))
    assert len(list((data_docs_dir(mart) / "validations").rglob("*.html"))) == 2
    assert "'_validation_success_text': 'Failed'" not in index()  # not yet: the index waits for the catalog
    build_data_docs_index(mart)
    assert index().count("'_validation_success_text': 'Success'") == 1
    assert index().count("'_validation_success_text': 'Failed'") == 1


def test_the_data_docs_index_lists_the_newest_results_and_every_page_is_kept(mart, monkeypatch):
    """The index reads each result it lists, so it lists the newest DATA_DOCS_INDEX_LIMIT, not every run's; each
    validation renders its own page (the section builder looks up the given keys rather than listing the store)."""
    from pipelines.quality import expectations

    monkeypatch.setattr(expectations, "DATA_DOCS_INDEX_LIMIT", 2)  # read when the lake's GX context is made
    for amount in (-1, 1, -2):
        with writer(mart) as con:
            con.execute(f"UPDATE {MART} SET amount = ? WHERE bank = 'A'", [amount])
        record(mart, validate(mart, SUITE))
    pages = list((data_docs_dir(mart) / "validations").rglob("*.html"))
    assert len(pages) == 3 and (data_docs_dir(mart) / "expectations" / "t_monthly.html").exists()
    build_data_docs_index(mart)
    index = (data_docs_dir(mart) / "index.html").read_text(encoding="utf-8")
    assert index.count("'_validation_success_text': 'Failed'") == 1  # the newest: amount -2
    assert index.count("'_validation_success_text': 'Success'") == 1  # amount 1; the first (-1) left out


def test_an_unchanged_rebuild_is_confirmed_and_a_later_change_published(mart):
    """Publication compares with the newest snapshot known to hold the published figures: a rebuild with the same
    figures keeps the version and moves that snapshot (so the next comparison reads only what changed after it)."""
    def checked(con) -> int:  # the mart's checks passed on the current snapshot
        snapshot = current_snapshot(con)
        con.execute("INSERT INTO meta.quality_results (dataset, suite, passed, expectations_evaluated, "
                    "expectations_failed, details, snapshot_id, evaluated_at) "
                    "VALUES (?, 'great_expectations:t_monthly', true, 3, 0, '[]', ?, now())", [MART, snapshot])
        return snapshot

    def confirmed() -> int:
        with reader(mart) as con:
            return con.execute("SELECT confirmed_snapshot_id FROM meta.publications WHERE dataset = ? "
                               "ORDER BY version DESC LIMIT 1", [MART]).fetchone()[0]

    with writer(mart) as con:
        first = checked(con)
    assert publish(mart, MART, log=lambda _: None) == {
        "dataset": MART, "version": 1, "snapshot_id": first, "rows": 6, "new": True}
    assert confirmed() is None
    with writer(mart) as con:  # February rebuilt with the same figures
        con.execute("BEGIN")
        con.execute(f"DELETE FROM {MART} WHERE report_month = DATE '2020-02-01'")
        months(con, "2020-02-01")
        con.execute("COMMIT")
        rebuilt = checked(con)
    assert publish(mart, MART, log=lambda _: None) == {
        "dataset": MART, "version": 1, "snapshot_id": first, "new": False}
    assert confirmed() == rebuilt
    with writer(mart) as con:  # then a figure changes
        con.execute(f"UPDATE {MART} SET amount = 11 WHERE report_month = DATE '2020-01-01' AND bank = 'A'")
        corrected = checked(con)
    assert publish(mart, MART, log=lambda _: None) == {
        "dataset": MART, "version": 2, "snapshot_id": corrected, "rows": 6, "new": True}
    with writer(mart) as con:  # a month more: another row count, published without comparing any row
        con.execute(f"INSERT INTO {MART} VALUES (DATE '2020-03-01', 'A', 5)")
        grown = checked(con)
    assert publish(mart, MART, log=lambda _: None) == {
        "dataset": MART, "version": 3, "snapshot_id": grown, "rows": 7, "new": True}
