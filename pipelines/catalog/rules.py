"""The catalog's rules. Each returns the violations it finds, naming the dataset (and column); an error fails the
catalog check and ``make test``, a warning (an overdue delivery) is flagged in the catalog and the UI."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from typing import Any

from pipelines.catalog.entries import LEVELS, Catalog, DatasetEntry, Edge, Violation

TYPE_ALIASES = {
    "INT": "INTEGER", "INT4": "INTEGER", "INT8": "BIGINT", "LONG": "BIGINT", "INT2": "SMALLINT", "SHORT": "SMALLINT",
    "STRING": "VARCHAR", "TEXT": "VARCHAR", "CHAR": "VARCHAR", "BPCHAR": "VARCHAR", "BOOL": "BOOLEAN",
    "LOGICAL": "BOOLEAN", "FLOAT8": "DOUBLE", "NUMERIC": "DECIMAL", "FLOAT4": "FLOAT", "REAL": "FLOAT",
    "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE", "DATETIME": "TIMESTAMP",
}


def normalized_type(type_: str) -> str:
    """One spelling per SQL type, so that `decimal(20, 2)`, `DECIMAL(20,2)` and `numeric(20,2)` compare equal."""
    text = re.sub(r"\s+", " ", type_.strip().upper())
    text = re.sub(r"\s*([(),])\s*", r"\1", text)
    base, _, args = text.partition("(")
    base = TYPE_ALIASES.get(base, base)
    if base == "DECIMAL" and not args:
        args = "18,3)"  # DuckDB's default precision and scale
    return f"{base}({args}" if args else base


def ownership(catalog: Catalog, teams: dict[str, Any], policy: dict[str, Any]) -> list[Violation]:
    found = []
    minimum = {pi: spec["minimum_level"] for pi, spec in policy["personal_information_classes"].items()}
    for entry in catalog.datasets.values():
        if not entry.owner:
            found.append(Violation("owner", entry.dataset, None, "no owner"))
        elif entry.owner not in teams:
            found.append(Violation("owner", entry.dataset, None, f"owner {entry.owner!r} is not in catalog/owners.yml"))
        if not (entry.description or "").strip():
            found.append(Violation("description", entry.dataset, None, "no description"))
        for column in entry.columns:
            if column.classification not in LEVELS:
                pi = f" (it holds personal information {column.personal_information})" if \
                    column.personal_information else ""
                found.append(Violation("classification", entry.dataset, column.name,
                                       f"unclassified{pi}: declare meta.classification in its yml or its source's"
                                       if column.classification is None
                                       else f"classification {column.classification!r} is not one of {LEVELS}"))
            elif column.personal_information:
                needed = minimum.get(column.personal_information)
                if needed is None:
                    found.append(Violation("classification", entry.dataset, column.name,
                                           f"personal information class {column.personal_information!r} is unknown"))
                elif LEVELS.index(column.classification) < LEVELS.index(needed):
                    found.append(Violation(
                        "classification", entry.dataset, column.name,
                        f"holds personal information {column.personal_information} but is classified "
                        f"{column.classification}; the policy requires at least {needed} "
                        f"({column.classification_source})"))
    return found


def _ancestry(edges: list[Edge]) -> Callable[[tuple[str, str]], frozenset[tuple[str, str]]]:
    """A function (dataset, column) -> every (dataset, column) it is computed from, transitively."""
    parents: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for e in edges:
        if e.downstream_column is not None and e.upstream_column is not None:
            parents[(e.downstream, e.downstream_column)].add((e.upstream, e.upstream_column))

    @cache
    def origins(node: tuple[str, str]) -> frozenset[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for parent in parents.get(node, ()):
            found |= {parent} | origins(parent)
        return frozenset(found)

    return origins


def glossary(catalog: Catalog, teams: dict[str, Any]) -> list[Violation]:
    """One data, one source: each concept has exactly one authoritative dataset that exists, and a mart column that
    publishes a concept derives it from that dataset and from none of the concept's known copies."""
    found = []
    seen: dict[str, int] = defaultdict(int)
    for concept in catalog.concepts:
        seen[concept.concept] += 1
    for name, count in seen.items():
        if count > 1:
            found.append(Violation("glossary", "catalog/glossary.yml", None,
                                   f"concept {name} is defined {count} times; it has one authoritative dataset"))
    claimed: dict[tuple[str, str], str] = {}
    origins_of = _ancestry(catalog.edges)
    concepts = {c.concept: c for c in catalog.concepts}
    for concept in catalog.concepts:
        where = f"concept {concept.concept}"
        if not all((concept.name_zh, concept.name_en, concept.definition)):
            found.append(Violation("glossary", "catalog/glossary.yml", None, f"{where}: names and definition needed"))
        if concept.owner not in teams:
            found.append(Violation("glossary", "catalog/glossary.yml", None,
                                   f"{where}: owner {concept.owner!r} is not in catalog/owners.yml"))
        source = catalog.datasets.get(concept.authoritative_dataset)
        if source is None:
            found.append(Violation("glossary", concept.authoritative_dataset or "catalog/glossary.yml", None,
                                   f"{where}: its authoritative dataset is not in the catalog"))
            continue
        for column in concept.authoritative_columns:
            if source.column(column) is None:
                found.append(Violation("glossary", source.dataset, column, f"{where}: no such column"))
            other = claimed.setdefault((source.dataset, column), concept.concept)
            if other != concept.concept:
                found.append(Violation("glossary", source.dataset, column,
                                       f"authoritative for both {other} and {concept.concept}"))
    for entry in catalog.datasets.values():
        for column in entry.columns:
            if not column.concept or entry.layer == "published":
                continue
            concept = concepts.get(column.concept)
            if concept is None:
                found.append(Violation("glossary", entry.dataset, column.name,
                                       f"publishes concept {column.concept!r}, which the glossary does not define"))
                continue
            if entry.dataset == concept.authoritative_dataset:
                continue
            origins = origins_of((entry.dataset, column.name))
            wanted = {(concept.authoritative_dataset, c) for c in concept.authoritative_columns} or {
                o for o in origins if o[0] == concept.authoritative_dataset}
            if not origins & wanted:
                found.append(Violation(
                    "one_data_one_source", entry.dataset, column.name,
                    f"publishes {concept.concept} but is not derived from its authoritative dataset "
                    f"{concept.authoritative_dataset}" + (f" ({', '.join(concept.authoritative_columns)})"
                                                          if concept.authoritative_columns else "")))
            for copy in concept.not_from:
                used = sorted(f"{d}.{c}" for d, c in origins if d == copy.dataset and copy.column in (None, c))
                if used:
                    found.append(Violation("one_data_one_source", entry.dataset, column.name,
                                           f"publishes {concept.concept} from {', '.join(used)}, a copy the glossary "
                                           f"rules out ({copy.reason}); use {concept.authoritative_dataset}"))
    return found


def _declared_in_lake(entry: DatasetEntry) -> bool:
    return entry.layer not in ("landing", "published") and any(c.data_type for c in entry.columns)


def drift(catalog: Catalog) -> list[Violation]:
    """The lake's physical schema against the contract and the dbt model contract."""
    found = []
    for entry in catalog.datasets.values():
        if not _declared_in_lake(entry):
            continue
        checked = entry.layer in ("raw", "quarantine", "meta") or entry.contract is not None
        for column in entry.columns:
            if column.data_type is None and column.declared_type and checked:
                found.append(Violation("schema_drift", entry.dataset, column.name,
                                       f"declared {column.declared_type} but missing from the lake"))
            elif column.declared_type is None and checked and column.data_type:
                found.append(Violation("schema_drift", entry.dataset, column.name,
                                       f"in the lake as {column.data_type} but not declared"))
            elif column.declared_type and column.data_type and checked and \
                    normalized_type(column.declared_type) != normalized_type(column.data_type):
                found.append(Violation("schema_drift", entry.dataset, column.name,
                                       f"declared {column.declared_type}, the lake has {column.data_type}"))
    return found


def freshness(catalog: Catalog) -> list[Violation]:
    """A delivery past its contract's SLA, and a table built before its inputs' latest load (a derived dataset fed
    by an overdue delivery says so in the catalog, but the delivery is the one flagged)."""
    return [Violation("freshness", e.dataset, None, e.freshness_detail or e.freshness, "warning")
            for e in catalog.datasets.values()
            if (e.layer == "raw" and e.freshness in ("overdue", "never loaded")) or e.freshness == "stale"]


def assets_catalogued(catalog: Catalog, asset_datasets: dict[str, str]) -> list[Violation]:
    """Every Dagster asset that is a dataset has a catalog entry (``asset_datasets``: asset key -> dataset)."""
    return [Violation("catalogued", dataset, None, f"Dagster asset {key} has no catalog entry")
            for key, dataset in sorted(asset_datasets.items()) if dataset not in catalog.datasets]
