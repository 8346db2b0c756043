"""Reading the catalog back: search, one dataset's entry, a column's lineage (``lakehouse catalog …``)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.lake.connection import retry_transient


class NotInCatalog(LookupError):
    pass


def catalog_built(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        return con.execute("SELECT count(*) FROM meta.catalog_datasets").fetchone()[0] > 0
    except duckdb.CatalogException:
        return False


SEARCH_SQL = """
    WITH hits (kind, name, detail, haystack, rank) AS (
        SELECT 'dataset', dataset, description, concat_ws(' ', dataset, description, owner, domain), 0
        FROM meta.catalog_datasets
        UNION ALL
        SELECT 'column', dataset || '.' || column_name, description,
               concat_ws(' ', column_name, description, concept), 1
        FROM meta.catalog_columns
        UNION ALL
        SELECT 'concept', concept, name_zh || ' / ' || name_en || ' → ' || authoritative_dataset,
               concat_ws(' ', concept, name_zh, name_en, definition), 0
        FROM meta.catalog_glossary
    )
    SELECT kind, name, detail FROM hits
    WHERE list_bool_and(list_transform(?, t -> contains(lower(haystack), t)))
    ORDER BY NOT contains(lower(name), ?[1]), rank, kind, name"""


def search(con: duckdb.DuckDBPyConnection, term: str) -> list[tuple[str, str, str]]:
    """Datasets, columns and glossary concepts whose names or descriptions contain every word of ``term``
    (any case; Chinese or English); name matches first."""
    words = [w.lower() for w in term.split()]
    if not words:
        return []
    return retry_transient(lambda: con.execute(SEARCH_SQL, [words, words]).fetchall())


@dataclass
class Entry:
    fields: dict[str, object]
    columns: list[tuple]
    column_names: list[str]
    upstream_columns: dict[str, list[str]]
    quality: list[tuple]
    violations: list[tuple]
    glossary: list[tuple]


def show(con: duckdb.DuckDBPyConnection, dataset: str) -> Entry:
    cursor = con.execute("SELECT * FROM meta.catalog_datasets WHERE dataset = ?", [dataset])
    row = cursor.fetchone()
    if row is None:
        near = [r[0] for r in con.execute(
            "SELECT dataset FROM meta.catalog_datasets ORDER BY jaro_winkler_similarity(dataset, ?) DESC LIMIT 3",
            [dataset]).fetchall()]
        raise NotInCatalog(f"{dataset} is not in the catalog; did you mean {', '.join(near)}?")
    fields = dict(zip([d[0] for d in cursor.description], row, strict=True))
    cursor = con.execute("""
        SELECT column_name, data_type, declared_type, classification, personal_information, concept, description
        FROM meta.catalog_columns WHERE dataset = ? ORDER BY ordinal""", [dataset])
    columns = cursor.fetchall()
    upstream: dict[str, list[str]] = {}
    for column, source in con.execute("""
            SELECT downstream_column, upstream || '.' || upstream_column || ' (' || lower(transformation) || ')'
            FROM meta.catalog_lineage WHERE downstream = ? AND downstream_column IS NOT NULL
            ORDER BY ALL""", [dataset]).fetchall():
        upstream.setdefault(column, []).append(source)
    quality = con.execute("""
        SELECT check_kind, check_name, status, failures, evaluated_at FROM meta.catalog_quality
        WHERE dataset = ? ORDER BY status = 'passed', check_kind, check_name""", [dataset]).fetchall()
    violations = con.execute("""
        SELECT severity, rule, column_name, message FROM meta.catalog_violations WHERE dataset = ?
        ORDER BY severity, rule, column_name""", [dataset]).fetchall()
    glossary = con.execute("""
        SELECT concept, name_zh, name_en, definition FROM meta.catalog_glossary
        WHERE authoritative_dataset = ? ORDER BY concept""", [dataset]).fetchall()
    return Entry(fields, columns, [d[0] for d in cursor.description], upstream, quality, violations, glossary)


LINEAGE_SQL = """
    WITH RECURSIVE walk (dataset, column_name, depth, transformation, path) AS (
        SELECT ?, ?, 0, NULL::VARCHAR, [?]
        UNION ALL
        SELECT {next_dataset}, {next_column}, w.depth + 1, l.transformation,
               list_append(w.path, {next_dataset} || '.' || {next_column})
        FROM walk w JOIN meta.catalog_lineage l
          ON {this_dataset} = w.dataset AND {this_column} = w.column_name
        WHERE w.depth < ? AND NOT list_contains(w.path, {next_dataset} || '.' || {next_column})
    )
    SELECT depth, dataset, column_name, transformation, path FROM walk ORDER BY path"""


def lineage(con: duckdb.DuckDBPyConnection, target: str, downstream: bool = False,
            max_depth: int = 20) -> list[tuple[int, str, str, str | None]]:
    """The column's lineage as (depth, dataset, column, transformation) in tree order: upstream to the delivered
    files' columns, or downstream to every column computed from it."""
    schema, _, rest = target.partition(".")  # datasets are <schema>.<table>; a file's column may contain dots
    table, _, column = rest.partition(".")
    dataset = f"{schema}.{table}"
    known = con.execute("SELECT count(*) FROM meta.catalog_columns WHERE dataset = ? AND column_name = ?",
                        [dataset, column]).fetchone()[0]
    if not (schema and table and column and known):
        raise NotInCatalog(f"{target} is not a column in the catalog (give DATASET.COLUMN, e.g. "
                           "marts.fct_green_loan_balance_monthly.green_loan_balance_yuan)")
    this, other = ("upstream", "downstream") if downstream else ("downstream", "upstream")
    sql = LINEAGE_SQL.format(this_dataset=f"l.{this}", this_column=f"l.{this}_column",
                             next_dataset=f"l.{other}", next_column=f"l.{other}_column")
    rows = con.execute(sql, [dataset, column, target, max_depth]).fetchall()
    return [(depth, d, c, t) for depth, d, c, t, _ in rows]
