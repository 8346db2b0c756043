"""The catalog in memory: one object per row of the ``meta.catalog_*`` tables (see ``tables.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

LAYERS = ("landing", "raw", "seeds", "quarantine", "staging", "intermediate", "marts", "published", "meta")
LEVELS = ("L1", "L2", "L3", "L4", "L5")  # JR/T 0197-2020, ascending
PI_CLASSES = ("C1", "C2", "C3")  # JR/T 0171-2020, ascending
# Column-level transformations, weakest first (OpenLineage direct subtypes); TABLE marks a table-level edge.
TRANSFORMATIONS = ("IDENTITY", "TRANSFORMATION", "AGGREGATION")


@dataclass
class ColumnEntry:
    name: str
    data_type: str | None = None  # as the lake has it (None when the dataset is not in the lake yet)
    declared_type: str | None = None  # as the contract or the dbt model contract declares it
    description: str | None = None
    classification: str | None = None
    personal_information: str | None = None
    classification_source: str | None = None  # where the level came from: declared where, or inherited from what
    concept: str | None = None


@dataclass
class DatasetEntry:
    dataset: str  # <schema>.<table>, or landing.<contract> for the delivered files
    layer: str
    kind: str  # table, view, files, publication
    description: str | None = None
    owner: str | None = None
    domain: str | None = None
    location: str | None = None
    format: str | None = None
    source_system: str | None = None
    contract: str | None = None
    contract_version: str | None = None
    dagster_asset: str | None = None
    concepts: list[str] = field(default_factory=list)
    columns: list[ColumnEntry] = field(default_factory=list)
    row_count: int | None = None
    snapshot_id: int | None = None
    snapshot_time: datetime | None = None
    sla: str | None = None
    last_loaded_at: datetime | None = None
    freshness: str | None = None  # fresh, overdue, stale, never loaded, not applicable
    freshness_detail: str | None = None
    quality: str | None = None  # passed, warned, failed, not checked

    def column(self, name: str) -> ColumnEntry | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Edge:
    downstream: str
    downstream_column: str | None
    upstream: str
    upstream_column: str | None
    transformation: str  # TABLE, or one of TRANSFORMATIONS
    via: str  # ingest, dbt, publish


@dataclass(frozen=True)
class Copy:
    dataset: str
    column: str | None
    reason: str


@dataclass
class Concept:
    concept: str
    name_zh: str
    name_en: str
    definition: str
    domain: str
    owner: str
    authoritative_dataset: str
    authoritative_columns: list[str]
    not_from: list[Copy] = field(default_factory=list)
    published_by: list[str] = field(default_factory=list)  # dataset.column of every mart column that publishes it


@dataclass(frozen=True)
class QualityResult:
    dataset: str
    check_kind: str  # contract, dbt_test, great_expectations
    check_name: str
    status: str  # passed, warned, failed
    failures: int | None
    details: str | None
    evaluated_at: datetime | None


@dataclass(frozen=True)
class Violation:
    rule: str
    dataset: str
    column: str | None
    message: str
    severity: str = "error"  # error fails the catalog check and the build; warning is flagged

    def __str__(self) -> str:
        where = f"{self.dataset}.{self.column}" if self.column else self.dataset
        return f"[{self.rule}] {where}: {self.message}"


@dataclass
class Catalog:
    datasets: dict[str, DatasetEntry]
    edges: list[Edge]
    concepts: list[Concept]
    quality: list[QualityResult] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    built_at: datetime | None = None

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]
