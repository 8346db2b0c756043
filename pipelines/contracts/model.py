"""ODCS v3 data contracts, read into the few facts ingestion needs.

A contract is the single source of truth for an incoming dataset: its columns and their types, the rules
each row must meet, where its files land and where its rows go. Everything ingestion checks is derived
from here (see ``pipelines.contracts.rules``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pipelines.settings import PROJECT_ROOT
from pipelines.yaml_io import read_yaml

CONTRACTS_DIR = PROJECT_ROOT / "data_contracts"


class ContractError(ValueError):
    pass


@dataclass(frozen=True)
class Column:
    name: str
    source_name: str  # the header in the delivered file (ODCS businessName)
    logical_type: str
    physical_type: str
    required: bool
    primary_key_position: int | None
    partitioned: bool
    options: dict[str, Any]
    valid_values: tuple[str, ...] | None
    description: str
    classification: str | None
    personal_information: str | None


SEVERITIES = ("error", "warning")  # an error quarantines the row; a warning loads it and records the warning
GRANULARITIES = ("month", "year", "snapshot")
FILE_FORMATS = ("csv", "jsonl", "xlsx")


@dataclass(frozen=True)
class RowRule:
    name: str
    predicate: str  # SQL over the typed columns; false means the row breaks the rule
    description: str
    severity: str = "error"


@dataclass(frozen=True)
class Sla:
    """The contract's delivery promise: one delivery per ``frequency``, due ``latency_days`` after the period."""

    frequency: str  # month, year or day
    latency_days: int
    every: int = 1  # one delivery per `every` frequency units (7 days: weekly)

    def describe(self) -> str:
        every = f"{self.every} {self.frequency}s" if self.every > 1 else self.frequency
        return f"one delivery per {every}, due {self.latency_days} days after the period"


@dataclass(frozen=True)
class Contract:
    id: str
    name: str
    version: str
    domain: str
    description: str
    owner_team: str
    columns: tuple[Column, ...]
    row_rules: tuple[RowRule, ...]
    custom: dict[str, Any]
    path: Path
    sla: Sla
    data_product: str = ""  # the source system's data product (ODCS dataProduct)

    @property
    def raw_table(self) -> str:
        return self.custom["rawTable"]

    @property
    def source(self) -> str:
        """The source family (bank, enterprise, public, local_finance): the raw table's prefix."""
        return self.raw_table.split(".", 1)[1].split("__", 1)[0]

    @property
    def granularity(self) -> str:
        return self.custom.get("partitionGranularity", "month")

    @property
    def file_format(self) -> str:
        return self.custom.get("fileFormat", "csv")

    @property
    def sheet_name(self) -> str | None:
        return self.custom.get("sheetName")

    @property
    def header_row(self) -> int:
        return int(self.custom.get("headerRow", 1))

    @property
    def quarantine_table(self) -> str:
        return "quarantine." + self.raw_table.split(".", 1)[1]

    @property
    def partition_column(self) -> Column | None:
        """The column whose value is the partition key; None for a snapshot dataset."""
        return next((c for c in self.columns if c.partitioned), None)

    @property
    def primary_key(self) -> list[str]:
        keyed = [c for c in self.columns if c.primary_key_position is not None]
        return [c.name for c in sorted(keyed, key=lambda c: c.primary_key_position)]

    @property
    def landing_pattern(self) -> str:
        return self.custom["landingPattern"]

    @property
    def encoding(self) -> str:
        return self.custom.get("encoding", "utf-8")

    @property
    def boolean_values(self) -> dict[bool, tuple[str, ...]]:
        values = self.custom.get("booleanValues", {"true": ["true"], "false": ["false"]})
        return {True: tuple(values["true"]), False: tuple(values["false"])}


def _custom(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {item["property"]: item["value"] for item in items or []}


def _column(prop: dict[str, Any]) -> Column:
    valid_values = None
    for rule in prop.get("quality", []):
        if rule.get("metric") == "invalidValues" and "validValues" in rule.get("arguments", {}):
            valid_values = tuple(str(v) for v in rule["arguments"]["validValues"])
    return Column(
        name=prop["name"],
        source_name=prop.get("businessName", prop["name"]),
        logical_type=prop["logicalType"],
        physical_type=prop["physicalType"],
        required=bool(prop.get("required", False)),
        primary_key_position=prop.get("primaryKeyPosition") if prop.get("primaryKey") else None,
        partitioned=bool(prop.get("partitioned", False)),
        options=prop.get("logicalTypeOptions", {}),
        valid_values=valid_values,
        description=" ".join(str(prop.get("description", "")).split()),
        classification=prop.get("classification"),
        personal_information=_custom(prop.get("customProperties")).get("personalInformation"),
    )


def _sla(items: list[dict[str, Any]] | None, path: Path) -> Sla:
    sla = {item["property"]: item for item in items or []}
    if "frequency" not in sla or "latency" not in sla:
        raise ContractError(f"{path}: slaProperties must state `frequency` and `latency`")
    if sla["latency"].get("unit") not in ("d", "day", "days"):
        raise ContractError(f"{path}: the latency is stated in days (unit: d)")
    unit = {"month": "month", "months": "month", "y": "year", "year": "year", "years": "year",
            "d": "day", "day": "day", "days": "day"}.get(sla["frequency"].get("unit"))
    if unit is None:
        raise ContractError(f"{path}: frequency unit must be month, year or d")
    return Sla(unit, int(sla["latency"]["value"]), int(sla["frequency"].get("value", 1)))


def parse(path: Path) -> Contract:
    try:
        return _parse(path)
    except (KeyError, TypeError, IndexError, yaml.YAMLError) as exc:
        raise ContractError(f"{path}: cannot read the contract: {type(exc).__name__}: {exc}") from None


def _document(path: Path) -> Any:
    """The contract file as YAML, read once per version of the file (parsing and validating both need it)."""
    stat = path.stat()
    return _read_document(path, stat.st_mtime_ns, stat.st_size)


@cache
def _read_document(path: Path, _mtime_ns: int, _size: int) -> Any:
    return read_yaml(path)  # every process that loads the definitions reads all contracts


def _parse(path: Path) -> Contract:
    doc = _document(path)
    schema = doc["schema"]
    if len(schema) != 1:
        raise ContractError(f"{path}: one schema object per incoming dataset, found {len(schema)}")
    obj = schema[0]
    columns = tuple(_column(p) for p in obj["properties"])
    rules = tuple(
        RowRule(q["name"], " ".join(q["implementation"].split()), " ".join(q.get("description", "").split()),
                q.get("severity", "error"))
        for q in obj.get("quality", [])
        if q.get("type") == "custom" and q.get("engine") == "duckdb"
    )
    contract = Contract(
        id=doc["id"], name=doc["name"], version=str(doc["version"]), domain=doc.get("domain", ""),
        description=" ".join(str(doc.get("description", {}).get("purpose", "")).split()),
        owner_team=doc.get("team", {}).get("name", ""), columns=columns, row_rules=rules,
        custom=_custom(doc.get("customProperties")), path=path, sla=_sla(doc.get("slaProperties"), path),
        data_product=doc.get("dataProduct", ""),
    )
    for key in ("rawTable", "landingPattern"):
        if key not in contract.custom:
            raise ContractError(f"{path}: customProperties must name `{key}`")
    if contract.granularity not in GRANULARITIES:
        raise ContractError(f"{path}: partitionGranularity must be one of {GRANULARITIES}")
    if contract.file_format not in FILE_FORMATS:
        raise ContractError(f"{path}: fileFormat must be one of {FILE_FORMATS}")
    snapshot = contract.granularity == "snapshot"
    if sum(c.partitioned for c in columns) != (0 if snapshot else 1):
        raise ContractError(f"{path}: a {contract.granularity} dataset has "
                            + ("no partitioned property" if snapshot else "exactly one `partitioned: true` property"))
    if ("{partition}" in contract.landing_pattern) == snapshot:
        raise ContractError(f"{path}: landingPattern must {'not ' if snapshot else ''}contain {{partition}}")
    for rule in rules:
        if rule.severity not in SEVERITIES:
            raise ContractError(f"{path}: rule {rule.name}: severity must be one of {SEVERITIES}")
    names = [c.name for c in columns]
    if len(set(names)) != len(names) or len({c.source_name for c in columns}) != len(columns):
        raise ContractError(f"{path}: a property name or businessName appears twice")
    # names and types are pasted into generated SQL: they must be plain identifiers and type names
    if not re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", contract.raw_table):
        raise ContractError(f"{path}: rawTable {contract.raw_table!r} is not schema.table")
    for column in columns:
        if not re.fullmatch(r"[A-Z]+( ?\(\s*\d+\s*(,\s*\d+\s*)?\))?", column.physical_type):
            raise ContractError(f"{path}: {column.name}: physicalType {column.physical_type!r} is not a SQL type")
    return contract


@cache
def odcs_json_schema() -> dict[str, Any]:
    """The ODCS JSON Schema as published with the standard (open-data-contract-standard package)."""
    return json.loads(resources.files("open_data_contract_standard").joinpath("schema.json").read_text())


@cache
def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(odcs_json_schema())


# Contents found valid, one empty file each, named by a digest of the validator, the schema and the document:
# validating the 29 contracts took 1.2 s in every process that loads the definitions (each Dagster run, issue 9).
VALID_CONTRACTS_DIR = PROJECT_ROOT / ".cache" / "valid_contracts"


@cache
def _schema_digest() -> str:
    import jsonschema

    schema = json.dumps(odcs_json_schema(), sort_keys=True)
    return hashlib.sha256(f"{jsonschema.__version__}\0{schema}".encode()).hexdigest()


def validate_document(path: Path) -> list[str]:
    """Errors of the contract file against the ODCS JSON Schema (empty when valid)."""
    document = _document(path)
    digest = hashlib.sha256(f"{_schema_digest()}\0{json.dumps(document, sort_keys=True, default=str)}".encode())
    known_valid = VALID_CONTRACTS_DIR / digest.hexdigest()
    if known_valid.exists():
        return []
    errors = [f"{path.name}: {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
              for e in _validator().iter_errors(document)]
    if not errors:
        try:
            known_valid.parent.mkdir(parents=True, exist_ok=True)
            known_valid.touch()
        except OSError:  # a read-only installation validates every time
            pass
    return errors


@cache
def all_contracts() -> dict[str, Contract]:
    """Every contract in data_contracts/, each checked against the ODCS JSON Schema first."""
    paths = sorted(CONTRACTS_DIR.glob("*.odcs.yaml"))
    errors = [error for path in paths for error in validate_document(path)]
    if errors:
        raise ContractError("invalid data contracts:\n  " + "\n  ".join(errors))
    contracts = [parse(p) for p in paths]
    return {c.name: c for c in contracts}
