"""The data catalog: built from the project, held to its rules, written to the lake and read back from a terminal."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json

import pytest
import yaml

from pipelines import cli
from pipelines import settings as settings_module
from pipelines.catalog import build
from pipelines.contracts.model import all_contracts
from pipelines.lake.connection import reader, writer

TODAY = dt.date(2026, 11, 28)
MART = "marts.fct_green_loan_balance_monthly"


@pytest.fixture(scope="module")
def asset_graph():
    from pipelines.definitions import defs

    return defs.resolve_asset_graph()


@pytest.fixture(scope="module")
def manifest():
    return build.load_manifest(settings_module.load())


@pytest.fixture(scope="module")
def project(manifest, asset_graph):
    return build.declared_catalog(manifest, asset_graph)


def violations_of(catalog, rule):
    return [str(v) for v in catalog.violations if v.rule == rule]


# ------------------------------------------------------------------------------------------- the project itself

def test_the_project_breaks_no_catalog_rule(project):
    assert not project.errors, "\n".join(map(str, project.errors))


def test_every_dataset_has_an_entry(project, manifest, asset_graph):
    names = set(project.datasets)
    for contract in all_contracts().values():
        assert {f"landing.{contract.name}", contract.raw_table, contract.quarantine_table} <= names
    models = {f"{n['schema']}.{n['name']}" for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert models <= names
    assert {"meta.ingestion_log", "meta.publications", "meta.catalog_datasets", f"published.{MART.split('.')[1]}"} \
        <= names
    assert build.asset_datasets(asset_graph).keys() <= {d.dagster_asset for d in project.datasets.values()}


def upstream_closure(catalog, dataset, column):
    parents = {}
    for e in catalog.edges:
        if e.downstream_column is not None:
            parents.setdefault((e.downstream, e.downstream_column), set()).add((e.upstream, e.upstream_column))
    seen, todo = set(), [(dataset, column)]
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_column_lineage_runs_from_the_mart_back_to_the_delivered_file_column(project):
    origins = upstream_closure(project, MART, "green_loan_balance_yuan")
    assert ("staging.stg_bank__loans", "balance_yuan") in origins
    assert ("raw.bank__loans", "balance") in origins
    assert ("landing.bank_loans", "贷款余额(元)") in origins
    assert ("staging.stg_public__divisions", "division_name") in upstream_closure(project, MART, "district_name")


def test_classification_and_personal_information_follow_the_lineage(project):
    borrower = project.datasets["staging.stg_bank__loans"].column("borrower_id")
    assert (borrower.classification, borrower.personal_information) == ("L3", "C2")
    assert borrower.classification_source == "inherited from raw.bank__loans.borrower_id"
    # a sum over many borrowers keeps the level but is no longer personal information
    total = project.datasets[MART].column("total_loan_balance_yuan")
    assert (total.classification, total.personal_information) == ("L3", None)


def test_glossary_concepts_point_at_their_one_source(project):
    concepts = {c.concept: c for c in project.concepts}
    assert concepts["green_loan_balance"].authoritative_dataset == MART
    assert f"{MART}.green_loan_balance_yuan" in concepts["green_loan_balance"].published_by
    assert "loan_balance" in project.datasets["staging.stg_bank__loans"].concepts


# ------------------------------------------------------------------------------------------- the rules

def model_node(name, layer, sql, *, depends_on=(), columns=None, owner="green-finance-analytics"):
    return {"resource_type": "model", "name": name, "schema": layer, "fqn": ["lakehouse", layer, "x", name],
            "config": {"materialized": "table", "meta": {"owner": owner}}, "description": f"{name} for a test",
            "original_file_path": f"models/{layer}/x/{name}.sql", "compiled_code": sql,
            "depends_on": {"nodes": list(depends_on)}, "columns": columns or {}}


def with_model(manifest, node):
    changed = copy.deepcopy(manifest)
    changed["nodes"][f"model.lakehouse.{node['name']}"] = node
    return changed


def test_a_mart_that_reads_raw_directly_is_named(manifest, asset_graph):
    sql = 'select bank_code, sum(balance) as total from "lake"."raw"."bank__loans" group by bank_code'
    catalog = build.declared_catalog(with_model(manifest, model_node("fct_sneaky", "marts", sql)), asset_graph)
    assert violations_of(catalog, "only_staging_reads_sources") == [
        "[only_staging_reads_sources] marts.fct_sneaky: reads raw.bank__loans directly in its SQL; "
        "only staging models read sources"]


def test_a_mart_that_depends_on_a_source_is_named(manifest, asset_graph):
    source = next(k for k, s in manifest["sources"].items() if s["identifier"] == "bank__loans")
    sql = 'select bank_code from "lake"."raw"."bank__loans"'
    catalog = build.declared_catalog(
        with_model(manifest, model_node("fct_sourced", "marts", sql, depends_on=[source])), asset_graph)
    assert "[only_staging_reads_sources] marts.fct_sourced: reads the source raw.bank__loans; only staging " \
           "models may" in violations_of(catalog, "only_staging_reads_sources")


def test_unclassified_and_underclassified_columns_are_named(manifest, asset_graph):
    loans = next(k for k, n in manifest["nodes"].items() if n["name"] == "stg_bank__loans")
    sql = ('select borrower_id, 1 as one from "lake"."staging"."stg_bank__loans"')
    node = model_node("fct_people", "marts", sql, depends_on=[loans],
                      columns={"borrower_id": {"name": "borrower_id", "meta": {"classification": "L1"}}})
    catalog = build.declared_catalog(with_model(manifest, node), asset_graph)
    found = violations_of(catalog, "classification")
    assert "[classification] marts.fct_people.one: unclassified: declare meta.classification in its yml " \
           "or its source's" in found
    assert any(v.startswith("[classification] marts.fct_people.borrower_id: holds personal information C2 but is "
                            "classified L1; the policy requires at least L3") for v in found), found


def test_a_concept_published_from_a_copy_breaks_one_data_one_source(manifest, asset_graph):
    financials = next(k for k, n in manifest["nodes"].items() if n["name"] == "stg_enterprise__financials")
    sql = 'select enterprise_id, market_cap_yuan from "lake"."staging"."stg_enterprise__financials"'
    node = model_node("fct_market", "marts", sql, depends_on=[financials], columns={
        "market_cap_yuan": {"name": "market_cap_yuan", "meta": {"concept": "market_capitalisation",
                                                                "classification": "L1"}},
        "enterprise_id": {"name": "enterprise_id", "meta": {"classification": "L1"}}})
    catalog = build.declared_catalog(with_model(manifest, node), asset_graph)
    found = violations_of(catalog, "one_data_one_source")
    assert any("marts.fct_market.market_cap_yuan: publishes market_capitalisation but is not derived from its "
               "authoritative dataset staging.stg_enterprise__market_data" in v for v in found), found
    assert any("from staging.stg_enterprise__financials.market_cap_yuan, a copy the glossary rules out" in v
               for v in found), found


def test_an_owner_missing_from_owners_yml_is_named(manifest, asset_graph):
    divisions = next(k for k, n in manifest["nodes"].items() if n["name"] == "stg_public__divisions")
    node = model_node("dim_orphan", "marts", 'select division_code from "lake"."staging"."stg_public__divisions"',
                      depends_on=[divisions], owner="nobody")
    catalog = build.declared_catalog(with_model(manifest, node), asset_graph)
    assert violations_of(catalog, "owner") == ["[owner] marts.dim_orphan: owner 'nobody' is not in catalog/owners.yml"]


def test_a_concept_defined_twice_is_named(manifest, asset_graph, tmp_path):
    glossary = build.collect.read_yaml("glossary.yml")
    loan_balance = next(c for c in glossary["concepts"] if c["concept"] == "loan_balance")
    doubled = tmp_path / "glossary.yml"
    doubled.write_text(yaml.safe_dump({"concepts": [*glossary["concepts"], loan_balance]}, allow_unicode=True),
                       encoding="utf-8")
    catalog = build.declared_catalog(manifest, asset_graph, glossary_path=doubled)
    assert any("concept loan_balance is defined 2 times" in v for v in violations_of(catalog, "glossary"))


# ------------------------------------------------------------------------------------------- in the lake

@pytest.fixture(scope="module")
def loaded(tmp_path_factory, bootstrapped_lake, asset_graph):
    """A lake with three months of two banks' loans loaded and the catalog built (twice)."""
    from conftest import LOCATION_VARS, copy_lake

    from pipelines.demo.bank_loans import generate_bank_loans
    from pipelines.ingest.load import load_partitions

    root = tmp_path_factory.mktemp("catalog")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKEHOUSE_ROOT", str(root))
        for var in LOCATION_VARS:
            mp.delenv(var, raising=False)
        settings = copy_lake(bootstrapped_lake)
        generate_bank_loans(settings.landing, ["2020-01", "2020-02", "2020-03"], n_banks=2, loans_per_bank=60, seed=7)
        load_partitions(all_contracts()["bank_loans"], ["2020-01", "2020-02", "2020-03"], settings, log=lambda m: None)
        first = build.build(settings, asset_graph, today=TODAY, log=lambda m: None)
        with reader(settings) as con:
            first_snapshot = con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone()[0]
        with writer(settings) as con:  # drift: the lake's column no longer has the contract's type
            con.execute("ALTER TABLE raw.bank__loans ALTER COLUMN days_overdue SET DATA TYPE BIGINT")
            con.execute("CREATE TABLE raw.adhoc_extract (x INTEGER)")  # a table no one declared
        second = build.build(settings, asset_graph, today=TODAY, log=lambda m: None)
        yield settings, mp, first, first_snapshot, second


def test_the_catalog_is_in_the_lake_with_counts_freshness_and_quality(loaded):
    settings, *_ = loaded
    with reader(settings) as con:
        rows, freshness, detail, quality, owner = con.execute(
            "SELECT row_count, freshness, freshness_detail, quality, owner FROM meta.catalog_datasets "
            "WHERE dataset = 'raw.bank__loans'").fetchone()
        loaded_rows = con.execute("SELECT count(*) FROM raw.bank__loans").fetchone()[0]
        checks = con.execute("SELECT check_name, status FROM meta.catalog_quality "
                             "WHERE dataset = 'raw.bank__loans'").fetchall()
        flagged = con.execute("SELECT message FROM meta.catalog_violations "
                              "WHERE rule = 'freshness' AND dataset = 'raw.bank__loans'").fetchall()
    assert rows == loaded_rows > 0 and owner == "bank-data"
    assert freshness == "overdue" and detail.startswith("latest period loaded is 2020-03; 2026-10 was due by")
    assert ("ingestion", "passed") in checks and quality == "passed"
    assert flagged == [(detail,)]


def test_schema_drift_names_the_column_and_both_types(loaded):
    *_, first, _, second = loaded
    assert not [v for v in first.violations if v.rule == "schema_drift"]
    assert [str(v) for v in second.violations if v.rule == "schema_drift"] == [
        "[schema_drift] raw.bank__loans.days_overdue: declared INTEGER, the lake has BIGINT"]


def test_a_table_in_the_lake_that_nothing_declares_is_named(loaded):
    *_, first, _, second = loaded
    assert "[catalogued] raw.adhoc_extract: in the lake but in no contract, dbt model or catalog/lake_tables.yml: " \
           "describe it or drop it" in [str(v) for v in second.errors]
    assert not [v for v in first.errors if v.rule == "catalogued"]


def test_what_the_lake_does_not_have_yet_is_said_not_guessed(loaded):
    *_, first, _, _ = loaded
    datasets = first.datasets
    assert datasets["raw.bank__deposits"].freshness == "never loaded"  # only bank_loans was delivered
    assert "[freshness] raw.bank__deposits: no delivery has been loaded" in [str(v) for v in first.violations]
    assert datasets[MART].freshness == "not built" and datasets[MART].row_count is None
    published = datasets[f"published.{MART.split('.')[1]}"]
    assert (published.freshness, published.quality) == ("not published", "not published")


def test_a_manifest_without_compiled_sql_is_refused(tmp_path, monkeypatch, manifest):
    parsed = copy.deepcopy(manifest)
    for node in parsed["nodes"].values():
        node.pop("compiled_code", None)
    (tmp_path / "dbt_project" / "target").mkdir(parents=True)
    (tmp_path / "dbt_project" / "target" / "manifest.json").write_text(json.dumps(parsed), encoding="utf-8")
    settings = settings_module.load()
    with pytest.raises(ValueError, match=r"has no compiled SQL .* run `make manifest`"):
        build.load_manifest(dataclasses.replace(settings, dbt_project_dir=tmp_path / "dbt_project"))


def test_dbt_test_results_name_the_tested_model_and_keep_warnings_apart():
    from pipelines.quality.dbt_results import test_rows

    nodes = {
        "model.p.m": {"resource_type": "model", "schema": "marts", "name": "m"},
        "model.p.s": {"resource_type": "model", "schema": "staging", "name": "s"},
        "test.p.t1": {"resource_type": "test", "name": "t1", "attached_node": "model.p.m"},
        "test.p.t2": {"resource_type": "test", "name": "t2", "depends_on": {"nodes": ["model.p.m", "model.p.s"]}},
    }
    results = {"results": [
        {"unique_id": "test.p.t1", "status": "fail", "failures": 3, "message": "Got 3 results"},
        {"unique_id": "test.p.t2", "status": "warn", "failures": 1, "message": "Got 1 result"},
        {"unique_id": "model.p.m", "status": "success"},
    ]}
    assert test_rows(results, {"nodes": nodes}) == [
        ("marts.m", "dbt_test:t1", False, 1, 3, "fail: Got 3 results"),
        ("marts.m", "dbt_test:t2", True, 1, 1, "warn: Got 1 result"),
        ("staging.s", "dbt_test:t2", True, 1, 1, "warn: Got 1 result"),
    ]


def test_each_snapshot_keeps_the_catalog_as_it_was(loaded):
    settings, _, _, first_snapshot, _ = loaded
    with reader(settings) as con:
        before = con.execute(f"SELECT count(*) FROM meta.catalog_violations AT (VERSION => {first_snapshot}) "
                             "WHERE rule = 'schema_drift'").fetchone()[0]
        now = con.execute("SELECT count(*) FROM meta.catalog_violations WHERE rule = 'schema_drift'").fetchone()[0]
    assert (before, now) == (0, 1)


def test_cli_search_finds_datasets_columns_and_concepts_in_chinese_and_english(loaded, capsys):
    assert cli.main(["catalog", "search", "贷款余额"]) == 0
    out = capsys.readouterr().out
    assert "loan_balance" in out and "landing.bank_loans.贷款余额(元)" in out
    assert cli.main(["catalog", "search", "green", "loan", "share"]) == 0
    assert "green_loan_share" in capsys.readouterr().out
    assert cli.main(["catalog", "search", "no-such-thing-anywhere"]) == 1


def test_cli_show_prints_the_whole_entry(loaded, capsys):
    assert cli.main(["catalog", "show", "raw.bank__loans"]) == 0
    out = capsys.readouterr().out
    for expected in ("owner             bank-data", "contract          bank_loans", "borrower_id", "C2",
                     "landing.bank_loans.贷款余额(元) (identity)", "freshness         overdue", "ingestion"):
        assert expected in out, expected
    assert cli.main(["catalog", "show", "raw.bank_loans"]) == 1
    assert "did you mean raw.bank__loans" in capsys.readouterr().err


def test_cli_lineage_walks_from_the_mart_to_the_file_and_back(loaded, capsys):
    assert cli.main(["catalog", "lineage", f"{MART}.green_loan_balance_yuan"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{MART}.green_loan_balance_yuan"
    assert "         landing.bank_loans.贷款余额(元)  ← identity" in lines
    assert cli.main(["catalog", "lineage", "landing.bank_loans.贷款余额(元)", "--downstream"]) == 0
    assert f"{MART}.green_loan_balance_yuan" in capsys.readouterr().out
    assert cli.main(["catalog", "lineage", f"{MART}.nope"]) == 1


def test_make_catalog_site_writes_pages_for_every_dataset(loaded, tmp_path, capsys):
    settings, *_ = loaded
    assert cli.main(["catalog", "site", "--out", str(tmp_path / "site")]) == 0
    pages = {p.name for p in (tmp_path / "site" / "datasets").iterdir()}
    with reader(settings) as con:
        datasets = [r[0] for r in con.execute("SELECT dataset FROM meta.catalog_datasets").fetchall()]
    assert {f"{d}.html" for d in datasets} <= pages
