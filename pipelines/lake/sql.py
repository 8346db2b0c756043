"""Quoting for the SQL we generate: identifiers and literals, never values pasted raw."""

from pipelines.settings import LAKE_ALIAS


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def table_changes(dataset: str, after: int, upto: int) -> str:
    """DuckLake's changes of ``schema.table`` in the snapshots after ``after`` up to ``upto``, as a table
    expression (columns snapshot_id, rowid, change_type and the table's own)."""
    schema, table = dataset.split(".")
    return (f"ducklake_table_changes({literal(LAKE_ALIAS)}, {literal(schema)}, {literal(table)}, "
            f"{after + 1}, {upto})")
