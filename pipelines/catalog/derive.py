"""What a derived column inherits through its column lineage: classification and description.

A column takes the highest security level of the columns it is computed from, and their highest
personal-information class, unless its model declares its own (``meta.classification`` in the model's yml).
An aggregate over many people (a sum of balances per bank) is no longer personal information (JR/T 0171
protects information that identifies a person), so PI classes pass through identity and transformation
edges only; the level passes through every edge.
"""

from __future__ import annotations

from collections import defaultdict
from graphlib import TopologicalSorter

from pipelines.catalog.entries import DatasetEntry, Edge

DERIVED_LAYERS = ("staging", "intermediate", "marts", "published")


def dataset_order(datasets: dict[str, DatasetEntry], edges: list[Edge]) -> list[str]:
    graph: dict[str, set[str]] = {name: set() for name in datasets}
    for e in edges:
        if e.transformation == "TABLE" and e.downstream in graph and e.upstream in datasets:
            graph[e.downstream].add(e.upstream)
    return list(TopologicalSorter(graph).static_order())


def inherit(datasets: dict[str, DatasetEntry], edges: list[Edge]) -> None:
    upstream: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for e in edges:
        if e.downstream_column is not None:
            upstream[(e.downstream, e.downstream_column)].append(e)
    for name in dataset_order(datasets, edges):
        entry = datasets[name]
        if entry.layer not in DERIVED_LAYERS:
            continue
        for column in entry.columns:
            sources = [(e, datasets[e.upstream].column(e.upstream_column))
                       for e in upstream[(name, column.name)] if e.upstream in datasets]
            sources = [(e, c) for e, c in sources if c is not None]
            if column.classification is None:
                levelled = [(c.classification, f"{e.upstream}.{e.upstream_column}") for e, c in sources
                            if c.classification]
                if levelled:
                    column.classification, origin = max(levelled)
                    column.classification_source = f"inherited from {origin}"
            if column.personal_information is None:  # also under a declared level, which the policy then checks
                classes = [c.personal_information for e, c in sources
                           if c.personal_information and e.transformation != "AGGREGATION"]
                column.personal_information = max(classes) if classes else None
            if not column.description:
                identical = [c for e, c in sources if e.transformation == "IDENTITY" and c.description]
                if len(identical) == 1:
                    column.description = identical[0].description
            if column.declared_type is None and entry.layer == "published":
                column.declared_type = next((c.declared_type for _, c in sources), None)
