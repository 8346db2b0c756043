"""The catalog's lineage as OpenLineage events, sent to a file (JSON lines) or an HTTP endpoint (Marquez, DataHub …).

Every dataset-producing step becomes a job with one run: ``ingest.<contract>`` writes ``raw.*`` and
``quarantine.*``, ``dbt.<model>`` writes ``staging.*``, ``intermediate.*`` and ``marts.*``, and
``publish.<mart>`` writes ``published.*``. The events describe the lake as the catalog recorded it (after the
fact), so they are built from the ``meta.catalog_*`` tables, not from inside the steps.

Naming. OpenLineage names a database table ``<scheme>://<host>:<port>`` + ``<db>.<schema>.<table>``; an
embedded DuckLake has no host, so the namespace is a configured name (``lakehouse`` by default) and a dataset's
name is the catalog's own ``<schema>.<table>``: a consumer joins events to the catalog without translation.
The delivered files keep their catalog name ``landing.<contract>`` in the same namespace; where they physically
are (``file`` + path, or ``s3://bucket`` + key, the spec's file-system naming) is a ``symlinks`` identifier.
Jobs live in the same namespace as the datasets.
"""

from __future__ import annotations

import graphlib
import importlib.metadata
import os
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import duckdb
from openlineage.client import OpenLineageClient
from openlineage.client.constants import __version__ as OPENLINEAGE_CLIENT_VERSION
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    data_quality_metrics_input_dataset,
    dataset_type_dataset,
    dataset_version_dataset,
    datasource_dataset,
    documentation_dataset,
    documentation_job,
    job_type_job,
    output_statistics_output_dataset,
    ownership_dataset,
    ownership_job,
    parent_run,
    processing_engine_run,
    schema_dataset,
    sql_job,
    symlinks_dataset,
    tags_dataset,
)
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport, TokenProvider
from openlineage.client.transport.http_common import DEFAULT_RETRY_CONFIG
from openlineage.client.uuid import generate_static_uuid

ENGINE = "lakehouse-green-finance"
# The spec wants a URI naming the code that produced the metadata; the project has no public URL, a URN does.
PRODUCER = f"urn:{ENGINE}:catalog"
DEFAULT_NAMESPACE = "lakehouse"
DEFAULT_PARENT_JOB = "lakehouse_run"
TRANSPORTS = ("file", "http", "none")
LINEAGE_ENDPOINT = "api/v1/lineage"  # OpenLineage's HTTP API, relative to the configured URL (Marquez serves it)

# Column edges carry OpenLineage's transformation names; the first three are DIRECT with that subtype.
DIRECT_SUBTYPES = ("IDENTITY", "TRANSFORMATION", "AGGREGATION")
TABLE_EDGE = "TABLE"

# Where the classification tags on columns come from.
CLASSIFICATION_SOURCE = "JR/T 0197-2020"
PERSONAL_INFORMATION_SOURCE = "JR/T 0171-2020"

ENV_URL = "LAKEHOUSE_OPENLINEAGE_URL"
ENV_FILE = "LAKEHOUSE_OPENLINEAGE_FILE"
ENV_API_KEY = "LAKEHOUSE_OPENLINEAGE_API_KEY"
ENV_NAMESPACE = "LAKEHOUSE_OPENLINEAGE_NAMESPACE"
ENV_TIMEOUT = "LAKEHOUSE_OPENLINEAGE_TIMEOUT"


class LineageConfigError(ValueError):
    pass


class LineageEmitError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class LineageConfig:
    transport: str  # "file" | "http" | "none"
    path: str | None = None  # file: JSON lines, one event per line, appended
    url: str | None = None  # http: the endpoint's base URL; events go to <url>/api/v1/lineage
    api_key: str | None = field(default=None, repr=False)  # sent as a bearer token; never printed
    timeout: float = 5.0  # seconds per HTTP request
    # A dead endpoint should cost a run a second, not the client's default half minute of back-off.
    retries: int = 2
    namespace: str = DEFAULT_NAMESPACE

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORTS:
            raise LineageConfigError(f"OpenLineage transport {self.transport!r} is not one of {', '.join(TRANSPORTS)}")
        if self.transport == "file" and not self.path:
            raise LineageConfigError("OpenLineage file transport needs a path")
        if self.transport == "http" and not (self.url and self.url.startswith(("http://", "https://"))):
            raise LineageConfigError(f"OpenLineage HTTP transport needs an http(s) URL, got {self.url!r}")
        if self.timeout <= 0:
            raise LineageConfigError(f"OpenLineage timeout must be positive, got {self.timeout}")


def lineage_config_from_env(environ: Mapping[str, str] | None = None) -> LineageConfig:
    """LAKEHOUSE_OPENLINEAGE_URL (HTTP) or LAKEHOUSE_OPENLINEAGE_FILE (JSON lines), never both; neither: no lineage.

    Empty values count as unset, so ``LAKEHOUSE_OPENLINEAGE_URL=`` in a compose file switches lineage off.
    """
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        return (env.get(name) or "").strip() or None

    url, path = get(ENV_URL), get(ENV_FILE)
    namespace = get(ENV_NAMESPACE) or DEFAULT_NAMESPACE
    if url and path:
        raise LineageConfigError(
            f"both {ENV_URL} and {ENV_FILE} are set: choose one OpenLineage destination (unset the other)")
    timeout = _timeout_from_env(get(ENV_TIMEOUT))
    if url:
        return LineageConfig("http", url=url, api_key=get(ENV_API_KEY), timeout=timeout, namespace=namespace)
    if path:
        return LineageConfig("file", path=path, namespace=namespace)
    return LineageConfig("none", namespace=namespace)


def _timeout_from_env(value: str | None) -> float:
    if value is None:
        return LineageConfig.timeout
    try:
        return float(value)
    except ValueError:
        raise LineageConfigError(f"{ENV_TIMEOUT} must be a number of seconds, got {value!r}") from None


# ---------------------------------------------------------------------------------------------------------------
# Emitting


def emit(events: Iterable[RunEvent], config: LineageConfig) -> int:
    """Send the events in order through the official client's transport; returns how many were sent.

    A destination that fails raises LineageEmitError naming it; the caller decides whether that fails its run.
    """
    events = list(events)
    if config.transport == "none" or not events:
        return 0
    client = OpenLineageClient(transport=_transport(config))
    if client.transport.kind == "noop":  # OPENLINEAGE_DISABLED=true switches the client off
        return 0
    try:
        for event in events:
            try:
                client.emit(event)
            except Exception as exc:
                raise LineageEmitError(
                    f"could not send OpenLineage event to {_destination(config)}: {type(exc).__name__}: {exc}"
                ) from exc
    finally:
        client.close()
    return len(events)


def _transport(config: LineageConfig) -> FileTransport | HttpTransport:
    if config.transport == "file":
        Path(config.path).parent.mkdir(parents=True, exist_ok=True)
        return FileTransport(FileConfig(log_file_path=config.path, append=True))
    retry = {**DEFAULT_RETRY_CONFIG, "total": config.retries, "connect": config.retries, "read": config.retries}
    auth = ApiKeyTokenProvider({"api_key": config.api_key}) if config.api_key else TokenProvider({})
    return HttpTransport(HttpConfig(
        url=config.url, endpoint=LINEAGE_ENDPOINT, timeout=config.timeout, auth=auth, retry=retry))


def _destination(config: LineageConfig) -> str:
    if config.transport == "file":
        return f"file {config.path}"
    return urljoin(config.url, LINEAGE_ENDPOINT)  # the URL the transport posts to


# ---------------------------------------------------------------------------------------------------------------
# Reading the catalog


@dataclass
class CatalogView:
    """What the events need from the catalog: datasets by name, their columns, and the lineage edges."""

    datasets: dict[str, dict[str, Any]]
    columns: dict[str, list[dict[str, Any]]]
    edges: list[dict[str, Any]]


def read_catalog(con: duckdb.DuckDBPyConnection) -> CatalogView:
    datasets = {row["dataset"]: row for row in _rows(con, """
        SELECT dataset, layer, kind, description, owner, domain, location, contract, contract_version,
               row_count, snapshot_id, last_loaded_at, quality
        FROM meta.catalog_datasets""")}
    columns: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _rows(con, """
            SELECT dataset, column_name, ordinal, coalesce(data_type, declared_type) AS data_type, description,
                   classification, personal_information
            FROM meta.catalog_columns ORDER BY dataset, ordinal"""):
        columns[row["dataset"]].append(row)
    edges = _rows(con, """
        SELECT DISTINCT downstream, downstream_column, upstream, upstream_column,
               upper(transformation) AS transformation
        FROM meta.catalog_lineage
        ORDER BY downstream, downstream_column NULLS FIRST, upstream, upstream_column NULLS FIRST""")
    return CatalogView(datasets, dict(columns), edges)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# ---------------------------------------------------------------------------------------------------------------
# Building the events


@dataclass
class Step:
    """A job: the step that writes ``outputs`` from ``inputs``."""

    name: str
    outputs: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)


def lineage_events(
    con: duckdb.DuckDBPyConnection,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    run_id: str | None = None,
    event_time: datetime | None = None,
    parent_job: str = DEFAULT_PARENT_JOB,
    sql: Mapping[str, str] | None = None,
) -> list[RunEvent]:
    """A START and a COMPLETE event for each dataset-producing step, upstream steps first.

    ``run_id`` (the orchestrator's run, e.g. Dagster's) becomes every step run's parent, under the job
    ``parent_job``. ``sql`` maps a dataset to the SQL that builds it (a dbt model's compiled code), sent as the
    step's sql facet. Run ids are derived from the event time, the parent run and the step, so building the
    events twice for the same run gives the same ids and a consumer merges rather than duplicates them.
    """
    catalog = read_catalog(con)
    event_time = _aware(event_time or datetime.now(UTC))
    parent_run_id = _as_uuid(run_id) if run_id else None
    builder = _EventBuilder(catalog, namespace, sql or {})
    events: list[RunEvent] = []
    for step in _ordered(_steps(catalog)):
        step_run_id = str(generate_static_uuid(event_time, f"{parent_run_id or ''}/{step.name}".encode()))
        # The spec asks for one START and one terminal event per run, and Marquez builds a run's state and
        # duration from the pair (a lone COMPLETE leaves the run without a start). The steps already ran
        # when the catalog is built, so both carry the catalog's time; START only names the datasets, COMPLETE
        # carries every facet, so a consumer that reads only COMPLETE events (DataHub) misses nothing.
        events.append(RunEvent(
            eventType=RunState.START, eventTime=event_time.isoformat(), producer=PRODUCER,
            run=Run(runId=step_run_id, facets=_run_facets(namespace, parent_job, parent_run_id)),
            job=Job(namespace=namespace, name=step.name),
            inputs=[InputDataset(namespace, name) for name in step.inputs],
            outputs=[OutputDataset(namespace, name) for name in step.outputs],
        ))
        events.append(RunEvent(
            eventType=RunState.COMPLETE, eventTime=event_time.isoformat(), producer=PRODUCER,
            run=Run(runId=step_run_id, facets=_run_facets(namespace, parent_job, parent_run_id)),
            job=Job(namespace=namespace, name=step.name, facets=builder.job_facets(step)),
            inputs=[builder.input_dataset(name) for name in step.inputs],
            outputs=[builder.output_dataset(name) for name in step.outputs],
        ))
    return events


def step_name(dataset: str, catalog: CatalogView) -> str:
    """The job that writes a dataset, named after the step: ingest.<contract>, dbt.<model>, publish.<mart>."""
    schema, _, table = dataset.partition(".")
    if schema in ("raw", "quarantine"):
        return f"ingest.{_contract_of(dataset, catalog)}"
    if schema in ("staging", "intermediate", "marts"):
        return f"dbt.{table}"
    if schema == "published":
        return f"publish.{table}"
    return f"build.{dataset}"  # meta.* and anything new: named after what it builds, never dropped


def _contract_of(dataset: str, catalog: CatalogView) -> str:
    """A raw or quarantine table's contract: the catalog's, else the landing dataset it was loaded from."""
    contract = (catalog.datasets.get(dataset) or {}).get("contract")
    if contract:
        return contract
    landing = sorted(e["upstream"] for e in catalog.edges if e["downstream"] == dataset
                     and e["upstream"].startswith("landing."))
    return landing[0].split(".", 1)[1] if landing else dataset.split(".", 1)[1]


def _steps(catalog: CatalogView) -> list[Step]:
    """One step per job name; ingest.<contract> writes both the raw and the quarantine table."""
    upstreams: dict[str, set[str]] = defaultdict(set)
    for edge in catalog.edges:
        upstreams[edge["downstream"]].add(edge["upstream"])
    steps: dict[str, Step] = {}
    for dataset in sorted(upstreams):
        name = step_name(dataset, catalog)
        steps.setdefault(name, Step(name)).outputs.append(dataset)
    for step in steps.values():
        step.inputs = sorted(set().union(*(upstreams[o] for o in step.outputs)) - set(step.outputs))
    return list(steps.values())


def _ordered(steps: list[Step]) -> list[Step]:
    """Upstream steps first, so a consumer has seen a dataset written before it sees it read."""
    writer_of = {output: step.name for step in steps for output in step.outputs}
    graph = graphlib.TopologicalSorter()
    for step in sorted(steps, key=lambda s: s.name):
        graph.add(step.name, *sorted({writer_of[i] for i in step.inputs if i in writer_of} - {step.name}))
    by_name = {step.name: step for step in steps}
    try:
        return [by_name[name] for name in graph.static_order()]
    except graphlib.CycleError:  # a cycle is the catalog's bug to report, not a reason to send nothing
        return sorted(steps, key=lambda s: s.name)


def _run_facets(namespace: str, parent_job: str, parent_run_id: str | None) -> dict[str, Any]:
    facets: dict[str, Any] = {"processing_engine": processing_engine_run.ProcessingEngineRunFacet(
        version=_engine_version(), name=ENGINE, openlineageAdapterVersion=OPENLINEAGE_CLIENT_VERSION,
        producer=PRODUCER)}
    if parent_run_id:
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=parent_run_id), job=parent_run.Job(namespace=namespace, name=parent_job),
            root=parent_run.Root(run=parent_run.RootRun(runId=parent_run_id),
                                 job=parent_run.RootJob(namespace=namespace, name=parent_job)),
            producer=PRODUCER)
    return facets


class _EventBuilder:
    """Facets of jobs and datasets, from the catalog's rows."""

    def __init__(self, catalog: CatalogView, namespace: str, sql: Mapping[str, str]) -> None:
        self.catalog = catalog
        self.namespace = namespace
        self.sql = sql

    def job_facets(self, step: Step) -> dict[str, Any]:
        kind = step.name.split(".", 1)[0]
        facets: dict[str, Any] = {
            # dbt models are the dbt integration's MODEL jobs; the other steps are Dagster assets.
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH", integration="DBT" if kind == "dbt" else "DAGSTER",
                jobType="MODEL" if kind == "dbt" else "ASSET", producer=PRODUCER),
            "documentation": documentation_job.DocumentationJobFacet(
                description=_job_description(step), producer=PRODUCER),
        }
        owners = sorted({o for o in (self._row(d).get("owner") for d in step.outputs) if o})
        if owners:
            facets["ownership"] = ownership_job.OwnershipJobFacet(
                owners=[ownership_job.Owner(name=_owner_urn(o), type="MAINTAINER") for o in owners],
                producer=PRODUCER)
        queries = [self.sql[d] for d in step.outputs if self.sql.get(d)]
        if queries:
            facets["sql"] = sql_job.SQLJobFacet(query=";\n".join(queries), dialect="duckdb", producer=PRODUCER)
        return facets

    def input_dataset(self, name: str) -> InputDataset:
        row = self._row(name)
        input_facets: dict[str, Any] = {}
        if row.get("row_count") is not None:
            input_facets["dataQualityMetrics"] = data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
                columnMetrics={}, rowCount=row["row_count"], lastUpdated=_iso(row.get("last_loaded_at")),
                producer=PRODUCER)
        return InputDataset(self.namespace, name, facets=self.dataset_facets(name), inputFacets=input_facets)

    def output_dataset(self, name: str) -> OutputDataset:
        row = self._row(name)
        facets = self.dataset_facets(name)
        column_lineage = self.column_lineage(name)
        if column_lineage:
            facets["columnLineage"] = column_lineage
        output_facets: dict[str, Any] = {}
        if row.get("row_count") is not None:
            output_facets["outputStatistics"] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=row["row_count"], producer=PRODUCER)
        return OutputDataset(self.namespace, name, facets=facets, outputFacets=output_facets)

    def dataset_facets(self, name: str) -> dict[str, Any]:
        row = self._row(name)
        columns = self.catalog.columns.get(name, [])
        facets: dict[str, Any] = {
            "dataSource": datasource_dataset.DatasourceDatasetFacet(name=self.namespace, producer=PRODUCER),
            "datasetType": dataset_type_dataset.DatasetTypeDatasetFacet(
                datasetType=_dataset_type(name, row), producer=PRODUCER),
        }
        if columns:
            facets["schema"] = schema_dataset.SchemaDatasetFacet(fields=[
                schema_dataset.SchemaDatasetFacetFields(
                    name=c["column_name"], type=c["data_type"], description=c["description"],
                    ordinal_position=c["ordinal"])
                for c in columns], producer=PRODUCER)
        if row.get("description"):
            facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(
                description=row["description"], producer=PRODUCER)
        if row.get("owner"):
            facets["ownership"] = ownership_dataset.OwnershipDatasetFacet(
                owners=[ownership_dataset.Owner(name=_owner_urn(row["owner"]), type="MAINTAINER")], producer=PRODUCER)
        if row.get("snapshot_id") is not None:  # the DuckLake snapshot that holds this version of the table
            facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
                datasetVersion=str(row["snapshot_id"]), producer=PRODUCER)
        location = _location_identifier(row.get("location")) if name.startswith("landing.") else None
        if location:
            facets["symlinks"] = symlinks_dataset.SymlinksDatasetFacet(
                identifiers=[symlinks_dataset.Identifier(namespace=location[0], name=location[1], type="FILE")],
                producer=PRODUCER)
        tags = _tags(row, columns)
        if tags:
            facets["tags"] = tags_dataset.TagsDatasetFacet(tags=tags, producer=PRODUCER)
        return facets

    def column_lineage(self, name: str) -> column_lineage_dataset.ColumnLineageDatasetFacet | None:
        """Direct edges per output column; INDIRECT edges on a column or, without one, on the whole dataset."""
        fields: dict[str, list[column_lineage_dataset.InputField]] = {}
        whole_dataset: list[column_lineage_dataset.InputField] = []
        ordinal = {c["column_name"]: c["ordinal"] for c in self.catalog.columns.get(name, [])}
        edges = [e for e in self.catalog.edges if e["downstream"] == name and e["upstream_column"]
                 and e["transformation"] != TABLE_EDGE]
        for edge in sorted(edges, key=lambda e: (ordinal.get(e["downstream_column"], 1 << 30),
                                                 e["downstream_column"] or "")):
            input_field = column_lineage_dataset.InputField(
                namespace=self.namespace, name=edge["upstream"], field=edge["upstream_column"],
                transformations=[_transformation(edge["transformation"])])
            if edge["downstream_column"]:
                fields.setdefault(edge["downstream_column"], []).append(input_field)
            else:
                whole_dataset.append(input_field)
        if not fields and not whole_dataset:
            return None
        return column_lineage_dataset.ColumnLineageDatasetFacet(
            fields={column: column_lineage_dataset.Fields(inputFields=inputs) for column, inputs in fields.items()},
            dataset=whole_dataset, producer=PRODUCER)

    def _row(self, name: str) -> dict[str, Any]:
        return self.catalog.datasets.get(name) or {}


def _transformation(kind: str) -> column_lineage_dataset.Transformation:
    if kind in DIRECT_SUBTYPES:
        return column_lineage_dataset.Transformation(type="DIRECT", subtype=kind)
    if kind == "INDIRECT":
        return column_lineage_dataset.Transformation(type="INDIRECT")
    # A transformation the catalog learned later (e.g. FILTER): OpenLineage's indirect subtypes are upper-case words.
    return column_lineage_dataset.Transformation(type="INDIRECT", subtype=kind)


def _tags(row: dict[str, Any], columns: list[dict[str, Any]]) -> list[tags_dataset.TagsDatasetFacetFields]:
    """Layer, domain, contract and quality on the dataset; each column's security and personal-information levels."""
    tags = [tags_dataset.TagsDatasetFacetFields(key=key, value=str(row[key]), source="catalog")
            for key in ("layer", "domain", "quality") if row.get(key)]
    if row.get("contract"):
        version = f"@{row['contract_version']}" if row.get("contract_version") else ""
        tags.append(tags_dataset.TagsDatasetFacetFields(
            key="contract", value=f"{row['contract']}{version}", source="catalog"))
    for column in columns:
        if column.get("classification"):
            tags.append(tags_dataset.TagsDatasetFacetFields(
                key="classification", value=column["classification"], source=CLASSIFICATION_SOURCE,
                field=column["column_name"]))
        if column.get("personal_information"):
            tags.append(tags_dataset.TagsDatasetFacetFields(
                key="personal_information", value=column["personal_information"],
                source=PERSONAL_INFORMATION_SOURCE, field=column["column_name"]))
    return tags


def _job_description(step: Step) -> str:
    kind, _, subject = step.name.partition(".")
    outputs = ", ".join(step.outputs)
    if kind == "ingest":
        return f"Loads the delivered files of contract {subject} into {outputs} (rejected rows to quarantine)."
    if kind == "dbt":
        return f"dbt model {subject}: builds {outputs} from {', '.join(step.inputs)}."
    if kind == "publish":
        return f"Publishes the validated mart {subject} as {outputs}."
    return f"Builds {outputs}."


def _dataset_type(name: str, row: dict[str, Any]) -> str:
    kind = (row.get("kind") or "").lower()
    if name.startswith("landing.") or "file" in kind:
        return "FILE"
    return "VIEW" if "view" in kind else "TABLE"


def _location_identifier(location: str | None) -> tuple[str, str] | None:
    """A location as OpenLineage names files: ``s3://bucket`` + key, or ``file`` + absolute path."""
    if not location:
        return None
    scheme, sep, rest = location.partition("://")
    if sep and scheme != "file":
        bucket, _, key = rest.partition("/")
        return f"{scheme}://{bucket}", key
    path = rest if sep else location
    return ("file", path) if path.startswith("/") else None


def _owner_urn(owner: str) -> str:
    """OpenLineage recommends owners as URNs (team:data); the catalog's owners are team names."""
    return owner if ":" in owner else f"team:{owner}"


def _as_uuid(run_id: str) -> str:
    """Run ids must be UUIDs. Dagster's are; any other id maps to a stable UUID rather than failing the run."""
    try:
        return str(uuid.UUID(run_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{PRODUCER}:{run_id}"))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return _aware(moment).isoformat() if moment else None


def _engine_version() -> str:
    try:
        return importlib.metadata.version(ENGINE)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
