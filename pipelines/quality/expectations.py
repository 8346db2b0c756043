"""Great Expectations suites over lake tables, recorded in ``meta.quality_results``.

GX 1.x has no DuckDB engine, so a suite validates a pandas frame read from one lake snapshot, with
DECIMAL columns cast to DOUBLE in SQL (GX on Decimal objects is orders of magnitude slower). The snapshot
is recorded with the result: a publication points at exactly the data that was validated. A suite expects what the
mart's enforced dbt contract does not already guarantee: the contract fixes the column set, and the lake refuses a
null in a not_null column (tests/test_definitions.py keeps it so).

A suite validates what changed since the snapshot where the same suite last passed (DuckLake's table changes:
the rows inserted or updated since), so a mart kept month by month has its new month validated, not its whole
history again; a table rebuilt whole is all changed, and a first validation sees every row. Expectations across
rows (uniqueness) therefore hold within the changed periods; across the whole table dbt's data tests check them
on every build. More changed rows than ``settings.gx_max_rows`` are validated as a reproducible sample of whole
keys (``sample_filter``; GX holds the rows in memory; the row-level rules on every row are the contracts' and
dbt's). Each result records its scope: which rows, how many, and the suite's fingerprint (an edited suite
validates everything again).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.lake.connection import current_snapshot, reader, writer
from pipelines.lake.sql import quote, table_changes
from pipelines.settings import Settings
from pipelines.yaml_io import read_yaml

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
    scope: dict[str, Any] = field(default_factory=dict)  # which rows were validated (meta.quality_results.scope)


def load_suites() -> list[Suite]:
    suites = []
    for path in sorted(SUITES_DIR.glob("*.yml")):
        doc = read_yaml(path)
        suites.append(Suite(path.stem, doc["dataset"], doc.get("description", ""), doc["expectations"]))
    return suites


def _expectation(item: dict[str, dict[str, Any]]):
    import great_expectations as gx

    (name, kwargs), = item.items()
    class_name = "".join(part.capitalize() for part in name.split("_"))
    return getattr(gx.expectations, class_name)(**kwargs)


def fingerprint(suite: Suite) -> str:
    return hashlib.sha256(json.dumps([suite.dataset, suite.expectations], sort_keys=True, default=str)
                          .encode()).hexdigest()[:16]


def last_pass(con, suite: Suite) -> int | None:
    """The snapshot at which this suite, unchanged, last passed on the dataset."""
    row = con.execute(
        "SELECT max(snapshot_id) FROM meta.quality_results WHERE dataset = ? AND suite = ? AND passed "
        "AND json_extract_string(scope, '$.suite_fingerprint') = ?",
        [suite.dataset, f"great_expectations:{suite.name}", fingerprint(suite)]).fetchone()
    return row[0] if row else None


def changes_since(con, suite: Suite, since: int, snapshot: int) -> tuple[int, int]:
    """Rows inserted or updated, and rows deleted, in the suite's dataset after ``since`` up to ``snapshot``: one
    scan of DuckLake's table changes (each costs the catalog's metadata, ~50-150 ms a scan on a new month's lake)."""
    if snapshot <= since:
        return 0, 0
    return con.execute(
        "SELECT count(*) FILTER (WHERE change_type IN ('insert', 'update_postimage')), "
        "count(*) FILTER (WHERE change_type = 'delete') "
        f"FROM {table_changes(suite.dataset, since, snapshot)}").fetchone()


def unique_key(suite: Suite) -> list[str] | None:
    """The columns the suite expects to be unique together, if it says so."""
    for item in suite.expectations:
        (name, kwargs), = item.items()
        if name == "expect_compound_columns_to_be_unique":
            return list(kwargs["column_list"])
        if name == "expect_column_values_to_be_unique":
            return [kwargs["column"]]
    return None


def sample_filter(suite: Suite, columns: list[str], max_rows: int, in_scope: int) -> str:
    """A WHERE clause keeping about ``max_rows`` of ``in_scope`` rows, chosen by a hash of the suite's unique key
    (of every column if it has none): the same rows every time, in parallel (DuckDB's seeded reservoir sample runs on
    one thread: 25 s for 1M of 2.2M rows), and every row of a sampled key, so a duplicate key stays visible."""
    if in_scope <= max_rows:
        return ""
    per_million = max(1, max_rows * 1_000_000 // in_scope)
    keys = ", ".join(quote(c) for c in unique_key(suite) or columns)
    return f" WHERE hash({keys}) % 1000000 < {per_million}"


def read_frame(con, suite: Suite, max_rows: int, snapshot: int, since: int | None = None,
               in_scope: int | None = None):
    """The rows of the suite's dataset to validate at ``snapshot``, as pandas with decimals as floats, and the
    scope: every row, or (``since``: a snapshot the suite passed at) the ``in_scope`` rows changed after it
    (``changes_since``; a table dropped and created again since then has all its rows inserted after it)."""
    # the table's own columns (information_schema would list every column of the lake first)
    columns = con.execute(f"DESCRIBE SELECT * FROM {suite.dataset} AT (VERSION => {snapshot})").fetchall()
    select = ", ".join(
        f"CAST({quote(c)} AS DOUBLE) AS {quote(c)}" if t.upper().startswith("DECIMAL") else quote(c)
        for c, t, *_ in columns)
    if since is None:
        rows = f"SELECT * FROM {suite.dataset} AT (VERSION => {snapshot})"
        scope = {"rows": "all", "since_snapshot": None}
        in_scope = con.execute(f"SELECT count(*) FROM ({rows})").fetchone()[0]
    else:
        rows = (f"SELECT * FROM {table_changes(suite.dataset, since, snapshot)} "
                "WHERE change_type IN ('insert', 'update_postimage')")
        scope = {"rows": "changed", "since_snapshot": since}
    sample = sample_filter(suite, [c for c, *_ in columns], max_rows, in_scope)
    # Through Arrow, not .df(): with pandas 3 DuckDB's .df() took 3.7 s for a million mart rows, Arrow 0.5 s. Dates
    # become datetime64 as .df() gives them; an integer column with nulls becomes float64 (GX validated the nullable
    # Int32 that .df() gives two to three times slower, and no suite expects a column's type, issue 9). Text becomes
    # categorical: GX copies the whole frame for each expectation's row filter, and copying Arrow-backed strings took
    # half of the time of the million-row suites (financed emissions 4.6 → 2.3 s).
    frame = (con.sql(f"SELECT {select} FROM ({rows}){sample}").fetch_arrow_table()
             .to_pandas(date_as_object=False, strings_to_categorical=True))
    scope.update({"rows_in_scope": in_scope, "rows_validated": len(frame), "sampled": bool(sample),
                  "suite_fingerprint": fingerprint(suite)})
    return frame, scope


DATA_DOCS_SITE = "lake"
DATA_SOURCE = "lake"  # the GX context's in-memory pandas data source: one data frame asset per suite
# Validation results the Data Docs index lists, newest first (30 suites a run: a month of daily runs). Each listed
# result is read to say whether it passed, so an unbounded index grew with every run; older results keep their
# pages, and every result stays in meta.quality_results.
DATA_DOCS_INDEX_LIMIT = 1000


def build_data_docs_index(settings: Settings) -> None:
    """The Data Docs index, listing every validation result kept. Rebuilt by the catalog after every transform run,
    not by each validation: GX's UpdateDataDocsAction rendered it for every suite (~0.7 s a suite, 20 s a run, and
    growing with the results kept, issue 9)."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    # an identifier no page has: GX builds the pages of the identifiers it is given, or every page if given none
    gx_context(settings).build_data_docs(site_names=[DATA_DOCS_SITE], build_index=True, resource_identifiers=[
        ExpectationSuiteIdentifier(name="_index_only")])


def data_docs_dir(settings: Settings) -> Path:
    """Great Expectations' Data Docs of every validated mart (static HTML; the API serves it at /data-docs/)."""
    return settings.root / "lakehouse" / "data_docs"


_CONTEXTS: dict[Path, Any] = {}
_CONTEXTS_LOCK = threading.Lock()


def gx_context(settings: Settings):
    """A context whose suites and validation results are files beside the lake, so each validation adds its
    result to one Data Docs site. Nothing else of GX is configured: suites live in pipelines/quality/suites.
    One per lake and process: making one (and its Data Docs templates) costs about a second."""
    root = settings.root / "lakehouse" / "gx"
    with _CONTEXTS_LOCK:  # made on a thread while dbt runs (side_by_side), and asked for by the steps
        if root not in _CONTEXTS:
            _CONTEXTS[root] = _new_context(settings)
        return _CONTEXTS[root]


def _view(name: str) -> dict[str, str]:
    return {"module_name": "pipelines.quality.data_docs_views", "class_name": name}


def _new_context(settings: Settings):
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        FilesystemStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=FilesystemStoreBackendDefaults(root_directory=str(settings.root / "lakehouse" / "gx")),
        data_docs_sites={DATA_DOCS_SITE: {
            "class_name": "SiteBuilder", "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(data_docs_dir(settings))},
            # an index that reads each stored validation result once per process, not once per validation, and
            # lists the newest DATA_DOCS_INDEX_LIMIT: the catalog rebuilds it each run, in a new process
            "site_index_builder": {**_view("IndexBuilder"), "view": _view("IndexPageView"),
                                   "validation_results_limit": DATA_DOCS_INDEX_LIMIT},
            # views that compile their templates once per process, not once per validation, built by a section
            # builder that reads the pages' keys, not every key of its store
            "site_section_builders": {section: {**_view("SectionBuilder"), "view": _view("PageView")}
                                      for section in ("expectations", "validations", "profiling")}}},
        progress_bars=ProgressBarsConfig(globally=False),
    )
    # Validation definitions name the run's in-memory data source: remade every run, never kept (a kept one would
    # point at a data source that no longer exists).
    config.stores["validation_definition_store"]["store_backend"] = {"class_name": "InMemoryStoreBackend"}
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.data_sources.add_pandas(DATA_SOURCE)
    return context


_DEFINITIONS: dict[tuple[int, str], tuple[str, Any]] = {}  # (context, suite) → (suite's fingerprint, definition)


def validation_definition(context, suite: Suite):
    """The suite's validation definition in ``context``, made once per process and version of the suite; its batch is
    the data frame passed to each run. Run directly, not through a checkpoint: a checkpoint adds no action here (the
    Data Docs pages are built by ``validate``) but compares itself with its stored copy before each run, ~17 ms a
    suite (issue 9). Made with GX's ``add``: its ``add_or_update`` compares every expectation with every stored one
    and saves the suite again, ~0.17 s a suite and transform run."""
    import great_expectations as gx

    key, version = (id(context), suite.name), fingerprint(suite)
    if _DEFINITIONS.get(key, (None,))[0] != version:
        datasource = context.data_sources.get(DATA_SOURCE)
        if suite.name in datasource.get_asset_names():  # an earlier version of the suite, in this process
            datasource.delete_asset(suite.name)
        batch_definition = datasource.add_dataframe_asset(suite.name).add_batch_definition_whole_dataframe("frame")
        _DEFINITIONS[key] = version, _replace(context.validation_definitions, gx.ValidationDefinition(
            name=suite.name, data=batch_definition, suite=_stored_suite(context, suite, version)))
    return _DEFINITIONS[key][1]


def _stored_suite(context, suite: Suite, version: str):
    """The GX suite as stored beside the lake (its Data Docs page is rendered from there), stored again only when
    the suite changed: its fingerprint (``version``) is kept in the suite's meta."""
    import great_expectations as gx

    stored = _get(context.suites, suite.name)
    if stored is not None and stored.meta.get("fingerprint") == version:
        return stored
    return _replace(context.suites, gx.ExpectationSuite(
        name=suite.name, expectations=[_expectation(e) for e in suite.expectations],
        meta={"fingerprint": version}))


def _get(collection, name: str):
    from great_expectations.exceptions import DataContextError

    try:
        return collection.get(name)
    except DataContextError:
        return None


def _replace(collection, item):
    """``item`` added to a GX collection (suites, validation definitions) in place of its namesake."""
    if _get(collection, item.name) is not None:
        collection.delete(item.name)
    return collection.add(item)


def validate(settings: Settings, suite: Suite) -> SuiteResult:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage statistics leave the machine
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    logging.getLogger("great_expectations").setLevel(logging.WARNING)

    with reader(settings) as con:
        snapshot = current_snapshot(con)
        since = last_pass(con, suite)
        if since is None:
            frame, scope = read_frame(con, suite, settings.gx_max_rows, snapshot)
        else:
            # what changed since the pass, counted in one scan before anything is read: an unchanged mart reads nothing
            changed, deleted = changes_since(con, suite, since, snapshot)
            if changed:
                frame, scope = read_frame(con, suite, settings.gx_max_rows, snapshot, since, changed)
            elif not deleted:  # the very rows it passed on: nothing to validate again
                return SuiteResult(suite.name, suite.dataset, snapshot, True, 0, [], {
                    "rows": "changed", "since_snapshot": since, "rows_in_scope": 0, "rows_validated": 0,
                    "sampled": False, "suite_fingerprint": fingerprint(suite), "unchanged": True})
            else:  # rows deleted, none added: maybe now empty
                frame, scope = read_frame(con, suite, settings.gx_max_rows, snapshot)
    context = gx_context(settings)
    run_id = RunIdentifier(run_time=datetime.now(UTC))
    # the validation stores its result under this identifier (as GX's checkpoint names it)
    outcome = validation_definition(context, suite).run(batch_parameters={"dataframe": frame}, run_id=run_id)
    result_id = ValidationResultIdentifier(expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
                                           run_id=run_id, batch_identifier=outcome.batch_id)
    # this result's page and the suite's; the index that lists them all is built once a run (build_data_docs_index)
    context.build_data_docs(site_names=[DATA_DOCS_SITE], build_index=False,
                            resource_identifiers=[result_id, ExpectationSuiteIdentifier(name=suite.name)])
    failed = [
        {"expectation": r.expectation_config.type, "kwargs": {k: v for k, v in r.expectation_config.kwargs.items()
                                                               if k != "batch_id"},
         "observed": r.result.get("observed_value", r.result.get("unexpected_count"))}
        for r in outcome.results if not r.success
    ]
    return SuiteResult(suite.name, suite.dataset, snapshot, bool(outcome.success), len(outcome.results), failed,
                       scope)


def record(settings: Settings, result: SuiteResult) -> None:
    """Keep a result; a dataset unchanged since its suite passed keeps that result (and its snapshot, which
    publication compares against): nothing is written."""
    if result.scope.get("unchanged"):
        return
    with writer(settings, purpose=f"quality result {result.dataset}") as con:
        con.execute(
            "INSERT INTO meta.quality_results (dataset, suite, passed, expectations_evaluated, expectations_failed, "
            "details, snapshot_id, evaluated_at, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [result.dataset, f"great_expectations:{result.suite}", result.passed, result.evaluated,
             len(result.failed), json.dumps(result.failed, ensure_ascii=False, default=str),
             result.snapshot_id, datetime.now(UTC), json.dumps(result.scope)])
