"""The business glossary, catalog/glossary.yml: one definition and one authoritative dataset per concept (一数一源).

Fast and without a lake: the glossary is checked against the dbt project's own files. A model's dataset is
``<schema>.<model>`` with the schema its folder gets in dbt_project.yml; its columns are the ones its yml documents
plus the ones its SQL selects (staging models document only some of theirs).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlglot
import yaml
from sqlglot import exp

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "catalog" / "glossary.yml"
OWNERS = ROOT / "catalog" / "owners.yml"
DBT_PROJECT = ROOT / "dbt_project"
MODELS = DBT_PROJECT / "models"

DOMAINS = {
    "credit", "green_credit", "deposits_and_insurance", "capital_markets", "enterprise", "carbon", "esg",
    "public_credit", "reference", "local_finance", "plan",
}
REQUIRED = ("concept", "name_zh", "name_en", "definition", "domain", "owner", "authoritative")
OPTIONAL = ("not_from",)
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
CHINESE = re.compile(r"[\u4e00-\u9fff]")

JINJA_STATEMENT = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)
JINJA_CONFIG = re.compile(r"\{\{\s*config\(.*?\)\s*\}\}", re.S)
JINJA_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)
REF = re.compile(r"\{\{\s*ref\(\s*['\"](\w+)['\"]\s*\)\s*\}\}")


@dataclass(frozen=True)
class Model:
    dataset: str
    columns: frozenset[str]
    column_meta: dict[str, dict]
    meta: dict
    refs: frozenset[str]


def output_columns(sql: str) -> list[str]:
    """Names a model's final select returns, following ``select * from <cte>`` to the CTE that names them.

    Empty when the names cannot be known from the SQL alone (``select *`` from a source)."""
    sql = JINJA_STATEMENT.sub("", JINJA_CONFIG.sub("", sql))
    query = sqlglot.parse_one(JINJA_EXPRESSION.sub("jinja_expression", sql), read="duckdb")
    ctes = {cte.alias: cte.this for cte in query.find_all(exp.CTE)}
    while query.is_star:
        if isinstance(query, exp.SetOperation):
            query = query.left
            continue
        source = query.args.get("from_")
        name = source.this.name if source is not None and isinstance(source.this, exp.Table) else None
        if name not in ctes:
            return []
        query = ctes[name]
    return list(query.named_selects)


def _meta(properties: dict) -> dict:
    """dbt reads ``meta`` at the top level or under ``config``; the catalog sees their union."""
    return {**(properties.get("config") or {}).get("meta", {}), **(properties.get("meta") or {})}


def _schemas_by_folder() -> dict[str, str]:
    project = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text(encoding="utf-8"))
    folders = project["models"][project["name"]]
    return {folder: config["+schema"] for folder, config in folders.items() if isinstance(config, dict)}


def _documented_models() -> dict[str, dict]:
    documented = {}
    for path in MODELS.rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            documented[model["name"]] = model
    return documented


def _compiled_sql() -> dict[str, str]:
    """Each model's SQL as dbt compiled it (``make manifest``), where macros leave no Jinja to guess around."""
    manifest = DBT_PROJECT / "target" / "manifest.json"
    if not manifest.exists():
        return {}
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    return {n["name"]: n["compiled_code"] for n in nodes if n["resource_type"] == "model" and n.get("compiled_code")}


@cache
def dbt_models() -> dict[str, Model]:
    """Every model of the dbt project by dataset name (``staging.stg_bank__loans``)."""
    schemas = _schemas_by_folder()
    documented = _documented_models()
    compiled = _compiled_sql()
    models = {}
    for path in sorted(MODELS.rglob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        properties = documented.get(path.stem, {})
        column_meta = {column["name"]: _meta(column) for column in properties.get("columns", [])}
        dataset = f"{schemas[path.relative_to(MODELS).parts[0]]}.{path.stem}"
        models[dataset] = Model(
            dataset=dataset,
            columns=frozenset(output_columns(compiled.get(path.stem, sql))) | frozenset(column_meta),
            column_meta=column_meta,
            meta=_meta(properties),
            refs=frozenset(REF.findall(sql)),
        )
    return models


@cache
def concepts() -> list[dict]:
    return yaml.safe_load(GLOSSARY.read_text(encoding="utf-8"))["concepts"]


def _by_id() -> dict[str, dict]:
    return {concept["concept"]: concept for concept in concepts()}


def _column_problem(dataset: str, column: str) -> str | None:
    model = dbt_models().get(dataset)
    if model is None:
        return f"{dataset} is not a model of the dbt project"
    if column not in model.columns:
        return f"{dataset} has no column {column}"
    return None


def _upstream(model_name: str) -> set[str]:
    """Model names a model reads, directly or through other models (from its ``ref()`` calls)."""
    by_name = {dataset.split(".", 1)[1]: model for dataset, model in dbt_models().items()}
    seen, todo = set(), [model_name]
    while todo:
        current = by_name.get(todo.pop())  # a seed is read by ref() too, and reads nothing
        for parent in (current.refs if current else set()) - seen:
            seen.add(parent)
            todo.append(parent)
    return seen


def _published_columns() -> list[tuple[Model, str, str]]:
    """(model, column, concept) for every model column that declares ``meta.concept``."""
    return [
        (model, column, meta["concept"])
        for model in dbt_models().values()
        for column, meta in model.column_meta.items()
        if "concept" in meta
    ]


def test_output_columns_follow_select_star_to_the_cte_that_names_them():
    sql = """
        {{ config(materialized='table') }}
        with source as (select * from {{ source('bank', 'loans') }}),
        renamed as (
            select bank_code, cast(balance as decimal(18, 2)) as balance_yuan, {{ ratio('a', 'b') }} as share
            from source
            {% if is_incremental() %} where report_month > (select max(report_month) from {{ this }}) {% endif %}
        )
        select * from renamed
    """
    assert output_columns(sql) == ["bank_code", "balance_yuan", "share"]
    assert output_columns("select * from {{ source('bank', 'loans') }}") == []
    assert output_columns("with a as (select x from t) select * from a union all select * from a") == ["x"]


def test_the_project_is_read():
    # A guard for the checks below: a broken reader would make them vacuous.
    models = dbt_models()
    loans = models["staging.stg_bank__loans"]
    assert {"balance_yuan", "is_green", "interest_rate_pct"} <= loans.columns
    assert "stg_bank__loans" in models["marts.fct_green_loan_balance_monthly"].refs
    assert len([dataset for dataset in models if dataset.startswith("staging.")]) >= 29
    assert len(concepts()) >= 50


def test_every_concept_has_its_fields_and_a_unique_snake_case_id():
    problems, seen = [], set()
    for concept in concepts():
        name = concept.get("concept")
        missing = [key for key in REQUIRED if not concept.get(key)]
        unknown = sorted(set(concept) - set(REQUIRED) - set(OPTIONAL))
        if missing or unknown:
            problems.append(f"{name}: missing or empty {missing}, unknown {unknown}")
            continue
        if not SNAKE_CASE.fullmatch(name):
            problems.append(f"{name}: the id is not snake_case")
        if name in seen:
            problems.append(f"{name}: the id is used twice")
        seen.add(name)
        if not CHINESE.search(concept["name_zh"]):
            problems.append(f"{name}: name_zh has no Chinese")
        if concept["domain"] not in DOMAINS:
            problems.append(f"{name}: unknown domain {concept['domain']}")
        authoritative = concept["authoritative"]
        if set(authoritative) != {"dataset", "columns"} or not authoritative["dataset"] or not authoritative["columns"]:
            problems.append(f"{name}: authoritative needs a dataset and a non-empty list of columns")
    assert problems == []


def test_owners_are_teams():
    teams = yaml.safe_load(OWNERS.read_text(encoding="utf-8"))["teams"]
    unknown = [f"{c['concept']}: {c['owner']}" for c in concepts() if c["owner"] not in teams]
    assert unknown == []


def test_authoritative_columns_exist_in_their_dataset():
    problems = []
    for concept in concepts():
        dataset = concept["authoritative"]["dataset"]
        if dataset.split(".", 1)[0] not in {"staging", "intermediate", "marts"}:
            problems.append(f"{concept['concept']}: {dataset} is not a staging, intermediate or mart model")
        for column in concept["authoritative"]["columns"]:
            if problem := _column_problem(dataset, column):
                problems.append(f"{concept['concept']}: {problem}")
    assert problems == []


def test_copies_exist_say_why_and_are_not_the_source_itself():
    problems = []
    for concept in concepts():
        authoritative = concept["authoritative"]
        own = {(authoritative["dataset"], column) for column in authoritative["columns"]}
        for copy in concept.get("not_from") or []:
            where = f"{concept['concept']}: not_from {copy.get('dataset')}.{copy.get('column')}"
            if set(copy) != {"dataset", "column", "reason"} or not all(copy.values()):
                problems.append(f"{where} needs exactly a dataset, a column and a reason")
                continue
            if problem := _column_problem(copy["dataset"], copy["column"]):
                problems.append(f"{where}: {problem}")
            if (copy["dataset"], copy["column"]) in own:
                problems.append(f"{where} is its own authoritative column")
    assert problems == []


def test_no_column_is_the_source_of_two_concepts():
    owner_of, clashes = {}, []
    for concept in concepts():
        for column in concept["authoritative"]["columns"]:
            key = (concept["authoritative"]["dataset"], column)
            if key in owner_of:
                clashes.append(f"{key[0]}.{key[1]}: {owner_of[key]} and {concept['concept']}")
            owner_of[key] = concept["concept"]
    assert clashes == []


def test_every_delivered_dataset_is_the_source_of_some_concept():
    sources = {concept["authoritative"]["dataset"] for concept in concepts()}
    without = sorted(dataset for dataset in dbt_models() if dataset.startswith("staging.") and dataset not in sources)
    assert without == []


def test_published_concepts_are_in_the_glossary_and_read_from_their_source():
    by_id, problems = _by_id(), []
    for model, column, concept_id in _published_columns():
        where = f"{model.dataset}.{column}"
        concept = by_id.get(concept_id)
        if concept is None:
            problems.append(f"{where}: meta.concept {concept_id} is not in the glossary")
            continue
        source = concept["authoritative"]["dataset"]
        if source == model.dataset:
            if column not in concept["authoritative"]["columns"]:
                problems.append(f"{where}: publishes {concept_id}, whose authoritative columns here are others")
        elif source.split(".", 1)[1] not in _upstream(model.dataset.split(".", 1)[1]):
            problems.append(f"{where}: publishes {concept_id} but does not read its source {source}")
    assert problems == []


def test_a_concept_the_lake_computes_is_published_by_its_own_columns():
    published = {(model.dataset, column): concept for model, column, concept in _published_columns()}
    unpublished = [
        f"{concept['concept']}: {concept['authoritative']['dataset']}.{column} has no meta.concept {concept['concept']}"
        for concept in concepts()
        if not concept["authoritative"]["dataset"].startswith("staging.")
        for column in concept["authoritative"]["columns"]
        if published.get((concept["authoritative"]["dataset"], column)) != concept["concept"]
    ]
    assert unpublished == []


def test_concepts_are_declared_on_columns_not_on_models():
    declared_on_models = [dataset for dataset, model in dbt_models().items() if "concepts" in model.meta]
    assert declared_on_models == []


def test_the_green_loan_mart_publishes_its_concepts():
    mart = "marts.fct_green_loan_balance_monthly"
    published = {column: concept for model, column, concept in _published_columns() if model.dataset == mart}
    expected = {
        "district_code": "loan_district",
        "district_name": "administrative_division",
        "total_loan_balance_yuan": "loan_balance",
        "green_loan_balance_yuan": "green_loan_balance",
        "green_share": "green_loan_share",
    }
    assert {column: published.get(column) for column in expected} == expected
