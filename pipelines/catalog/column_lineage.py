"""Column-level lineage of the dbt models, read from their compiled SQL with sqlglot.

Each model's SQL is parsed and qualified once (stars expanded, every column tied to its source) against the
columns of what it reads, then its scopes (CTEs, derived tables, set operations, scalar subqueries) are walked
from the output columns down to the tables, memoising each (scope, column) so shared CTEs are resolved once.
Models are processed in dependency order so a model reading another one knows that model's output columns.

Each edge carries the OpenLineage direct transformation subtype, the strongest along the path
(AGGREGATION > TRANSFORMATION > IDENTITY):

- IDENTITY: the value is the upstream value; renames and casts keep it (a cast changes the type, not the value),
  and so does the key of a ``join … using (k)``, which comes from both sides.
- AGGREGATION: an aggregate function is on the path (``sum``, ``count``, ``max`` …, also used as a window or
  with ``filter``/``within group``); the columns partitioning such a window or filtering such an aggregate too.
- TRANSFORMATION: anything else (``trim``, arithmetic, ``case`` over several columns, ``lag``, ``row_number``
  and ranking functions, the partition/order columns of a non-aggregating window).

Columns used only in ``where``, ``join … on``, ``group by`` or ``order by`` are indirect lineage: no edge.
A column with no upstream column (``count(*)``, a constant) is listed with no edge. Names keep the case DuckDB
gives them (an alias as written, else the upstream column's name), though they are matched case-insensitively.
"""

from __future__ import annotations

import contextlib
import graphlib
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope, find_all_in_scope

from pipelines.whole_file import write_whole

DIALECT = "duckdb"
IDENTITY, TRANSFORMATION, AGGREGATION = "IDENTITY", "TRANSFORMATION", "AGGREGATION"
_STRENGTH = {IDENTITY: 0, TRANSFORMATION: 1, AGGREGATION: 2}

# sqlglot files these window functions under AggFunc, but they pick or rank rows rather than aggregate them.
_NOT_AGGREGATING = (exp.Lag, exp.Lead, exp.FirstValue, exp.LastValue, exp.NthValue,
                    exp.Rank, exp.DenseRank, exp.PercentRank, exp.CumeDist, exp.Ntile)
# Wrappers whose meaning is that of the function they wrap (sum(x) over (…), sum(x) filter (where …)).
_FUNCTION_WRAPPERS = (exp.Window, exp.Filter, exp.WithinGroup, exp.IgnoreNulls, exp.RespectNulls)


@dataclass(frozen=True)
class ColumnEdge:
    downstream: str  # "staging.stg_bank__loans"
    downstream_column: str
    upstream: str  # "raw.bank__loans"
    upstream_column: str
    transformation: str  # IDENTITY | TRANSFORMATION | AGGREGATION (OpenLineage direct subtypes)


@dataclass
class ModelLineage:
    dataset: str  # "<schema>.<name>"
    columns: list[str]  # output columns, in order (stars expanded)
    edges: list[ColumnEdge]
    tables_read: set[str]  # every "<schema>.<table>" the SQL reads, whether via ref/source or typed by hand
    error: str | None = None  # why the SQL could not be analysed (columns are then the documented ones)


def lineage_from_manifest(manifest: dict, known_columns: Mapping[str, Sequence[str]]) -> dict[str, ModelLineage]:
    """For every model node with compiled_code: its output columns and where each comes from.

    ``known_columns`` gives the columns, in order, of the datasets that are not models (``raw.<x>``, seeds).
    The result is keyed by dataset name and ordered so that a model comes after the models it reads.
    """
    models = {uid: node for uid, node in manifest.get("nodes", {}).items() if node.get("resource_type") == "model"}
    columns: dict[str, Sequence[str]] = dict(known_columns)
    result: dict[str, ModelLineage] = {}
    for uid in dependency_order(models):
        node = models[uid]
        if not node.get("compiled_code"):
            continue
        lineage = model_lineage(model_dataset(node), node["compiled_code"], columns,
                                documented_columns=list(node.get("columns") or {}))
        columns[lineage.dataset] = lineage.columns
        result[lineage.dataset] = lineage
    return result


def cached_lineage(manifest: dict, known_columns: Mapping[str, Sequence[str]], cache: Path) -> dict[str, ModelLineage]:
    """``lineage_from_manifest``, kept in ``cache`` under a digest of what it is computed from (each model's compiled
    SQL, dependencies and documented columns, and ``known_columns``): the project's manifest changes when the code
    does, not every run, and parsing every model's SQL took 0.8 s of each catalog build (issue 9). A cache that does
    not match is computed again and replaced; one that cannot be written (a read-only project) is only skipped."""
    models = {uid: [node.get("compiled_code"), node.get("depends_on", {}).get("nodes", []),
                    list(node.get("columns") or {}), model_dataset(node)]
              for uid, node in manifest.get("nodes", {}).items() if node.get("resource_type") == "model"}
    digest = hashlib.sha256(json.dumps([models, known_columns], sort_keys=True, default=list).encode()).hexdigest()
    try:
        kept = json.loads(cache.read_text(encoding="utf-8"))
        if kept["digest"] == digest:
            return {dataset: _lineage_from_json(entry) for dataset, entry in kept["models"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    result = lineage_from_manifest(manifest, known_columns)
    entries = {dataset: {**asdict(lineage), "tables_read": sorted(lineage.tables_read)}
               for dataset, lineage in result.items()}
    with contextlib.suppress(OSError):  # a read-only project: computed each time
        write_whole(cache, json.dumps({"digest": digest, "models": entries}).encode())
    return result


def _lineage_from_json(entry: dict) -> ModelLineage:
    return ModelLineage(entry["dataset"], entry["columns"], [ColumnEdge(**edge) for edge in entry["edges"]],
                        set(entry["tables_read"]), entry["error"])


def model_dataset(node: dict) -> str:
    """``<schema>.<relation>``: the name of the table or view a model node builds."""
    return f"{node['schema']}.{node.get('alias') or node['name']}"


def dependency_order(models: Mapping[str, dict]) -> list[str]:
    """Model ids, each after the models it depends on (sources, seeds and macros are not ordered)."""
    graph = {uid: [dep for dep in node.get("depends_on", {}).get("nodes", []) if dep in models]
             for uid, node in models.items()}
    return list(graphlib.TopologicalSorter(graph).static_order())


def model_lineage(dataset: str, sql: str, known_columns: Mapping[str, Sequence[str]],
                  documented_columns: Sequence[str] = ()) -> ModelLineage:
    """The lineage of one SELECT; never raises: what sqlglot cannot analyse comes back as ``error``."""
    try:
        return _analyse(dataset, sql, known_columns)
    except Exception as error:  # any sqlglot failure must become a reportable catalog entry
        message = f"{type(error).__name__}: {error}".strip()
        return ModelLineage(dataset, list(documented_columns), [], set(), error=message)


def _analyse(dataset: str, sql: str, known_columns: Mapping[str, Sequence[str]]) -> ModelLineage:
    parsed = sqlglot.parse_one(sql, read=DIALECT)
    if not isinstance(parsed, exp.Query):
        raise ValueError(f"not a query: {type(parsed).__name__}")
    _drop_catalogs(parsed)
    _mark_written_coalesces(parsed)
    spellings = _spellings(parsed, known_columns)  # taken before qualify lower-cases every identifier
    schema = _schema_for(parsed, known_columns)
    root = build_scope(qualify(parsed, dialect=DIALECT, schema=schema, validate_qualify_columns=False,
                               identify=False, quote_identifiers=False))
    if root is None:
        raise ValueError("no query scope")
    outputs = root.expression.named_selects
    if "*" in outputs or any(isinstance(s, exp.Star) for s in root.expression.selects):
        unknown = sorted(table for table in _tables_read(root) if table not in known_columns)
        raise ValueError(f"cannot expand * in the output: unknown columns of {', '.join(unknown)}")

    resolver = _Resolver()
    columns = [spellings.get(name, name) for name in outputs]
    edges = []
    for position, column in enumerate(columns):
        for (upstream, upstream_column), kind in resolver.sources(root, position).items():
            original = _column_spelling(known_columns.get(upstream, ()), upstream_column)
            edges.append(ColumnEdge(dataset, column, upstream, original, kind))
    return ModelLineage(dataset, columns, edges, _tables_read(root))


def _drop_catalogs(parsed: exp.Expr) -> None:
    """``"lake"."raw"."x"`` and ``raw.x`` name the same dataset: the lake is the session's default catalog."""
    for table in parsed.find_all(exp.Table):
        table.set("catalog", None)


def _mark_written_coalesces(parsed: exp.Expr) -> None:
    """Tell the model's own coalesces from those qualify writes for ``join … using (k)`` (see _keeps_value)."""
    for coalesce in parsed.find_all(exp.Coalesce):
        coalesce.meta["written"] = True


def _schema_for(parsed: exp.Expr, known_columns: Mapping[str, Sequence[str]]) -> dict:
    """``{schema: {table: {column: type}}}`` for the known datasets this SQL reads (types do not matter)."""
    schema: dict[str, dict[str, dict[str, str]]] = {}
    for table in parsed.find_all(exp.Table):
        name = f"{table.db}.{table.name}"
        if table.db and name in known_columns:
            schema.setdefault(table.db, {})[table.name] = dict.fromkeys(known_columns[name], "UNKNOWN")
    return schema


def _spellings(parsed: exp.Expr, known_columns: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Lower-cased name → the name DuckDB gives the column: an alias as written, else the upstream's name.

    DuckDB matches identifiers case-insensitively but keeps their case in results; sqlglot lower-cases them.
    """
    spellings: dict[str, str] = {}
    for table in parsed.find_all(exp.Table):
        for name in known_columns.get(f"{table.db}.{table.name}", ()):
            spellings.setdefault(name.lower(), name)
    for alias in parsed.find_all(exp.Alias):
        spellings[alias.alias.lower()] = alias.alias
    return spellings


def _column_spelling(columns: Sequence[str], name: str) -> str:
    return next((column for column in columns if column.lower() == name.lower()), name)


def _tables_read(root: Scope) -> set[str]:
    tables = set()
    for scope in root.traverse():
        for source in scope.sources.values():
            if isinstance(source, exp.Table) and source.name:
                tables.add(_table_dataset(source))
    return tables


def _table_dataset(table: exp.Table) -> str:
    return f"{table.db}.{table.name}" if table.db else table.name


Sources = dict[tuple[str, str], str]  # (upstream dataset, upstream column) → strongest transformation


class _Resolver:
    """Where each output column of a scope comes from, memoised per (scope, column)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, str | int], Sources] = {}
        self._in_progress: set[tuple[int, str | int]] = set()

    def sources(self, scope: Scope, column: str | int) -> Sources:
        """``column`` is a name, or a position (set operations match their branches by position)."""
        key = (id(scope), column)
        if key in self._memo:
            return self._memo[key]
        if key in self._in_progress:  # a recursive CTE reading itself: its anchor already gives the sources
            return {}
        self._in_progress.add(key)
        try:
            found = self._resolve(scope, column)
        finally:
            self._in_progress.discard(key)
        self._memo[key] = found
        return found

    def _resolve(self, scope: Scope, column: str | int) -> Sources:
        query = scope.expression
        if isinstance(query, exp.SetOperation):
            position = column if isinstance(column, int) else query.named_selects.index(column)
            return _merged(self.sources(branch, position) for branch in scope.set_operation_scopes)
        if isinstance(query, exp.Subquery):  # a parenthesised query
            return _merged(self.sources(inner, column) for inner in scope.subquery_scopes)
        if not isinstance(query, exp.Select):  # a table function: unnest(t.arr) derives from t.arr
            return _derived(self._column_sources(scope, reference)
                                for reference in find_all_in_scope(query, exp.Column))
        projection = _projection(query, column)
        if projection is None:
            return self._through_star(scope, column)
        found: Sources = {}
        for reference in find_all_in_scope(projection, exp.Column):
            _add(found, self._column_sources(scope, reference), _path_kind(reference, projection))
        subqueries = {id(sub.expression): sub for sub in scope.subquery_scopes}
        for nested in find_all_in_scope(projection, *exp.UNWRAPPED_QUERIES):
            inner = subqueries.get(id(nested))
            if inner is not None and nested is not projection:
                kind = _path_kind(nested, projection)
                for position in range(len(nested.selects)):
                    _add(found, self.sources(inner, position), kind)
        return found

    def _column_sources(self, scope: Scope, reference: exp.Column) -> Sources:
        source = scope.sources.get(reference.table)
        if isinstance(source, Scope):
            return self.sources(source, reference.name)
        if isinstance(source, exp.Table) and source.name:
            return {(_table_dataset(source), reference.name): IDENTITY}
        return {}  # a lambda parameter, an unknown alias or a table function's output

    def _through_star(self, scope: Scope, column: str | int) -> Sources:
        """A star over a source of unknown columns: a named column can only come from its single source."""
        sources = [source for _, source in scope.selected_sources.values()]
        if not isinstance(column, str) or not scope.expression.is_star or len(sources) != 1:
            return {}
        source = sources[0]
        if isinstance(source, Scope):
            return self.sources(source, column)
        return {(_table_dataset(source), column): IDENTITY} if isinstance(source, exp.Table) else {}


def _projection(query: exp.Select, column: str | int) -> exp.Expr | None:
    selects = query.selects
    if isinstance(column, int):
        return selects[column] if column < len(selects) else None
    return next((s for s in selects if s.alias_or_name == column and not isinstance(s, exp.Star)), None)


def _path_kind(node: exp.Expr, projection: exp.Expr) -> str:
    """How the projection's value relates to ``node``'s: the strongest step between them."""
    kind = IDENTITY
    child, parent = node, node.parent
    while child is not projection and parent is not None:
        if _aggregates(parent):
            return AGGREGATION
        if not _keeps_value(parent, child):
            kind = TRANSFORMATION
        child, parent = parent, parent.parent
    return kind


def _aggregates(node: exp.Expr) -> bool:
    while isinstance(node, _FUNCTION_WRAPPERS):
        node = node.this
    return isinstance(node, exp.AggFunc) and not isinstance(node, _NOT_AGGREGATING)


def _keeps_value(parent: exp.Expr, child: exp.Expr) -> bool:
    if isinstance(parent, exp.Cast):  # try_cast and :: too
        return child is parent.this
    if isinstance(parent, exp.Coalesce) and not parent.meta.get("written"):
        return True  # a using-join key: both sides hold the same value
    return isinstance(parent, (exp.Alias, exp.Paren, exp.Subquery))


def _stronger(a: str, b: str) -> str:
    return a if _STRENGTH[a] >= _STRENGTH[b] else b


def _add(found: Sources, sources: Sources, kind: str) -> None:
    """Add ``sources`` reached through a step of ``kind``, keeping the strongest path per upstream column."""
    for key, upstream_kind in sources.items():
        combined = _stronger(kind, upstream_kind)
        found[key] = _stronger(found[key], combined) if key in found else combined


def _merged(parts: Iterable[Sources], kind: str = IDENTITY) -> Sources:
    found: Sources = {}
    for part in parts:
        _add(found, part, kind)
    return found


def _derived(parts: Iterable[Sources]) -> Sources:
    """Merged, each reached through a transformation."""
    return _merged(parts, TRANSFORMATION)

