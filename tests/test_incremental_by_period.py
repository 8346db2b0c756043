"""Models kept period by period replace the whole of every period they rebuild, also one that now yields no rows."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

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


# --- every model kept period by period: built run by run, it holds what a full rebuild computes ---------------------

def incremental_models() -> list[tuple[str, str]]:
    from pipelines.assets.dbt import DBT_PROJECT

    manifest = json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))
    return sorted((node["schema"], node["alias"]) for node in manifest["nodes"].values()
                  if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental")


def contents(con, schema, table) -> Counter:
    return Counter(con.execute(f"SELECT * FROM {schema}.{table}").fetchall())


def dbt_run(settings, *args):
    target = settings.root / "dbt_target"
    return cli.main(["dbt", "run", "--quiet", "--target-path", str(target), "--log-path", str(target), *args])


def deliver_month(con, month, like):
    """A new month of loan reports, the loans of ``like`` reported again; a few of them downgraded."""
    con.execute("INSERT INTO raw.bank__loans SELECT * REPLACE (CAST(? AS DATE) AS report_month, now() AS _loaded_at, "
                "CASE WHEN hash(loan_id) % 7 = 0 THEN '次级' ELSE five_category END AS five_category) "
                "FROM raw.bank__loans WHERE report_month = ?", [month, like])


@pytest.fixture(scope="module")
def built_run_by_run(tmp_path_factory, pipeline_template):
    """The template lake after two more deliveries, each followed by an incremental dbt run: a new year's first
    month with November's loans and some financial statements delivered again, corrected (periods rebuilt whole),
    then the year's second month (appended to a year the models hold)."""
    from conftest import copy_pipeline, located_at

    root = tmp_path_factory.mktemp("run_by_run")
    copy_pipeline(pipeline_template, root)
    with located_at(root):
        from pipelines import settings as settings_module

        settings = settings_module.load()
        with writer(settings) as con:
            deliver_month(con, dt.date(2021, 1, 1), DECEMBER)
            con.execute("UPDATE raw.bank__loans SET balance = balance * 2, _loaded_at = now() "
                        "WHERE report_month = DATE '2020-11-01' AND hash(loan_id) % 5 = 0")
            con.execute("UPDATE raw.enterprise__financials SET equity = equity * 1.5, _loaded_at = now() "
                        "WHERE hash(credit_code) % 3 = 0")
        assert dbt_run(settings) == 0
        with writer(settings) as con:
            deliver_month(con, dt.date(2021, 2, 1), dt.date(2021, 1, 1))
        assert dbt_run(settings) == 0
        yield settings


def test_every_model_kept_period_by_period_equals_its_full_rebuild(built_run_by_run):
    settings = built_run_by_run
    models = incremental_models()
    assert len(models) >= 20, models
    with reader(settings) as con:
        run_by_run = {model: contents(con, *model) for model in models}
        months = {m for (m,) in con.execute("SELECT DISTINCT report_month FROM marts.fct_loans_monthly").fetchall()}
    assert {dt.date(2021, 1, 1), dt.date(2021, 2, 1)} <= months  # both deliveries reached the marts

    assert dbt_run(settings, "--full-refresh", "--select", "config.materialized:incremental") == 0
    with reader(settings) as con:
        differing = [f"{schema}.{table}: {sum((run_by_run[(schema, table)] - rebuilt).values())} rows only run by "
                     f"run, {sum((rebuilt - run_by_run[(schema, table)]).values())} only rebuilt"
                     for schema, table in models
                     for rebuilt in [contents(con, schema, table)] if rebuilt != run_by_run[(schema, table)]]
    assert not differing, differing
