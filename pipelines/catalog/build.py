"""Build the catalog and write it to the lake's ``meta.catalog_*`` tables.

``declared_catalog`` needs no lake: it reads the contracts, the dbt manifest (compiled at build time, so it
carries every model's SQL for column lineage), the asset graph and ``catalog/*.yml``, and applies the rules
that hold for the project's code (ownership, classification, glossary, only staging reads sources).
``observe`` adds what the lake says (physical schema, rows, snapshots, freshness, quality) and the rules
that need it (drift, freshness). ``write`` replaces the tables in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.catalog import collect, derive, lake_state, rules
from pipelines.catalog.column_lineage import cached_lineage
from pipelines.catalog.entries import LAYERS, Catalog, Violation
from pipelines.catalog.tables import TABLES
from pipelines.contracts.model import Contract, all_contracts
from pipelines.ingest.load import LINEAGE_COLUMNS
from pipelines.lake.connection import current_snapshot, reader, writer
from pipelines.settings import LAKE_ALIAS, PROJECT_ROOT, Settings

CATALOG_ASSET = "meta/catalog"  # the Dagster asset that writes the meta.catalog_* tables
# the models' column lineage, kept beside the manifest it is computed from (see cached_lineage)
LINEAGE_CACHE = PROJECT_ROOT / "dbt_project" / "target" / "column_lineage.json"


def manifest_path(settings: Settings) -> Path:
    return settings.dbt_project_dir / "target" / "manifest.json"


def load_manifest(settings: Settings) -> dict[str, Any]:
    path = manifest_path(settings)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make manifest` (dbt compile)")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not any(n.get("compiled_code") for n in manifest["nodes"].values() if n["resource_type"] == "model"):
        raise ValueError(f"{path} has no compiled SQL (a `dbt parse` or a dbt run replaced it): run `make manifest`")
    return manifest


def ddl_columns(ddl: str) -> dict[str, str]:
    """Column -> type of a ``name TYPE [NOT NULL], …`` list (commas inside parentheses belong to the type)."""
    columns = {}
    for part in re.split(r",(?![^()]*\))", ddl):
        name, _, type_ = part.strip().partition(" ")
        columns[name] = re.sub(r"\s+NOT NULL$", "", type_.strip())
    return columns


def asset_datasets(asset_graph) -> dict[str, str]:
    """Dagster asset key -> the dataset it materialises (``raw/bank__loans`` -> ``raw.bank__loans``)."""
    found = {}
    for node in asset_graph.asset_nodes:
        path = node.key.path
        if len(path) == 2 and node.key.to_user_string() != CATALOG_ASSET:
            found[node.key.to_user_string()] = ".".join(path)
    return found


def published_marts(asset_graph) -> dict[str, str]:
    """published.<mart> -> the mart it publishes, from the publication assets' dependencies."""
    found = {}
    for node in asset_graph.asset_nodes:
        if node.key.path[0] == "published":
            [parent] = [k for k in node.parent_keys if k.path[0] != "published"]
            found[".".join(node.key.path)] = ".".join(parent.path)
    return found


def _link(catalog: Catalog) -> None:
    """Upstream and downstream dataset lists, authoritative concepts, and who publishes each concept."""
    up, down = defaultdict(set), defaultdict(set)
    for e in catalog.edges:
        if e.transformation == "TABLE":
            up[e.downstream].add(e.upstream)
            down[e.upstream].add(e.downstream)
    for name, entry in catalog.datasets.items():
        entry.upstream, entry.downstream = sorted(up[name]), sorted(down[name])
        entry.concepts = sorted(c.concept for c in catalog.concepts if c.authoritative_dataset == name)
    for concept in catalog.concepts:
        source = catalog.datasets.get(concept.authoritative_dataset)
        for column in concept.authoritative_columns:
            found = source.column(column) if source else None
            if found is not None and found.concept is None:
                found.concept = concept.concept
        concept.published_by = sorted(
            f"{e.dataset}.{c.name}" for e in catalog.datasets.values() if e.layer in ("marts", "published")
            for c in e.columns if c.concept == concept.concept)


def declared_catalog(manifest: dict[str, Any], asset_graph=None, contracts: Iterable[Contract] | None = None,
                     glossary_path: Path | None = None) -> Catalog:
    contracts = list(contracts if contracts is not None else all_contracts().values())
    platform = collect.read_yaml("lake_tables.yml")
    datasets, edges = collect.contract_datasets(contracts, platform)
    known = {c.raw_table: [col.name for col in c.columns] + list(LINEAGE_COLUMNS) for c in contracts}
    seeds = collect.seed_columns(manifest, PROJECT_ROOT / "dbt_project")
    dbt_entries, dbt_edges, violations = collect.dbt_datasets(
        manifest, cached_lineage(manifest, {**known, **seeds}, LINEAGE_CACHE), seeds)
    from pipelines.lake.meta import TABLES as META_TABLES  # the meta schema's own DDL

    ddl = {f"meta.{name}": ddl_columns(columns) for name, columns in META_TABLES.items()}
    datasets += dbt_entries + collect.platform_datasets(platform, ddl)
    edges += dbt_edges
    by_name = {d.dataset: d for d in datasets}
    assets = asset_datasets(asset_graph) if asset_graph is not None else {}
    if asset_graph is not None:
        published, published_edges = collect.published_datasets(published_marts(asset_graph), by_name)
        by_name.update({d.dataset: d for d in published})
        edges += published_edges
    for key, name in assets.items():
        if name in by_name:
            by_name[name].dagster_asset = key
    for name, entry in by_name.items():
        if name.startswith("meta.catalog_"):
            entry.dagster_asset = CATALOG_ASSET
    order = {layer: i for i, layer in enumerate(LAYERS)}
    catalog = Catalog(dict(sorted(by_name.items(), key=lambda kv: (order.get(kv[1].layer, 99), kv[0]))), edges,
                      collect.load_glossary(glossary_path))
    derive.inherit(catalog.datasets, catalog.edges)
    _link(catalog)
    teams = collect.read_yaml("owners.yml")["teams"]
    policy = collect.read_yaml("classification_policy.yml")
    catalog.violations = violations + rules.ownership(catalog, teams, policy) + rules.glossary(catalog, teams) + \
        rules.assets_catalogued(catalog, assets)
    return catalog


def observe(catalog: Catalog, con: duckdb.DuckDBPyConnection, settings: Settings, today: dt.date,
            log: Callable[[str], None] = print) -> None:
    physical = lake_state.physical_columns(con)
    for name, entry in catalog.datasets.items():
        if name in physical:
            lake_state.apply_physical(entry, physical[name], settings)
    catalog.violations += [Violation("catalogued", name, None, "in the lake but in no contract, dbt model or "
                                     "catalog/lake_tables.yml: describe it or drop it")
                           for name in sorted(physical.keys() - catalog.datasets.keys())]
    lake_state.apply_counts(con, catalog.datasets, log)
    lake_state.apply_publications(con, catalog.datasets)
    loads = lake_state.latest_loads(con)
    contracts = {c.name: c for c in all_contracts().values()}
    for entry in catalog.datasets.values():
        contract = contracts.get(entry.contract or "")
        if contract is None:
            continue
        load = loads.get(contract.name)
        if entry.layer in ("raw", "landing"):
            entry.last_loaded_at = load[1] if load else None
        if entry.layer == "raw":
            entry.freshness, entry.freshness_detail = lake_state.freshness(contract, load, today)
            catalog.quality += lake_state.contract_checks(con, contract, load)
    catalog.quality += lake_state.recorded_checks(con)
    _derived_freshness(catalog)
    _quality_status(catalog)
    catalog.violations += rules.drift(catalog) + rules.freshness(catalog)


def _derived_freshness(catalog: Catalog) -> None:
    """A derived table built before its inputs' latest load is stale; one fed by overdue deliveries says which."""
    overdue_roots: dict[str, set[str]] = {}
    for name in derive.dataset_order(catalog.datasets, catalog.edges):
        entry = catalog.datasets[name]
        inputs = [catalog.datasets[u] for u in entry.upstream if u in catalog.datasets]
        overdue_roots[name] = {name} if entry.freshness == "overdue" else set().union(
            *(overdue_roots.get(i.dataset, set()) for i in inputs))
        if entry.layer in ("landing", "quarantine", "meta"):  # written by the load itself, or bookkeeping
            entry.freshness = entry.freshness or "not applicable"
        if entry.freshness:
            continue
        if entry.kind == "publication" and entry.snapshot_id is None:
            entry.freshness, entry.freshness_detail = "not published", "no version has passed its checks yet"
            continue
        if entry.kind in ("table", "view") and entry.snapshot_id is None:
            entry.freshness, entry.freshness_detail = "not built", "not in the lake: run the transform"
            continue
        loaded = [i.last_loaded_at for i in inputs if i.last_loaded_at]
        entry.last_loaded_at = max(loaded) if loaded else None
        if entry.kind == "table" and entry.snapshot_time and entry.last_loaded_at \
                and entry.snapshot_time < entry.last_loaded_at:
            entry.freshness = "stale"
            entry.freshness_detail = (f"built {entry.snapshot_time}, before its inputs' latest load "
                                      f"{entry.last_loaded_at}: rebuild it")
        elif overdue_roots[name]:
            entry.freshness = "overdue"
            entry.freshness_detail = "fed by overdue deliveries: " + ", ".join(sorted(overdue_roots[name]))
        else:
            entry.freshness = "fresh" if inputs else "not applicable"


def _quality_status(catalog: Catalog) -> None:
    statuses = defaultdict(set)
    for result in catalog.quality:
        statuses[result.dataset].add(result.status)
    for name, entry in catalog.datasets.items():
        if entry.layer == "published":  # only a version whose checks passed is ever published
            entry.quality = "passed" if entry.snapshot_id is not None else "not published"
            continue
        found = statuses.get(name, set())
        entry.quality = next((s for s in ("failed", "warned", "passed") if s in found), "not checked")


def _rows(catalog: Catalog, built_at: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    datasets = [{
        "dataset": e.dataset, "fqn": f"{LAKE_ALIAS}.{e.dataset}" if e.layer not in ("landing", "published")
        else e.location, "layer": e.layer, "kind": e.kind, "description": e.description, "owner": e.owner,
        "domain": e.domain, "location": e.location, "format": e.format, "source_system": e.source_system,
        "contract": e.contract, "contract_version": e.contract_version, "dagster_asset": e.dagster_asset,
        "concepts": e.concepts, "upstream": e.upstream, "downstream": e.downstream, "row_count": e.row_count,
        "snapshot_id": e.snapshot_id, "snapshot_time": e.snapshot_time, "sla": e.sla,
        "last_loaded_at": e.last_loaded_at, "freshness": e.freshness, "freshness_detail": e.freshness_detail,
        "quality": e.quality, "built_at": built_at} for e in catalog.datasets.values()]
    columns = [{
        "dataset": e.dataset, "column_name": c.name, "ordinal": i, "data_type": c.data_type,
        "declared_type": c.declared_type, "description": c.description, "classification": c.classification,
        "personal_information": c.personal_information, "classification_source": c.classification_source,
        "concept": c.concept} for e in catalog.datasets.values() for i, c in enumerate(e.columns, 1)]
    lineage = [{"downstream": e.downstream, "downstream_column": e.downstream_column, "upstream": e.upstream,
                "upstream_column": e.upstream_column, "transformation": e.transformation, "via": e.via}
               for e in sorted(set(catalog.edges), key=lambda e: (e.downstream, e.downstream_column or "",
                                                                  e.upstream, e.upstream_column or ""))]
    glossary = [{
        "concept": c.concept, "name_zh": c.name_zh, "name_en": c.name_en, "definition": c.definition,
        "domain": c.domain, "authoritative_dataset": c.authoritative_dataset,
        "authoritative_columns": c.authoritative_columns, "published_by": c.published_by,
        "not_from": [f"{x.dataset}.{x.column}" if x.column else x.dataset for x in c.not_from]}
        for c in catalog.concepts]
    quality = [{"dataset": q.dataset, "check_kind": q.check_kind, "check_name": q.check_name, "status": q.status,
                "failures": q.failures, "details": q.details, "evaluated_at": q.evaluated_at} for q in catalog.quality]
    violations = [{"rule": v.rule, "severity": v.severity, "dataset": v.dataset, "column_name": v.column,
                   "message": v.message} for v in catalog.violations]
    return {"catalog_datasets": datasets, "catalog_columns": columns, "catalog_lineage": lineage,
            "catalog_glossary": glossary, "catalog_quality": quality, "catalog_violations": violations}


def write(catalog: Catalog, settings: Settings, log: Callable[[str], None] = print) -> int:
    """Replace the catalog tables' contents in one transaction; returns the snapshot that holds the new catalog."""
    built_at = catalog.built_at or dt.datetime.now(dt.UTC)
    with writer(settings, purpose="catalog", log=log) as con:
        con.execute("BEGIN")
        try:
            for table, rows in _rows(catalog, built_at).items():
                con.execute(f"CREATE TABLE IF NOT EXISTS meta.{table} ({TABLES[table]})")  # a lake from before them
                con.execute(f"DELETE FROM meta.{table}")
                if rows:
                    names = list(ddl_columns(TABLES[table]))
                    con.register("_catalog_rows", pa.Table.from_pylist(rows).select(names))
                    con.execute(f"INSERT INTO meta.{table} ({', '.join(names)}) SELECT * FROM _catalog_rows")
                    con.unregister("_catalog_rows")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return current_snapshot(con)


def build(settings: Settings, asset_graph=None, today: dt.date | None = None,
          log: Callable[[str], None] = print) -> Catalog:
    """The whole catalog of the lake, written to meta.catalog_*; the caller decides what violations mean."""
    if asset_graph is None:
        from pipelines.definitions import defs

        asset_graph = defs.resolve_asset_graph()
    catalog = declared_catalog(load_manifest(settings), asset_graph)
    catalog.built_at = dt.datetime.now(dt.UTC)
    with reader(settings) as con:
        observe(catalog, con, settings, today or catalog.built_at.date(), log)
    write(catalog, settings, log)
    return catalog
