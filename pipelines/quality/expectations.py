"""Great Expectations suites over lake tables, recorded in ``meta.quality_results``.

GX 1.x has no DuckDB engine, so a suite validates a pandas frame read from one lake snapshot, with
DECIMAL columns cast to DOUBLE in SQL (GX on Decimal objects is orders of magnitude slower). The snapshot
is recorded with the result: a publication points at exactly the data that was validated.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from pipelines.lake.connection import current_snapshot, reader, writer
from pipelines.lake.sql import quote
from pipelines.settings import Settings

SUITES_DIR = Path(__file__).parent / "suites"


@dataclass(frozen=True)
class Suite:
    name: str
    dataset: str  # schema.table in the lake
    description: str
    expectations: list[dict[str, dict[str, Any]]]


@dataclass
class SuiteResult:
    suite: str
    dataset: str
    snapshot_id: int
    passed: bool
    evaluated: int
    failed: list[dict[str, Any]] = field(default_factory=list)


def load_suites() -> list[Suite]:
    suites = []
    for path in sorted(SUITES_DIR.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        suites.append(Suite(path.stem, doc["dataset"], doc.get("description", ""), doc["expectations"]))
    return suites


def _expectation(item: dict[str, dict[str, Any]]):
    import great_expectations as gx

    (name, kwargs), = item.items()
    class_name = "".join(part.capitalize() for part in name.split("_"))
    return getattr(gx.expectations, class_name)(**kwargs)


def read_frame(settings: Settings, dataset: str):
    """The dataset at the current snapshot as pandas, decimals as floats; and that snapshot's id."""
    with reader(settings) as con:
        snapshot = current_snapshot(con)
        schema, table = dataset.split(".")
        columns = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = 'lake' "
            "AND table_schema = ? AND table_name = ? ORDER BY ordinal_position", [schema, table]).fetchall()
        select = ", ".join(
            f"CAST({quote(c)} AS DOUBLE) AS {quote(c)}" if t.upper().startswith("DECIMAL") else quote(c)
            for c, t in columns)
        frame = con.sql(f"SELECT {select} FROM {dataset} AT (VERSION => {snapshot})").df()
    return frame, snapshot


def data_docs_dir(settings: Settings) -> Path:
    """Great Expectations' Data Docs of every validated mart (static HTML; the API serves it at /data-docs/)."""
    return settings.root / "lakehouse" / "data_docs"


def gx_context(settings: Settings):
    """A context whose suites and validation results are files beside the lake, so each validation adds its
    result to one Data Docs site. Nothing else of GX is configured: suites live in pipelines/quality/suites."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        FilesystemStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=FilesystemStoreBackendDefaults(root_directory=str(settings.root / "lakehouse" / "gx")),
        data_docs_sites={"lake": {
            "class_name": "SiteBuilder", "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(data_docs_dir(settings))},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}}},
        progress_bars=ProgressBarsConfig(globally=False),
    )
    # Validation definitions and checkpoints name the run's in-memory data source: remade every run, never kept
    # (a kept one would point at a data source that no longer exists).
    for store in ("validation_definition_store", "checkpoint_store"):
        config.stores[store]["store_backend"] = {"class_name": "InMemoryStoreBackend"}
    return gx.get_context(mode="ephemeral", project_config=config)


def validate(settings: Settings, suite: Suite) -> SuiteResult:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage statistics leave the machine
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    frame, snapshot = read_frame(settings, suite.dataset)
    context = gx_context(settings)
    batch_definition = (context.data_sources.add_or_update_pandas("lake")
                        .add_dataframe_asset(suite.name)
                        .add_batch_definition_whole_dataframe("frame"))
    gx_suite = context.suites.add_or_update(gx.ExpectationSuite(
        name=suite.name, expectations=[_expectation(e) for e in suite.expectations]))
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=gx_suite))
    checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
        name=suite.name, validation_definitions=[definition],
        actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")]))
    run = checkpoint.run(batch_parameters={"dataframe": frame})
    [outcome] = run.run_results.values()
    failed = [
        {"expectation": r.expectation_config.type, "kwargs": {k: v for k, v in r.expectation_config.kwargs.items()
                                                               if k != "batch_id"},
         "observed": r.result.get("observed_value", r.result.get("unexpected_count"))}
        for r in outcome.results if not r.success
    ]
    return SuiteResult(suite.name, suite.dataset, snapshot, bool(outcome.success), len(outcome.results), failed)


def record(settings: Settings, result: SuiteResult) -> None:
    with writer(settings, purpose=f"quality result {result.dataset}") as con:
        con.execute(
            "INSERT INTO meta.quality_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [result.dataset, f"great_expectations:{result.suite}", result.passed, result.evaluated,
             len(result.failed), json.dumps(result.failed, ensure_ascii=False, default=str),
             result.snapshot_id, datetime.now(UTC)])
