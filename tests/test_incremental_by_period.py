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
    return dbt_run(settings, "--select", GREEN_LOANS[1], BENEFITS[1])


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


# --- the ESG models, kept year by year: a year with its inputs, every year with a register --------------------------

ESG = [("intermediate", "int_esg__indicator_values_yearly"), ("intermediate", "int_esg__indicator_scores_yearly"),
       ("marts", "fct_esg_score_yearly")]


def run_esg(settings, *args):
    return dbt_run(settings, "--select", *[table for _schema, table in ESG], *args)


def years_changed(con, since, models=ESG) -> dict[str, list[int]]:
    """The years each of ``models`` (yearly, (schema, table)) deleted or inserted rows of after snapshot ``since``."""
    if current_snapshot(con) == since:
        return {table: [] for _schema, table in models}
    return {table: [y for (y,) in con.execute(
        "SELECT DISTINCT year FROM ducklake_table_changes('lake', ?, ?, ?, ?) ORDER BY 1",
        [schema, table, since + 1, current_snapshot(con)]).fetchall()] for schema, table in models}


def test_esg_years_are_rebuilt_with_their_inputs_and_all_of_them_with_the_registry(lake):
    assert run_esg(lake) == 0  # whatever earlier tests delivered
    with reader(lake) as con:
        years = [y for (y,) in con.execute(
            "SELECT DISTINCT year FROM marts.fct_esg_score_yearly ORDER BY 1").fetchall()]
        assert years == [2019, 2020], years  # the template's: tax ratings of 2019, the rest of 2020
        settled = current_snapshot(con)
    assert run_esg(lake) == 0  # nothing new: nothing written
    with reader(lake) as con:
        assert years_changed(con, settled) == {table: [] for _schema, table in ESG}

    with writer(lake) as con:  # ratings of 2019 corrected: 2019 alone
        con.execute("UPDATE raw.public__tax_credit_ratings SET score = score - 1, _loaded_at = now() "
                    "WHERE rating_year = 2019")
        before = current_snapshot(con)
    assert run_esg(lake) == 0
    with reader(lake) as con:
        assert years_changed(con, before) == {table: [2019] for _schema, table in ESG}

    # loans of persons reported again: no ESG value reads them, yet they rebuild 2020 once, and only once
    with writer(lake) as con:
        assert con.execute("UPDATE raw.bank__loans SET _loaded_at = now() WHERE borrower_type = '个人' "
                           "AND report_month = DATE '2020-11-01'").fetchone()[0] > 0
        before = current_snapshot(con)
    assert run_esg(lake) == 0
    with reader(lake) as con:
        assert years_changed(con, before) == {table: [2020] for _schema, table in ESG}
        before = current_snapshot(con)
    assert run_esg(lake) == 0
    with reader(lake) as con:
        assert years_changed(con, before) == {table: [] for _schema, table in ESG}

    # statements of 2019 delivered late: 2019, and 2020, whose S01 (employees against the year before) they complete
    with writer(lake) as con:
        firms = [c for (c,) in con.execute(
            "SELECT credit_code FROM raw.enterprise__financials WHERE year = 2020 AND employees > 0 "
            "ORDER BY credit_code LIMIT 3").fetchall()]
        con.execute("INSERT INTO raw.enterprise__financials SELECT * REPLACE (2019 AS year, "
                    "employees + 1 AS employees, now() AS _loaded_at) FROM raw.enterprise__financials "
                    "WHERE year = 2020 AND list_contains(?, credit_code)", [firms])
        before = current_snapshot(con)
    assert run_esg(lake) == 0
    with reader(lake) as con:
        assert years_changed(con, before) == {table: [2019, 2020] for _schema, table in ESG}
        s01 = con.execute("SELECT count(raw_value) FROM intermediate.int_esg__indicator_values_yearly "
                          "WHERE indicator_code = 'S01' AND year = 2020 AND list_contains(?, credit_code)",
                          [firms]).fetchone()[0]
        assert s01 == len(firms) == 3

    # a new dump of the registry (a firm renamed): every year, and the name in each of them
    with writer(lake) as con:
        renamed = con.execute("SELECT credit_code FROM marts.fct_esg_score_yearly GROUP BY 1 "
                              "HAVING count(*) = 2 ORDER BY 1 LIMIT 1").fetchone()[0]
        con.execute("UPDATE raw.enterprise__registry SET enterprise_name = '湖州改名测试有限公司', _loaded_at = now() "
                    "WHERE credit_code = ?", [renamed])
        before = current_snapshot(con)
    assert run_esg(lake) == 0
    with reader(lake) as con:
        assert years_changed(con, before) == {table: [2019, 2020] for _schema, table in ESG}
        assert con.execute("SELECT list(DISTINCT enterprise_name) FROM marts.fct_esg_score_yearly "
                           "WHERE credit_code = ?", [renamed]).fetchone()[0] == ["湖州改名测试有限公司"]
        run_by_run = {table: contents(con, schema, table) for schema, table in ESG}

    assert run_esg(lake, "--full-refresh") == 0  # and what the runs kept is what a rebuild computes
    with reader(lake) as con:
        assert {table: contents(con, schema, table) for schema, table in ESG} == run_by_run


PCAF = ("intermediate", "int_carbon__pcaf_loan_attribution")
PCAF_LOANS = ("marts", "fct_financed_emissions_loan_yearly")


def loans_changed(con, since, schema, table) -> set[tuple]:
    """The (year, bank, loan) of the rows ``table`` inserted after snapshot ``since``."""
    return set(con.execute(
        "SELECT DISTINCT year, bank_code, loan_id FROM ducklake_table_changes('lake', ?, ?, ?, ?) "
        "WHERE change_type = 'insert'", [schema, table, since + 1, current_snapshot(con)]).fetchall())


def test_december_market_data_replaces_only_its_borrowers_pcaf_rows(lake):
    """The attribution takes a listed borrower's year-end market cap from December's row: a market-data delivery of
    another month changes nothing there and rebuilds nothing; December's replaces the rows of its borrowers' loans of
    its year, in the attribution and in the loan-level financed emissions, whatever month they were last reported
    in, and no other row. What the runs kept is what a rebuild computes."""
    models = [PCAF, PCAF_LOANS]
    assert dbt_run(lake, "--select", PCAF[1], PCAF_LOANS[1]) == 0  # whatever earlier tests delivered
    with writer(lake) as con:
        assert con.execute("UPDATE raw.enterprise__market_data SET market_cap = market_cap * 2, "
                           "_loaded_at = now() WHERE trade_month = DATE '2020-11-01'").fetchone()[0] > 0
        before = current_snapshot(con)
    assert dbt_run(lake, "--select", PCAF[1], PCAF_LOANS[1]) == 0
    with reader(lake) as con:
        assert years_changed(con, before, models) == {PCAF[1]: [], PCAF_LOANS[1]: []}

    with writer(lake) as con:  # December's market caps delivered again, doubled
        december = "trade_month = DATE '2020-12-01'"
        firms = [f for (f,) in con.execute(f"SELECT credit_code FROM raw.enterprise__market_data WHERE {december}")
                 .fetchall()]
        con.execute(f"UPDATE raw.enterprise__market_data SET market_cap = market_cap * 2, _loaded_at = now() "
                    f"WHERE {december}")
        their_loans = set(con.execute(
            "SELECT DISTINCT year, bank_code, loan_id FROM intermediate.int_carbon__pcaf_loan_attribution "
            f"WHERE borrower_id IN ({', '.join('?' * len(firms))})", firms).fetchall())
        others = con.execute("SELECT count(*) FROM intermediate.int_carbon__pcaf_loan_attribution "
                             "WHERE year = 2020").fetchone()[0] - len(their_loans)
        before = current_snapshot(con)
    assert firms and their_loans and others > 0  # the demo lends to listed firms, and to others
    assert {year for year, _bank, _loan in their_loans} == {2020}
    assert dbt_run(lake, "--select", PCAF[1], PCAF_LOANS[1]) == 0
    with reader(lake) as con:
        assert {table: loans_changed(con, before, schema, table) for schema, table in models} == {
            PCAF[1]: their_loans, PCAF_LOANS[1]: their_loans}
        run_by_run = {table: contents(con, schema, table) for schema, table in models}
    assert dbt_run(lake, "--select", PCAF[1], PCAF_LOANS[1], "--full-refresh") == 0
    with reader(lake) as con:
        assert {table: contents(con, schema, table) for schema, table in models} == run_by_run


CRITERIA = ("intermediate", "int_green_identification__enterprise_criteria_yearly")


def test_a_green_bond_rebuilds_its_issue_year_and_every_later_one(lake):
    """The enterprise criteria count a green bond as outstanding from its issue year on (an input named in
    and_later): a bond issued in 2020 rebuilds 2020 and 2021 and is outstanding in both; one issued in 2021 rebuilds
    2021 alone, as a penalty decided in 2021 does. What the runs kept is what a rebuild computes."""
    with writer(lake) as con:
        deliver_month(con, dt.date(2021, 1, 1), DECEMBER)  # a second year of loan reports
    assert dbt_run(lake, "--select", CRITERIA[1]) == 0

    def green_bond_met(con, firm) -> dict[int, bool]:
        return dict(con.execute(f"SELECT year, is_met FROM {'.'.join(CRITERIA)} WHERE credit_code = ? "
                                "AND criterion_code = 'green_bond'", [firm]).fetchall())

    with reader(lake) as con:  # a firm of both years without a green bond
        issuer = con.execute(f"SELECT credit_code FROM {'.'.join(CRITERIA)} WHERE criterion_code = 'green_bond' "
                             "GROUP BY 1 HAVING count(*) = 2 AND NOT bool_or(is_met) ORDER BY 1 LIMIT 1").fetchone()[0]
        assert green_bond_met(con, issuer) == {2020: False, 2021: False}

    for issued, rebuilt in (("2020-06-01", [2020, 2021]), ("2021-03-01", [2021])):
        with writer(lake) as con:
            # every field the bonds' contract requires: a row that lacks one never reaches the lake
            con.execute("INSERT INTO raw.bank__green_bonds BY NAME SELECT ? AS bond_code, ? AS issuer_uscc, "
                        "CAST(? AS DATE) AS issue_date, date_trunc('month', CAST(? AS DATE)) AS issue_month, "
                        "DATE '2030-01-01' AS maturity_date, 100 AS amount, now() AS _loaded_at, "
                        "'测试绿色债' AS bond_short_name, '绿色公司债' AS bond_type, '测试发行人' AS issuer_name, "
                        "'非金融企业' AS issuer_type, 'Z0000000000000' AS lead_underwriter_code, "
                        "'测试承销商' AS lead_underwriter_name, 3.5 AS coupon_rate_pct, "
                        "'GBEPC2021' AS taxonomy_version, '1.1.1.1' AS green_category_code, "
                        "'测试类别' AS green_category_name",
                        [f"TEST{issued[:4]}", issuer, issued, issued])
            before = current_snapshot(con)
        assert dbt_run(lake, "--select", CRITERIA[1]) == 0
        with reader(lake) as con:
            assert years_changed(con, before, [CRITERIA]) == {CRITERIA[1]: rebuilt}, issued
            assert green_bond_met(con, issuer) == {2020: True, 2021: True}, issued

    with writer(lake) as con:  # a penalty decided in 2021: 2021 alone
        con.execute("INSERT INTO raw.public__environmental_penalties BY NAME SELECT 'TEST-2021-1' AS decision_number, "
                    "? AS credit_code, DATE '2021-01-15' AS decision_date, now() AS _loaded_at", [issuer])
        before = current_snapshot(con)
    assert dbt_run(lake, "--select", CRITERIA[1]) == 0
    with reader(lake) as con:
        assert years_changed(con, before, [CRITERIA]) == {CRITERIA[1]: [2021]}
        run_by_run = contents(con, *CRITERIA)
    assert dbt_run(lake, "--select", CRITERIA[1], "--full-refresh") == 0
    with reader(lake) as con:
        assert contents(con, *CRITERIA) == run_by_run


# --- every model kept period by period: built run by run, it holds what a full rebuild computes ---------------------

def incremental_models() -> list[tuple[str, str]]:
    from pipelines.assets.dbt import DBT_PROJECT

    manifest = json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))
    return sorted((node["schema"], node["alias"]) for node in manifest["nodes"].values()
                  if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental")


def contents(con, schema, table) -> Counter:
    return Counter(con.execute(f"SELECT * FROM {schema}.{table}").fetchall())


def dbt_run(settings, *args):
    """dbt on `settings`' lake: dbt finds its lake by the environment, which a module fixture (built_run_by_run) keeps
    pointed at its own lake until the module ends."""
    from conftest import located_at

    target = settings.root / "dbt_target"  # dbt's own files beside the lake: the project's target/ holds the manifest
    with located_at(settings.root):
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
    then the year's second month (appended to a year the models hold) with December's market caps corrected (the
    PCAF models replace their borrowers' rows by key)."""
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
            # year-end market caps corrected: the PCAF models replace those borrowers' loans of 2020 by key
            con.execute("UPDATE raw.enterprise__market_data SET market_cap = market_cap * 1.1, _loaded_at = now() "
                        "WHERE trade_month = DATE '2020-12-01'")
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


def test_every_model_a_period_kept_model_reads_is_watched_or_named_not_watched():
    """A period is recomputed only for the inputs the model watches; every other model it reads is named in
    `not_watched`, a choice made on purpose (dbt_project/macros/incremental_by_period.sql), so that no input is left
    out by accident: the PCAF attribution's listing statuses were, until 2026-11-29. Seeds are never watched."""
    from pipelines.assets.dbt import DBT_PROJECT

    manifest = json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))
    kept, gaps = 0, {}
    for node in manifest["nodes"].values():
        config = node["config"]
        if node["resource_type"] != "model" or not config.get("period_inputs"):
            continue
        kept += 1
        reads = {uid.split(".")[-1] for uid in node["depends_on"]["nodes"] if uid.startswith("model.")}
        watched = {name for name, _, _ in config["period_inputs"]}
        not_watched = set(config.get("period_inputs_not_watched") or [])
        found = {"neither": reads - watched - not_watched, "not read": not_watched - reads,
                 "both": watched & not_watched}
        if any(found.values()):
            gaps[node["name"]] = {k: sorted(v) for k, v in found.items() if v}
    assert kept >= 30
    assert gaps == {}


# --- a contract's not_null reaches a table kept increment by increment ----------------------------------------------

CARBON_ACCOUNT = ("intermediate", "int_carbon_account__behaviours_monthly")


def nullable(con, schema, table, column) -> bool:
    return con.execute("SELECT is_nullable = 'YES' FROM information_schema.columns WHERE table_catalog = 'lake' "
                       "AND table_schema = ? AND table_name = ? AND column_name = ?",
                       [schema, table, column]).fetchone()[0]


def test_a_contract_not_null_the_table_lacks_is_added_and_refused_while_a_null_is_there(lake, capfd):
    """dbt writes a contract's constraints only when it creates a table: an incremental model's table from before its
    not_null (a lake built before the intermediate layer had contracts) gets it at the next run, checked against its
    rows, since no not_null test covers the column any more (dbt_project/macros/not_null_contracts.sql)."""
    schema, table = CARBON_ACCOUNT
    with writer(lake) as con:
        con.execute(f"ALTER TABLE {schema}.{table} ALTER COLUMN person_id DROP NOT NULL")
        assert nullable(con, schema, table, "person_id")
    assert dbt_run(lake, "--select", table) == 0
    with reader(lake) as con:
        assert not nullable(con, schema, table, "person_id")

    with writer(lake) as con:  # the table took a null while it had no constraint
        con.execute(f"ALTER TABLE {schema}.{table} ALTER COLUMN person_id DROP NOT NULL")
        con.execute(f"INSERT INTO {schema}.{table} SELECT * REPLACE (NULL AS person_id) FROM {schema}.{table} LIMIT 1")
    capfd.readouterr()
    assert dbt_run(lake, "--select", table) != 0
    out = capfd.readouterr().out
    assert f'"{schema}"."{table}".person_id: 1 rows are null' in out, out
    with writer(lake) as con:
        assert nullable(con, schema, table, "person_id")
        con.execute(f"DELETE FROM {schema}.{table} WHERE person_id IS NULL")
    assert dbt_run(lake, "--select", table) == 0
    with reader(lake) as con:
        assert not nullable(con, schema, table, "person_id")
