"""Column-level lineage from compiled SQL: small hand-written manifests, then the project's own."""

from __future__ import annotations

import json
import time

import pytest

from pipelines.catalog.column_lineage import (
    ColumnEdge,
    ModelLineage,
    cached_lineage,
    lineage_from_manifest,
    model_dataset,
)
from pipelines.settings import PROJECT_ROOT

RAW = {
    "raw.bank__loans": ["loan_id", "bank_code", "district_code", "status", "balance", "rate_text", "month",
                        "_source_file"],
    "raw.public__divisions": ["division_code", "division_name"],
    "raw.bank__blocked": ["loan_id"],
}


def model(name: str, sql: str, schema: str = "staging", depends_on: tuple[str, ...] = (),
          columns: tuple[str, ...] = ()) -> dict:
    return {"resource_type": "model", "name": name, "alias": name, "schema": schema, "compiled_code": sql,
            "depends_on": {"nodes": [f"model.lakehouse.{dep}" for dep in depends_on]},
            "columns": {column: {"name": column} for column in columns}}


def lineage(*models: dict, known: dict | None = None) -> dict[str, ModelLineage]:
    manifest = {"nodes": {f"model.lakehouse.{m['name']}": m for m in models}}
    return lineage_from_manifest(manifest, RAW if known is None else known)


def sources(result: ModelLineage, column: str) -> set[tuple[str, str, str]]:
    return {(e.upstream, e.upstream_column, e.transformation) for e in result.edges if e.downstream_column == column}


def test_rename_cast_and_trim() -> None:
    result = lineage(model("stg_bank__loans", """
        select loan_id as id, cast(balance as decimal(18, 2)) as balance_yuan, rate_text::double as rate,
               trim(status) as status
        from "lake"."raw"."bank__loans" """))["staging.stg_bank__loans"]

    assert result.error is None
    assert result.columns == ["id", "balance_yuan", "rate", "status"]
    assert sources(result, "id") == {("raw.bank__loans", "loan_id", "IDENTITY")}
    # a cast changes the type, not the value
    assert sources(result, "balance_yuan") == {("raw.bank__loans", "balance", "IDENTITY")}
    assert sources(result, "rate") == {("raw.bank__loans", "rate_text", "IDENTITY")}
    assert sources(result, "status") == {("raw.bank__loans", "status", "TRANSFORMATION")}
    assert result.edges[0] == ColumnEdge("staging.stg_bank__loans", "id", "raw.bank__loans", "loan_id", "IDENTITY")
    assert result.tables_read == {"raw.bank__loans"}


def test_select_star_through_ctes_and_across_models_in_dependency_order() -> None:
    staging = model("stg_bank__loans", """
        with source as (select * from "lake"."raw"."bank__loans"),
        renamed as (select loan_id, upper(bank_code) as bank_code, balance as balance_yuan from source)
        select * from renamed""")
    mart = model("fct_loans", """
        with loans as (select * from "lake"."staging"."stg_bank__loans")
        select *, balance_yuan * 2 as doubled from loans""", schema="marts", depends_on=("stg_bank__loans",))
    results = lineage(mart, staging)  # the mart comes first in the manifest: order must come from depends_on

    assert list(results) == ["staging.stg_bank__loans", "marts.fct_loans"]
    assert results["staging.stg_bank__loans"].columns == ["loan_id", "bank_code", "balance_yuan"]
    assert sources(results["staging.stg_bank__loans"], "bank_code") == {
        ("raw.bank__loans", "bank_code", "TRANSFORMATION")}
    mart_lineage = results["marts.fct_loans"]
    assert mart_lineage.columns == ["loan_id", "bank_code", "balance_yuan", "doubled"]
    assert sources(mart_lineage, "bank_code") == {("staging.stg_bank__loans", "bank_code", "IDENTITY")}
    assert sources(mart_lineage, "doubled") == {("staging.stg_bank__loans", "balance_yuan", "TRANSFORMATION")}
    assert mart_lineage.tables_read == {"staging.stg_bank__loans"}


def test_join_with_qualified_and_unqualified_columns() -> None:
    result = lineage(model("int_loans", """
        select l.loan_id, division_name as district_name, balance
        from "lake"."raw"."bank__loans" as l
        left join "lake"."raw"."public__divisions" as d on d.division_code = l.district_code""",
                           schema="intermediate"))["intermediate.int_loans"]

    assert result.columns == ["loan_id", "district_name", "balance"]
    assert sources(result, "loan_id") == {("raw.bank__loans", "loan_id", "IDENTITY")}
    assert sources(result, "district_name") == {("raw.public__divisions", "division_name", "IDENTITY")}
    assert sources(result, "balance") == {("raw.bank__loans", "balance", "IDENTITY")}
    # the join keys are indirect lineage: no column edge
    assert not any(e.upstream_column in {"division_code", "district_code"} for e in result.edges)


def test_using_join_key_comes_from_both_sides_unchanged() -> None:
    result = lineage(model("int_blocked", """
        select loan_id, balance from "lake"."raw"."bank__loans" join "lake"."raw"."bank__blocked" using (loan_id)""",
                           schema="intermediate"))["intermediate.int_blocked"]

    assert result.columns == ["loan_id", "balance"]
    assert sources(result, "loan_id") == {("raw.bank__loans", "loan_id", "IDENTITY"),
                                          ("raw.bank__blocked", "loan_id", "IDENTITY")}


def test_aggregation_constants_and_count_star() -> None:
    result = lineage(model("fct_districts", """
        with totals as (
            select district_code, sum(balance) as balance, count(*) as loans, max(month) as last_month,
                   count(distinct loan_id) as distinct_loans
            from "lake"."raw"."bank__loans" group by district_code)
        select district_code, cast(balance as decimal(20, 2)) as balance_yuan, loans, last_month, distinct_loans,
               'CNY' as currency, 1 as one,
               (select max(division_name) from "lake"."raw"."public__divisions") as last_division_name
        from totals""", schema="marts"))["marts.fct_districts"]

    assert result.columns == ["district_code", "balance_yuan", "loans", "last_month", "distinct_loans", "currency",
                              "one", "last_division_name"]
    assert sources(result, "district_code") == {("raw.bank__loans", "district_code", "IDENTITY")}
    # aggregation anywhere on the path wins over the identity cast after it
    assert sources(result, "balance_yuan") == {("raw.bank__loans", "balance", "AGGREGATION")}
    assert sources(result, "last_month") == {("raw.bank__loans", "month", "AGGREGATION")}
    assert sources(result, "distinct_loans") == {("raw.bank__loans", "loan_id", "AGGREGATION")}
    assert sources(result, "loans") == sources(result, "currency") == sources(result, "one") == set()
    assert sources(result, "last_division_name") == {("raw.public__divisions", "division_name", "AGGREGATION")}


def test_case_over_two_columns_and_strongest_path_per_upstream_column() -> None:
    result = lineage(model("int_green", """
        with amounts as (select status, balance, balance * 2 as doubled from "lake"."raw"."bank__loans")
        select case when status = 'green' then balance else 0 end as green_balance,
               balance + doubled as tripled,
               balance + sum(balance) over () as with_total,
               coalesce(balance, 0) as balance_or_zero
        from amounts""", schema="intermediate"))["intermediate.int_green"]

    assert sources(result, "green_balance") == {("raw.bank__loans", "status", "TRANSFORMATION"),
                                                ("raw.bank__loans", "balance", "TRANSFORMATION")}
    # balance reached as itself and through `doubled`: one edge, the stronger kind
    assert sources(result, "tripled") == {("raw.bank__loans", "balance", "TRANSFORMATION")}
    assert sources(result, "with_total") == {("raw.bank__loans", "balance", "AGGREGATION")}
    assert sources(result, "balance_or_zero") == {("raw.bank__loans", "balance", "TRANSFORMATION")}
    pairs = [(e.downstream_column, e.upstream, e.upstream_column) for e in result.edges]
    assert len(pairs) == len(set(pairs))


def test_window_functions() -> None:
    result = lineage(model("int_ranked", """
        select loan_id,
               row_number() over (partition by district_code order by balance desc) as rank_in_district,
               sum(balance) over (partition by district_code) as district_balance,
               lag(balance) over (partition by loan_id order by month) as previous_balance
        from "lake"."raw"."bank__loans" """, schema="intermediate"))["intermediate.int_ranked"]

    assert sources(result, "rank_in_district") == {("raw.bank__loans", "district_code", "TRANSFORMATION"),
                                                   ("raw.bank__loans", "balance", "TRANSFORMATION")}
    assert sources(result, "district_balance") == {("raw.bank__loans", "balance", "AGGREGATION"),
                                                   ("raw.bank__loans", "district_code", "AGGREGATION")}
    # lag picks another row's value, it does not aggregate
    assert sources(result, "previous_balance") == {("raw.bank__loans", "balance", "TRANSFORMATION"),
                                                   ("raw.bank__loans", "loan_id", "TRANSFORMATION"),
                                                   ("raw.bank__loans", "month", "TRANSFORMATION")}


def test_union_all_matches_branches_by_position() -> None:
    result = lineage(model("int_codes", """
        with codes as (
            select district_code as code, 'district' as kind from "lake"."raw"."bank__loans"
            union all
            select division_code, 'division' from "lake"."raw"."public__divisions")
        select * from codes""", schema="intermediate"))["intermediate.int_codes"]

    assert result.columns == ["code", "kind"]
    assert sources(result, "code") == {("raw.bank__loans", "district_code", "IDENTITY"),
                                       ("raw.public__divisions", "division_code", "IDENTITY")}
    assert sources(result, "kind") == set()
    assert result.tables_read == {"raw.bank__loans", "raw.public__divisions"}


def test_tables_typed_by_hand_are_read_too() -> None:
    # no ref, no source, no catalog: the SQL names the raw tables itself, one only in a where subquery
    result = lineage(model("stg_open_loans", """
        select loan_id, balance from raw.bank__loans
        where loan_id not in (select loan_id from raw.bank__blocked)"""))["staging.stg_open_loans"]

    assert result.tables_read == {"raw.bank__loans", "raw.bank__blocked"}
    assert sources(result, "loan_id") == {("raw.bank__loans", "loan_id", "IDENTITY")}


def test_column_names_keep_their_case() -> None:
    known = {"raw.t": ["LoanID", "Amount"]}
    result = lineage(model("stg_t", 'select loanid, amount as "AmountYuan" from raw.t'), known=known)["staging.stg_t"]

    assert result.columns == ["LoanID", "AmountYuan"]  # what DuckDB calls them
    assert sources(result, "AmountYuan") == {("raw.t", "Amount", "IDENTITY")}


def test_unparseable_or_unresolvable_sql_is_reported_not_raised() -> None:
    broken = model("stg_broken", "selec loan_id frm raw.bank__loans", columns=("loan_id", "balance"))
    unknown = model("stg_unknown", "select * from raw.never_declared", columns=("x",))
    downstream = model("fct_after", 'select balance from "lake"."staging"."stg_broken"', schema="marts",
                       depends_on=("stg_broken",))
    results = lineage(broken, unknown, downstream)

    assert results["staging.stg_broken"].error
    assert results["staging.stg_broken"].columns == ["loan_id", "balance"]  # the documented ones
    assert results["staging.stg_broken"].edges == []
    assert "raw.never_declared" in results["staging.stg_unknown"].error
    assert results["staging.stg_unknown"].columns == ["x"]
    # a model reading a broken one still gets its lineage, from the broken model's documented columns
    assert results["marts.fct_after"].error is None
    assert sources(results["marts.fct_after"], "balance") == {("staging.stg_broken", "balance", "IDENTITY")}


# --- the project's own models --------------------------------------------------------------------------------



def raw_table_columns() -> dict[str, list[str]]:
    """The raw tables' columns as ingestion creates them (the contracts are parsed, not re-validated: faster)."""
    from pipelines.contracts.model import CONTRACTS_DIR, parse
    from pipelines.ingest.load import raw_columns

    contracts = [parse(path) for path in sorted(CONTRACTS_DIR.glob("*.odcs.yaml"))]
    return {contract.raw_table: list(raw_columns(contract)) for contract in contracts}


@pytest.fixture(scope="session")
def project_lineage(project_manifest: dict) -> tuple[dict[str, ModelLineage], float]:
    """The lineage of the project's models, computed once for the tests below, with the seconds it took."""
    from pipelines.catalog.collect import seed_columns

    # what the catalog build knows: the raw tables and the seeds (parameters read by scalar subqueries, too)
    known = {**raw_table_columns(), **seed_columns(project_manifest, PROJECT_ROOT / "dbt_project")}
    started = time.perf_counter()
    results = lineage_from_manifest(project_manifest, known)
    return results, time.perf_counter() - started


def test_project_models(project_manifest: dict, project_lineage) -> None:
    results, elapsed = project_lineage

    models = [n for n in project_manifest["nodes"].values() if n["resource_type"] == "model"]
    assert len(results) == len(models)
    assert {dataset: r.error for dataset, r in results.items() if r.error} == {}
    assert elapsed < 3, f"{elapsed:.1f}s for {len(results)} models"

    staging = [r for dataset, r in results.items() if dataset.startswith("staging.")]
    assert staging
    for result in staging:
        traced = {e.downstream_column for e in result.edges if e.upstream.startswith("raw.")}
        assert set(result.columns) == traced, f"{result.dataset}: {set(result.columns) - traced} have no raw column"

    balances = results["marts.fct_green_loan_balance_monthly"]
    assert sources(balances, "district_name") == {("staging.stg_public__divisions", "division_name", "IDENTITY")}
    assert ("staging.stg_bank__loans", "balance_yuan", "AGGREGATION") in sources(balances, "green_loan_balance_yuan")


ROW_TESTS = {"not_null", "accepted_values", "expression_is_true"}


def test_staging_views_test_row_by_row_only_what_they_compute(project_manifest: dict, project_lineage) -> None:
    """A row rule on a delivered column belongs to its data contract (data_contracts/README.md): ingestion quarantines
    a row that breaks it, so the same rule as a dbt test on the staging view could never fail, and cost a query and
    a Dagster check every month (286 such tests were moved out, issue 9). A row-level test on a staging view reads a
    column the view computes, not only delivered columns passed through unchanged."""
    import sqlglot
    from sqlglot import expressions as exp

    results, _ = project_lineage
    nodes = project_manifest["nodes"]
    checked, on_delivered_columns = 0, []
    for unique_id, node in nodes.items():
        test = node.get("test_metadata") or {}
        dataset = model_dataset(nodes[node["attached_node"]]) if node.get("attached_node") in nodes else ""
        if test.get("name") not in ROW_TESTS or not dataset.startswith("staging."):
            continue
        edges = results[dataset].edges
        computed = {e.downstream_column for e in edges if e.transformation != "IDENTITY"}
        unchanged = {e.downstream_column for e in edges} - computed
        expression = test["kwargs"].get("expression", "")
        read = {node["column_name"]} if node.get("column_name") else {
            column.name for column in sqlglot.parse_one(expression, read="duckdb").find_all(exp.Column)}
        checked += 1
        if read <= unchanged:
            on_delivered_columns.append(f"{unique_id} reads only {sorted(read)}")
    assert checked, "the tests of what staging computes (grid factors' confidence, industry class codes) are gone"
    assert on_delivered_columns == [], "a rule on delivered columns: write it in the dataset's contract"


def test_the_lineage_is_kept_per_digest_of_the_sql_and_the_known_columns(tmp_path) -> None:
    staging = model("stg_bank__loans", 'select loan_id, cast(balance as decimal(18, 2)) as balance_yuan '
                                       'from "lake"."raw"."bank__loans"')
    mart = model("fct_loans", "select loan_id, sum(balance_yuan) as total from "
                              '"lake"."staging"."stg_bank__loans" group by loan_id', schema="marts",
                 depends_on=("stg_bank__loans",))
    manifest = {"nodes": {f"model.lakehouse.{m['name']}": m for m in (staging, mart)}}
    cache = tmp_path / "column_lineage.json"
    computed = lineage_from_manifest(manifest, RAW)

    assert cached_lineage(manifest, RAW, cache) == computed  # computed, then kept
    assert list(cached_lineage(manifest, RAW, cache)) == list(computed)  # read back, in dependency order
    assert cached_lineage(manifest, RAW, cache) == computed

    kept = json.loads(cache.read_text(encoding="utf-8"))  # what is kept is what is used while the digest matches
    kept["models"]["marts.fct_loans"]["columns"] = ["read_from_the_cache"]
    cache.write_text(json.dumps(kept), encoding="utf-8")
    assert cached_lineage(manifest, RAW, cache)["marts.fct_loans"].columns == ["read_from_the_cache"]

    edited = json.loads(json.dumps(manifest))  # the SQL changed: computed again and kept anew
    edited["nodes"]["model.lakehouse.fct_loans"]["compiled_code"] += " having count(*) > 1"
    assert cached_lineage(edited, RAW, cache) == lineage_from_manifest(edited, RAW)
    assert json.loads(cache.read_text(encoding="utf-8"))["digest"] != kept["digest"]
    assert cached_lineage(edited, {**RAW, "raw.bank__loans": ["loan_id", "balance", "extra"]}, cache) \
        == lineage_from_manifest(edited, {**RAW, "raw.bank__loans": ["loan_id", "balance", "extra"]})

    cache.write_text("{not json", encoding="utf-8")  # a broken file is computed again
    assert cached_lineage(manifest, RAW, cache) == computed
    (tmp_path / "a_file").write_text("")  # a cache that cannot be written (its directory is a file) is skipped
    unwritable = tmp_path / "a_file" / "column_lineage.json"
    assert cached_lineage(manifest, RAW, unwritable) == computed
    assert (tmp_path / "a_file").read_text() == ""

