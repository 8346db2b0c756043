"""Catalog entries from what the project declares, before looking at the lake: the data contracts, the dbt
manifest (with the column lineage of its compiled SQL), the Dagster asset graph and ``catalog/*.yml``."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipelines import yaml_io
from pipelines.catalog.column_lineage import ModelLineage, model_dataset
from pipelines.catalog.entries import ColumnEntry, Concept, Copy, DatasetEntry, Edge, Violation
from pipelines.contracts.model import Contract
from pipelines.ingest.load import LINEAGE_COLUMNS, QUARANTINE_COLUMNS
from pipelines.settings import PROJECT_ROOT

CATALOG_DIR = PROJECT_ROOT / "catalog"
CONTRACT = "contract"  # lake_tables.yml's "as sensitive as the contract's most sensitive column"


def read_yaml(name: str) -> dict[str, Any]:
    return yaml_io.read_yaml(CATALOG_DIR / name) or {}


def contract_maximum(contract: Contract) -> tuple[str | None, str | None]:
    """The highest classification and personal-information class among the contract's columns."""
    levels = [c.classification for c in contract.columns if c.classification]
    classes = [c.personal_information for c in contract.columns if c.personal_information]
    return (max(levels) if levels else None), (max(classes) if classes else None)


def _platform_column(name: str, spec: dict[str, Any], contract: Contract, data_type: str) -> ColumnEntry:
    level, pi = spec.get("classification"), None
    source = "catalog/lake_tables.yml"
    if level == CONTRACT:
        (level, pi), source = contract_maximum(contract), f"{source}: the most sensitive column of {contract.name}"
    return ColumnEntry(name, declared_type=data_type, description=spec.get("description"), classification=level,
                       personal_information=pi, classification_source=source)


def contract_datasets(contracts: Iterable[Contract], platform: dict[str, Any]) -> tuple[list[DatasetEntry], list[Edge]]:
    """Per contract: its delivered files (landing.<name>), its raw table and its quarantine table."""
    datasets, edges = [], []
    for contract in contracts:
        raw, quarantine, landing = contract.raw_table, contract.quarantine_table, f"landing.{contract.name}"
        common = {"owner": contract.owner_team, "domain": contract.domain, "source_system": contract.data_product,
                  "contract": contract.name, "contract_version": contract.version}
        sla = contract.sla.describe()
        source = f"contract {contract.path.name}"
        landing_entry = DatasetEntry(
            landing, "landing", "files", description=f"Files delivered for {contract.name}. {contract.description}",
            location=f"landing/{contract.landing_pattern}",
            format=f"{contract.file_format} ({contract.encoding})" if contract.file_format == "csv"
            else contract.file_format, sla=sla, **common,
            columns=[ColumnEntry(c.source_name, declared_type=c.logical_type, description=c.description or c.name,
                                 classification=c.classification, personal_information=c.personal_information,
                                 classification_source=source) for c in contract.columns])
        raw_entry = DatasetEntry(
            raw, "raw", "table", description=contract.description, format="parquet", sla=sla, **common,
            columns=[ColumnEntry(c.name, declared_type=c.physical_type, description=c.description or c.source_name,
                                 classification=c.classification, personal_information=c.personal_information,
                                 classification_source=source) for c in contract.columns]
            + [_platform_column(name, platform["raw_lineage_columns"][name], contract, type_)
               for name, type_ in LINEAGE_COLUMNS.items()])
        quarantine_entry = DatasetEntry(
            quarantine, "quarantine", "table", format="parquet", **common,
            description=f"Rows of {contract.name} that broke a contract rule, with file, row, rule and raw value "
                        "(errors, kept out of raw) or loaded with a warning.",
            columns=[_platform_column(name, platform["quarantine_columns"][name], contract, type_)
                     for name, type_ in QUARANTINE_COLUMNS.items()])
        datasets += [landing_entry, raw_entry, quarantine_entry]
        edges += [Edge(raw, None, landing, None, "TABLE", "ingest"), Edge(quarantine, None, landing, None, "TABLE",
                                                                           "ingest")]
        edges += [Edge(raw, c.name, landing, c.source_name, "IDENTITY", "ingest") for c in contract.columns]
    return datasets, edges


def platform_datasets(platform: dict[str, Any], ddl: dict[str, str]) -> list[DatasetEntry]:
    """The meta.* tables, described in catalog/lake_tables.yml; ``ddl`` maps meta.<table> to its column types."""
    datasets = []
    for name, spec in platform["tables"].items():
        columns = []
        for column, type_ in ddl.get(name, {}).items():
            declared = (spec.get("columns") or {}).get(column)
            if declared is None and name.startswith("meta.catalog_"):
                declared = {"description": f"See pipelines/catalog/tables.py ({name}).",
                            "classification": platform["catalog_tables_classification"]}
            declared = declared or {}
            columns.append(ColumnEntry(column, declared_type=type_, description=declared.get("description"),
                                       classification=declared.get("classification"),
                                       classification_source="catalog/lake_tables.yml" if declared else None))
        datasets.append(DatasetEntry(name, "meta", "table", description=spec.get("description"),
                                     owner=spec.get("owner"), domain="platform", format="parquet", columns=columns))
    return datasets


def _meta(props: dict[str, Any]) -> dict[str, Any]:
    return {**(props.get("config", {}).get("meta") or {}), **(props.get("meta") or {})}


def seed_columns(manifest: dict[str, Any], project_dir: Path) -> dict[str, list[str]]:
    """<schema>.<seed> -> the columns of its CSV header (a seed's columns are its file's)."""
    found = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "seed":
            with (project_dir / node["original_file_path"]).open(encoding="utf-8-sig", newline="") as f:
                found[model_dataset(node)] = next(csv.reader(f), [])
    return found


def dbt_datasets(manifest: dict[str, Any], lineage: dict[str, ModelLineage], seeds: dict[str, list[str]]) -> tuple[
        list[DatasetEntry], list[Edge], list[Violation]]:
    """Models and seeds of the dbt project, with table-level lineage from the manifest and column-level lineage
    from the compiled SQL; also the rule that only staging reads sources, whichever way a model reads them."""
    sources = {key: f"{s['schema']}.{s['identifier']}" for key, s in manifest["sources"].items()}
    nodes = {key: n for key, n in manifest["nodes"].items() if n["resource_type"] in ("model", "seed")}
    datasets, edges, violations = [], [], []
    for node in nodes.values():
        name, meta = model_dataset(node), _meta(node)
        if node["config"].get("materialized") == "ephemeral":  # inlined into its readers, never in the lake
            continue
        fqn = node["fqn"]
        layer = "seeds" if node["resource_type"] == "seed" else fqn[1]
        materialized = node["config"].get("materialized", "view")
        kind = "view" if materialized == "view" else "table"
        enforced = node["config"].get("contract", {}).get("enforced", False)
        documented = node.get("columns", {})
        found = lineage.get(name)
        if node["resource_type"] == "model" and not node.get("compiled_code"):
            violations.append(Violation("column_lineage", name, None, "no compiled SQL in the manifest, so no column "
                                        "lineage, classification or source check: run `make manifest`"))
        order = list(found.columns) if found and found.columns else list(seeds.get(name) or documented)
        order += [c for c in documented if c not in order]
        columns = []
        for column in order:
            doc = documented.get(column, {})
            column_meta = _meta(doc)
            columns.append(ColumnEntry(
                column, declared_type=doc.get("data_type") if enforced or doc.get("data_type") else None,
                description=doc.get("description") or None,
                classification=column_meta.get("classification"),
                personal_information=column_meta.get("personal_information"),
                classification_source=f"dbt {node['original_file_path']}" if column_meta.get("classification")
                else None,
                concept=column_meta.get("concept")))
        datasets.append(DatasetEntry(
            name, layer, kind, description=node.get("description") or None, owner=meta.get("owner"),
            domain=fqn[2] if len(fqn) > 3 else layer, format="parquet" if kind == "table" else "view",
            location=node["original_file_path"], columns=columns,
            contract="dbt model contract (enforced)" if enforced else None))
        default_level = meta.get("classification")
        if default_level:
            for column in columns:
                if column.classification is None:
                    column.classification = default_level
                    column.classification_source = f"dbt {node['original_file_path']} (model default)"
        upstream = set()
        for dep in node.get("depends_on", {}).get("nodes", []):
            if dep in sources:
                upstream.add(sources[dep])
                if layer != "staging":
                    violations.append(Violation("only_staging_reads_sources", name, None,
                                                f"reads the source {sources[dep]}; only staging models may"))
            elif dep in nodes:
                upstream.add(model_dataset(nodes[dep]))
        if found:
            for table in found.tables_read - upstream:
                upstream.add(table)
                if layer != "staging" and table.split(".")[0] in ("raw", "quarantine", "landing"):
                    violations.append(Violation("only_staging_reads_sources", name, None,
                                                f"reads {table} directly in its SQL; only staging models read sources"))
            edges += [Edge(e.downstream, e.downstream_column, e.upstream, e.upstream_column, e.transformation, "dbt")
                      for e in found.edges]
            if found.error:
                violations.append(Violation("column_lineage", name, None,
                                            f"column lineage could not be derived: {found.error}", "warning"))
        edges += [Edge(name, None, up, None, "TABLE", "dbt") for up in sorted(upstream)]
    return datasets, edges, violations


def published_datasets(published: dict[str, str], datasets: dict[str, DatasetEntry]) -> tuple[
        list[DatasetEntry], list[Edge]]:
    """``published`` maps published.<mart> to the mart it publishes (from the asset graph)."""
    entries, edges = [], []
    for name, mart in sorted(published.items()):
        source = datasets.get(mart)
        columns = [ColumnEntry(c.name, declared_type=c.declared_type, description=c.description, concept=c.concept)
                   for c in (source.columns if source else [])]
        entries.append(DatasetEntry(
            name, "published", "publication", owner=source.owner if source else None,
            domain=source.domain if source else None, format="parquet", location=f"{mart} AT (VERSION => …)",
            description=f"The validated version of {mart} that apps read: the latest row of meta.publications names "
                        "its lake snapshot.", columns=columns))
        edges.append(Edge(name, None, mart, None, "TABLE", "publish"))
        edges += [Edge(name, c.name, mart, c.name, "IDENTITY", "publish") for c in columns]
    return entries, edges


def load_glossary(path: Path | None = None) -> list[Concept]:
    doc = yaml_io.read_yaml(path or CATALOG_DIR / "glossary.yml") or {}
    concepts = []
    for item in doc.get("concepts", []):
        authoritative = item.get("authoritative") or {}
        concepts.append(Concept(
            concept=item["concept"], name_zh=item.get("name_zh", ""), name_en=item.get("name_en", ""),
            definition=" ".join(str(item.get("definition", "")).split()), domain=item.get("domain", ""),
            owner=item.get("owner", ""), authoritative_dataset=authoritative.get("dataset", ""),
            authoritative_columns=list(authoritative.get("columns") or []),
            not_from=[Copy(c["dataset"], c.get("column"), c.get("reason", "")) for c in item.get("not_from") or []]))
    return concepts
