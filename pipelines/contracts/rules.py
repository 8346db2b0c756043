"""Turn a contract into SQL: typed columns from the delivered strings, and every rule a row breaks.

The input relation has one VARCHAR column per delivered header (trimmed by the reader) plus ``_source_file`` and
``_source_row``.
The output has the contract's typed columns, ``_violations`` (a list of {column, rule, value, severity}
structs, empty for a row that meets the contract), ``_raw_record`` (the delivered strings as JSON, for
rows that break a rule) and ``_quarantined`` (a rule of severity error is broken).
"""

from __future__ import annotations

import re

from pipelines.contracts.model import Column, Contract
from pipelines.lake.sql import literal, quote

# GB 32100-2015 unified social credit code: 17 characters weighted by 3^i mod 31, then a check character.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
# The weighted sum is written out term by term: a list lambda over range(17) cost more than every other
# check of a 1.2-million-row month together.
_USCC_SUM = " + ".join(f"(instr('{USCC_ALPHABET}', substr(code, {i + 1}, 1)) - 1) * {w}"
                       for i, w in enumerate(USCC_WEIGHTS))
# A CASE, not an AND: DuckDB computes both sides of an AND for every row (a null code takes the ELSE and stays
# null, as before: `required` is the rule for a missing value), and a rule such as
# `borrower_type NOT IN (…) OR uscc_is_valid(borrower_id)` passes every individual's masked ID number here too
# (the sum for 1.35 M loans: 0.65 s of a month's 3 s check, issue 9).
MACROS = [
    f"""CREATE OR REPLACE TEMP MACRO uscc_is_valid(code) AS (
        CASE WHEN NOT regexp_full_match(code, '[{USCC_ALPHABET}]{{18}}') THEN FALSE
             ELSE substr('{USCC_ALPHABET}', CAST((31 - ({_USCC_SUM}) % 31) % 31 + 1 AS BIGINT), 1) = substr(code, 18, 1)
             END)""",
]


DEFAULT_FORMATS = {"date": "%Y-%m-%d", "timestamp": "%Y-%m-%d %H:%M:%S"}


def _decimal_scale(physical_type: str) -> int | None:
    match = re.fullmatch(r"DECIMAL\(\s*\d+\s*,\s*(\d+)\s*\)", physical_type.upper())
    return int(match.group(1)) if match else None


def typed_expr(column: Column, raw: str, contract: Contract) -> str:
    kind = column.logical_type
    if kind == "string":
        return raw
    if kind in ("date", "timestamp"):
        fmt = column.options.get("format", DEFAULT_FORMATS[kind])
        return f"CAST(try_strptime({raw}, {literal(fmt)}) AS {column.physical_type})"
    if kind == "boolean":
        values = contract.boolean_values
        true_list = ", ".join(map(literal, values[True]))
        false_list = ", ".join(map(literal, values[False]))
        return f"CASE WHEN {raw} IN ({true_list}) THEN TRUE WHEN {raw} IN ({false_list}) THEN FALSE END"
    if kind in ("integer", "number"):
        return f"TRY_CAST({raw} AS {column.physical_type})"
    raise ValueError(f"{contract.path.name}: {column.name}: logical type {kind!r} is not supported yet")


def value_literal(column: Column, value: object) -> str:
    """A value written in the contract (a bound, a partition key) as SQL of the column's type."""
    return written_as(column, literal(value))


def written_as(column: Column, text_sql: str) -> str:
    """SQL giving ``text_sql`` (a string written the way the contract writes the column) in the column's type."""
    if column.logical_type in ("date", "timestamp"):
        fmt = column.options.get("format", DEFAULT_FORMATS[column.logical_type])
        return f"CAST(strptime({text_sql}, {literal(fmt)}) AS {column.physical_type})"
    return f"CAST({text_sql} AS {column.physical_type})"


def column_checks(column: Column, raw: str, typed: str) -> list[tuple[str, str]]:
    """(rule, SQL that is true when the value breaks it) for one column."""
    checks = []
    if column.required:
        checks.append(("required", f"{raw} IS NULL"))
    checks.append((f"type:{column.physical_type}", f"{raw} IS NOT NULL AND {typed} IS NULL"))
    scale = _decimal_scale(column.physical_type)
    if scale is not None:
        # A cast would round silently: more decimals than the column keeps is an error, not a rounding.
        decimals = f"length(regexp_extract({raw}, '\\.([0-9]*)$', 1))"
        checks.append((f"scale:{scale}", f"{raw} IS NOT NULL AND {decimals} > {scale}"))
    if "pattern" in column.options:
        checks.append(("pattern", f"NOT regexp_matches({typed}, {literal(column.options['pattern'])})"))
    if column.valid_values is not None:
        values = ", ".join(map(literal, column.valid_values))
        checks.append(("validValues", f"{typed} NOT IN ({values})"))
    if "minimum" in column.options:
        checks.append(("minimum", f"{typed} < {value_literal(column, column.options['minimum'])}"))
    if "maximum" in column.options:
        checks.append(("maximum", f"{typed} > {value_literal(column, column.options['maximum'])}"))
    return checks


# Columns the loader adds to the delivered rows, carried through the checks unchanged.
CARRIED = "_partition_key, _source_file, _source_row, _extra_columns"
VIOLATION = "STRUCT(\"column\" VARCHAR, rule VARCHAR, value VARCHAR, severity VARCHAR)"


def validation_sql(contract: Contract, source: str) -> str:
    """A query over ``source`` (delivered strings) giving typed columns, raw strings and violations.

    ``source`` carries each row's ``_partition_key`` (the partition its file was delivered for), so the
    partitions a load commits together are validated in one query: planning this query costs ~70 ms, more
    than checking a small partition's rows. A row must belong to its partition, and a primary key is
    unique within it.

    ``_violations`` lists every rule the row breaks, each with its severity; ``_quarantined`` is true when
    one of them is an error (a row with warnings only is loaded, and its warnings are kept).
    """
    raw_cols, typed_cols = [], []
    broken = []  # (SQL true when a rule is broken, column, rule, raw value, severity)
    for column in contract.columns:
        raw = f"_raw__{column.name}"
        # the readers trimmed every value (pipelines.ingest.readers): an empty one is a missing one
        raw_cols.append(f"NULLIF({quote(column.source_name)}, '') AS {quote(raw)}")
        typed_cols.append(f"{typed_expr(column, quote(raw), contract)} AS {quote(column.name)}")
        for rule, condition in column_checks(column, quote(raw), quote(column.name)):
            broken.append((f"coalesce({condition}, FALSE)", literal(column.name), literal(rule), quote(raw), "error"))
    part = contract.partition_column
    if part is not None:
        broken.append((
            f"({quote(part.name)} IS NOT NULL AND {quote(part.name)} <> {written_as(part, '_partition_key')})",
            literal(part.name), "'partition:' || _partition_key", quote(f"_raw__{part.name}"), "error"))
    for rule in contract.row_rules:
        broken.append((f"NOT coalesce(({rule.predicate}), TRUE)", "NULL", literal(rule.name), "NULL", rule.severity))
    keyed = "SELECT *, FALSE AS _duplicate_key FROM typed"
    if contract.primary_key:
        keys = ", ".join(map(quote, contract.primary_key))
        # Duplicated keys found by an aggregate and joined back: much cheaper than a window over every row.
        same = " AND ".join(f"typed.{k} IS NOT DISTINCT FROM dup.{k}"
                            for k in ["_partition_key", *map(quote, contract.primary_key)])
        keyed = (f"SELECT typed.*, dup._n IS NOT NULL AS _duplicate_key FROM typed LEFT JOIN "
                 f"(SELECT _partition_key, {keys}, count(*) AS _n FROM typed GROUP BY ALL HAVING count(*) > 1) AS dup "
                 f"ON {same}")
        broken.append(("_duplicate_key", literal(", ".join(contract.primary_key)), "'primaryKey'",
                       f"concat_ws('|', {keys})", "error"))
    # `typed` is read twice (the rows, and their keys for the duplicate check): NOT MATERIALIZED has the key side
    # compute the key columns again instead of DuckDB storing every typed row first (0.3 s of a loan month's 1.9 s).
    # The list of violations is built only for rows that break something: most rows are good, and
    # building a list of every rule for every row would cost more than the checks themselves.
    any_broken = " OR ".join(condition for condition, *_ in broken)
    listed = ", ".join(
        f"CASE WHEN {condition} THEN {{'column': {column}, 'rule': {rule}, 'value': {value}, "
        f"'severity': {literal(severity)}}}::{VIOLATION} END"
        for condition, column, rule, value, severity in broken)
    all_raw = ", ".join(quote(f"_raw__{c.name}") for c in contract.columns)
    all_typed = ", ".join(quote(c.name) for c in contract.columns)
    # The delivered record, as JSON keyed by the file's headers, only for rows that break a rule: it is
    # what quarantine keeps, and carrying every raw string of every good row would double the work.
    raw_record = ", ".join(f"{literal(c.source_name)}: {quote('_raw__' + c.name)}" for c in contract.columns)
    return f"""
        WITH delivered AS NOT MATERIALIZED (
            SELECT {CARRIED}, {', '.join(raw_cols)} FROM {source}
        ), typed AS NOT MATERIALIZED (
            SELECT {CARRIED}, {all_raw}, {', '.join(typed_cols)} FROM delivered
        ), keyed AS (
            {keyed}
        ), checked AS (
            SELECT {CARRIED}, {all_typed}, {all_raw},
                   CASE WHEN {any_broken} THEN list_filter([{listed}], v -> v IS NOT NULL)
                        ELSE []::{VIOLATION}[] END AS _violations
            FROM keyed
        )
        SELECT {CARRIED}, {all_typed}, _violations,
               CASE WHEN len(_violations) > 0 THEN to_json({{{raw_record}}})::VARCHAR END AS _raw_record,
               len(_violations) > 0 AND list_bool_or([v.severity = 'error' FOR v IN _violations]) AS _quarantined
        FROM checked
    """
