"""Models kept period by period replace the whole of every period they rebuild, also one that now yields no rows."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines import cli
from pipelines.lake.connection import current_snapshot, reader, writer

pytestmark = pytest.mark.e2e
DECEMBER = dt.date(2020, 12, 1)
# the green loans of a month, and the mart over them that also watches the loan reports
GREEN_LOANS = ("intermediate", "int_green_credit__green_loans_classified")
BENEFITS = ("marts", "fct_green_loan_benefits_monthly")


@pytest.fixture(scope="module")
def lake(tmp_path_factory, pipeline_template):
    from conftest import copy_pipeline, located_at

    root = tmp_path_factory.mktemp("periods")
    copy_pipeline(pipeline_template, root)
    with located_at(root):
        from pipelines import settings as settings_module

        yield settings_module.load()


def rows_by_month(con, schema, table):
    return dict(con.execute(f"SELECT report_month, count(*) FROM {schema}.{table} GROUP BY ALL").fetchall())


def changes(con, schema, table, since):
    if current_snapshot(con) == since:  # nothing committed at all
        return []
    return con.execute(
        "SELECT change_type, report_month, count(*) FROM ducklake_table_changes('lake', ?, ?, ?, ?) "
        "GROUP BY ALL ORDER BY ALL", [schema, table, since + 1, current_snapshot(con)]).fetchall()


def run_models(settings):
    # dbt's own files beside the lake: the project's target/ holds the manifest the pipeline is defined by
    target = settings.root / "dbt_target"
    return cli.main(["dbt", "run", "--select", GREEN_LOANS[1], BENEFITS[1], "--quiet",
                     "--target-path", str(target), "--log-path", str(target)])


def test_a_reloaded_month_without_green_loans_is_emptied_and_other_months_are_untouched(lake):
    with reader(lake) as con:
        before = {t: rows_by_month(con, *t) for t in (GREEN_LOANS, BENEFITS)}
    assert all(before[t].get(DECEMBER) for t in before), before  # the demo has green loans in December

    # December delivered again, corrected: none of its loans is green any more
    with writer(lake) as con:
        con.execute("UPDATE raw.bank__loans SET is_green = false, _loaded_at = now() WHERE report_month = ?",
                    [DECEMBER])
        reloaded = current_snapshot(con)
    assert run_models(lake) == 0

    with reader(lake) as con:
        for schema, table in (GREEN_LOANS, BENEFITS):
            after = rows_by_month(con, schema, table)
            assert DECEMBER not in after, f"{table} kept December's old rows"
            assert after == {m: n for m, n in before[(schema, table)].items() if m != DECEMBER}
            assert changes(con, schema, table, reloaded) == [
                ("delete", DECEMBER, before[(schema, table)][DECEMBER])]
        settled = current_snapshot(con)

    # nothing new delivered: a rerun writes nothing
    assert run_models(lake) == 0
    with reader(lake) as con:
        for schema, table in (GREEN_LOANS, BENEFITS):
            assert changes(con, schema, table, settled) == []
