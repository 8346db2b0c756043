"""The catalog's lineage as OpenLineage events: built from a catalog in a real lake, written to a JSON-lines file
and POSTed to a real local HTTP server."""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest
from openlineage.client.event_v2 import RunEvent

from pipelines import settings as settings_module
from pipelines.catalog.openlineage import (
    LineageConfig,
    LineageConfigError,
    LineageEmitError,
    emit,
    lineage_config_from_env,
    lineage_events,
)
from pipelines.catalog.tables import TABLES
from pipelines.lake.connection import ensure_schemas, reader, writer

NAMESPACE = "lakehouse"
RUN_ID = "5f0c3c1e-2b7a-4c1e-9a55-0d6f3f1a7e21"  # a Dagster run id
EVENT_TIME = datetime(2024, 3, 5, 2, 0, tzinfo=UTC)
BUILT_AT = "2024-03-05 02:00:00+00"
MART = "marts.fct_green_loan_balance_monthly"

# landing -> raw (+ quarantine) -> staging -> marts -> published; meta.ingestion_log has no upstream.
DATASETS = [
    {"dataset": "landing.bank_loans", "layer": "landing", "kind": "files", "description": "Loan files from banks",
     "owner": "bank-data-owner", "contract": "bank_loans", "contract_version": "1.0.0",
     "location": "/srv/lake/landing/bank_loans/*/*.xlsx"},
    {"dataset": "raw.bank__loans", "layer": "raw", "kind": "table", "description": "Loans as delivered, typed",
     "owner": "bank-data-owner", "contract": "bank_loans", "contract_version": "1.0.0", "row_count": 120,
     "snapshot_id": 7},
    {"dataset": "quarantine.bank__loans", "layer": "quarantine", "kind": "table", "contract": "bank_loans",
     "row_count": 3},
    {"dataset": "staging.stg_bank__loans", "layer": "staging", "kind": "view", "description": "Loans, renamed",
     "owner": "bank-data-owner"},
    {"dataset": MART, "layer": "marts", "kind": "table", "description": "Green loan balance per month",
     "owner": "green-finance-office", "row_count": 6, "snapshot_id": 9, "quality": "passed"},
    {"dataset": "published.fct_green_loan_balance_monthly", "layer": "published", "kind": "table",
     "owner": "green-finance-office"},
    {"dataset": "meta.ingestion_log", "layer": "meta", "kind": "table"},
]
COLUMNS = [
    ("landing.bank_loans", "贷款编号", "VARCHAR", "L3", None),
    ("landing.bank_loans", "贷款余额", "VARCHAR", "L3", None),
    ("landing.bank_loans", "借款人证件号", "VARCHAR", "L4", "C3"),
    ("raw.bank__loans", "loan_id", "VARCHAR", "L3", None),
    ("raw.bank__loans", "balance", "DECIMAL(18,2)", "L3", None),
    ("raw.bank__loans", "borrower_id_number", "VARCHAR", "L4", "C3"),
    ("raw.bank__loans", "is_green", "BOOLEAN", "L2", None),
    ("staging.stg_bank__loans", "loan_id", "VARCHAR", "L3", None),
    ("staging.stg_bank__loans", "balance_cny", "DECIMAL(18,2)", "L3", None),
    ("staging.stg_bank__loans", "is_green", "BOOLEAN", "L2", None),
    (MART, "month", "DATE", "L2", None),
    (MART, "green_balance_cny", "DECIMAL(38,2)", "L2", None),
    ("published.fct_green_loan_balance_monthly", "month", "DATE", "L2", None),
    ("published.fct_green_loan_balance_monthly", "green_balance_cny", "DECIMAL(38,2)", "L2", None),
]
EDGES = [  # downstream, downstream_column, upstream, upstream_column, transformation
    ("raw.bank__loans", None, "landing.bank_loans", None, "TABLE"),
    ("raw.bank__loans", "loan_id", "landing.bank_loans", "贷款编号", "IDENTITY"),
    ("raw.bank__loans", "balance", "landing.bank_loans", "贷款余额", "TRANSFORMATION"),
    ("quarantine.bank__loans", None, "landing.bank_loans", None, "TABLE"),
    ("staging.stg_bank__loans", None, "raw.bank__loans", None, "TABLE"),
    ("staging.stg_bank__loans", "loan_id", "raw.bank__loans", "loan_id", "IDENTITY"),
    ("staging.stg_bank__loans", "balance_cny", "raw.bank__loans", "balance", "IDENTITY"),
    ("staging.stg_bank__loans", "is_green", "raw.bank__loans", "is_green", "IDENTITY"),
    (MART, None, "staging.stg_bank__loans", None, "TABLE"),
    (MART, "green_balance_cny", "staging.stg_bank__loans", "balance_cny", "AGGREGATION"),
    (MART, None, "staging.stg_bank__loans", "is_green", "INDIRECT"),  # the filter on green loans
    ("published.fct_green_loan_balance_monthly", None, MART, None, "TABLE"),
    ("published.fct_green_loan_balance_monthly", "green_balance_cny", MART, "green_balance_cny", "IDENTITY"),
]

# The parts of the OpenLineage 2-0-2 spec (OpenLineage.json and the facet schemas) these events use, transcribed:
# openlineage-python 1.54.0 does not ship the spec's JSON schema files.
FACET = {"type": "object", "required": ["_producer", "_schemaURL"],
         "properties": {"_producer": {"type": "string", "format": "uri"}, "_schemaURL": {"type": "string"}}}
FACETS = {"type": "object", "additionalProperties": FACET}
DATASET = {"type": "object", "required": ["namespace", "name"],
           "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}, "facets": FACETS,
                          "inputFacets": FACETS, "outputFacets": FACETS}}
INPUT_FIELD = {"type": "object", "required": ["namespace", "name", "field"], "properties": {
    "transformations": {"type": "array", "items": {"type": "object", "required": ["type"], "properties": {
        "type": {"enum": ["DIRECT", "INDIRECT"]}}}}}}
RUN_EVENT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["eventTime", "producer", "schemaURL", "run", "job"],
    "properties": {
        "eventType": {"enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
        "eventTime": {"type": "string", "format": "date-time"},
        "producer": {"type": "string", "format": "uri"},
        "schemaURL": {"type": "string", "format": "uri"},
        "run": {"type": "object", "required": ["runId"], "properties": {
            "runId": {"type": "string", "format": "uuid"}, "facets": FACETS}},
        "job": {"type": "object", "required": ["namespace", "name"], "properties": {
            "namespace": {"type": "string"}, "name": {"type": "string"}, "facets": FACETS}},
        "inputs": {"type": "array", "items": DATASET},
        "outputs": {"type": "array", "items": {**DATASET, "properties": {**DATASET["properties"], "facets": {
            **FACETS, "properties": {
                "schema": {**FACET, "properties": {"fields": {"type": "array", "items": {
                    "type": "object", "required": ["name"]}}}},
                "columnLineage": {**FACET, "required": ["fields", *FACET["required"]], "properties": {
                    "fields": {"type": "object", "additionalProperties": {
                        "type": "object", "required": ["inputFields"],
                        "properties": {"inputFields": {"type": "array", "items": INPUT_FIELD}}}},
                    "dataset": {"type": "array", "items": INPUT_FIELD}}},
            }}}}},
    },
}


def build_catalog(con) -> None:
    con.begin()  # one DuckLake snapshot, not one per insert
    for name in ("catalog_datasets", "catalog_columns", "catalog_lineage"):
        con.execute(f"CREATE TABLE IF NOT EXISTS meta.{name} ({TABLES[name]})")
        con.execute(f"DELETE FROM meta.{name}")
    for row in DATASETS:
        row = {"fqn": f"lake.{row['dataset']}", "built_at": BUILT_AT, **row}
        con.execute(f"INSERT INTO meta.catalog_datasets ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()))
    ordinals: dict[str, int] = {}
    for dataset, column, data_type, classification, personal in COLUMNS:
        ordinals[dataset] = ordinals.get(dataset, 0) + 1
        con.execute("INSERT INTO meta.catalog_columns (dataset, column_name, ordinal, data_type, classification, "
                    "personal_information) VALUES (?, ?, ?, ?, ?, ?)",
                    [dataset, column, ordinals[dataset], data_type, classification, personal])
    con.executemany("INSERT INTO meta.catalog_lineage VALUES (?, ?, ?, ?, ?, 'test')", EDGES)
    con.commit()


@pytest.fixture(scope="module")
def catalog_lake(tmp_path_factory: pytest.TempPathFactory) -> settings_module.Settings:
    """A real DuckLake holding only the catalog's tables, shared by the module: opening a lake session costs
    a second or more, and no test here writes to it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKEHOUSE_ROOT", str(tmp_path_factory.mktemp("lineage")))
        for var in ("LAKEHOUSE_CATALOG", "LAKEHOUSE_DATA_PATH", "LAKEHOUSE_LANDING", "LAKEHOUSE_LOCK_FILE"):
            mp.delenv(var, raising=False)
        settings = settings_module.load()
    with writer(settings) as con:
        ensure_schemas(con)
        build_catalog(con)
    return settings


@pytest.fixture(scope="module")
def catalog_con(catalog_lake: settings_module.Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    with reader(catalog_lake) as con:
        yield con


@pytest.fixture(scope="module")
def built_events(catalog_con: duckdb.DuckDBPyConnection) -> list[RunEvent]:
    return lineage_events(catalog_con, namespace=NAMESPACE, run_id=RUN_ID, event_time=EVENT_TIME)


@pytest.fixture
def events(built_events: list[RunEvent]) -> list[RunEvent]:
    return copy.deepcopy(built_events)  # the client adds facets to the events it sends


def by_job(event_dicts: list[dict[str, Any]], event_type: str = "COMPLETE") -> dict[str, dict[str, Any]]:
    return {e["job"]["name"]: e for e in event_dicts if e["eventType"] == event_type}


def test_events_to_a_file_follow_the_spec_and_the_catalog(events, tmp_path: Path) -> None:
    path = tmp_path / "lineage" / "events.jsonl"  # the directory does not exist yet
    config = LineageConfig("file", path=str(path))

    assert emit(events, config) == len(events) == 8
    assert emit(events[:2], config) == 2  # appended, not overwritten
    lines = path.read_text().splitlines()
    assert len(lines) == 10
    written = [json.loads(line) for line in lines[:8]]
    validator = jsonschema.Draft202012Validator(RUN_EVENT_SCHEMA, format_checker=jsonschema.FormatChecker())
    for event in written:
        validator.validate(event)

    # One run per step, upstream steps first, a START then a COMPLETE; meta.ingestion_log has no step.
    jobs = [e["job"]["name"] for e in written]
    assert jobs[::2] == jobs[1::2] == ["ingest.bank_loans", "dbt.stg_bank__loans",
                                       "dbt.fct_green_loan_balance_monthly", "publish.fct_green_loan_balance_monthly"]
    assert [e["eventType"] for e in written] == ["START", "COMPLETE"] * 4
    assert all(a["run"]["runId"] == b["run"]["runId"] for a, b in zip(written[::2], written[1::2], strict=True))
    assert len({e["run"]["runId"] for e in written}) == 4
    for event in written:
        assert event["run"]["facets"]["parent"]["run"]["runId"] == RUN_ID
        assert event["run"]["facets"]["processing_engine"]["name"] == "lakehouse-green-finance"
        assert event["eventTime"].startswith("2024-03-05T02:00:00")

    complete = by_job(written)
    ingest = complete["ingest.bank_loans"]
    assert [d["name"] for d in ingest["inputs"]] == ["landing.bank_loans"]
    assert [d["name"] for d in ingest["outputs"]] == ["quarantine.bank__loans", "raw.bank__loans"]
    landing = ingest["inputs"][0]["facets"]
    assert landing["symlinks"]["identifiers"] == [
        {"namespace": "file", "name": "/srv/lake/landing/bank_loans/*/*.xlsx", "type": "FILE"}]
    assert {"key": "personal_information", "value": "C3", "source": "JR/T 0171-2020", "field": "借款人证件号"} \
        in landing["tags"]["tags"]
    raw = ingest["outputs"][1]
    assert raw["facets"]["columnLineage"]["fields"]["balance"]["inputFields"] == [{
        "namespace": NAMESPACE, "name": "landing.bank_loans", "field": "贷款余额",
        "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION"}]}]
    assert raw["outputFacets"]["outputStatistics"]["rowCount"] == 120
    assert raw["facets"]["version"]["datasetVersion"] == "7"

    mart_event = complete["dbt.fct_green_loan_balance_monthly"]
    assert [d["name"] for d in mart_event["inputs"]] == ["staging.stg_bank__loans"]
    mart = mart_event["outputs"][0]
    assert mart["name"] == MART
    assert [(f["name"], f["type"]) for f in mart["facets"]["schema"]["fields"]] == [
        ("month", "DATE"), ("green_balance_cny", "DECIMAL(38,2)")]
    lineage = mart["facets"]["columnLineage"]
    assert lineage["fields"] == {"green_balance_cny": {"inputFields": [{
        "namespace": NAMESPACE, "name": "staging.stg_bank__loans", "field": "balance_cny",
        "transformations": [{"type": "DIRECT", "subtype": "AGGREGATION"}]}]}}
    assert lineage["dataset"] == [{"namespace": NAMESPACE, "name": "staging.stg_bank__loans", "field": "is_green",
                                   "transformations": [{"type": "INDIRECT"}]}]
    assert mart["facets"]["documentation"]["description"] == "Green loan balance per month"
    assert mart["facets"]["ownership"]["owners"] == [{"name": "team:green-finance-office", "type": "MAINTAINER"}]
    assert mart_event["job"]["facets"]["jobType"]["integration"] == "DBT"
    staging_input = mart_event["inputs"][0]
    assert staging_input["facets"]["datasetType"]["datasetType"] == "VIEW"


def test_same_catalog_same_run_gives_the_same_run_ids(catalog_con: duckdb.DuckDBPyConnection) -> None:
    con = catalog_con
    first = lineage_events(con, namespace="huzhou", run_id=RUN_ID, event_time=EVENT_TIME)
    again = lineage_events(con, namespace="huzhou", run_id=RUN_ID, event_time=EVENT_TIME)
    other_run = lineage_events(con, namespace="huzhou", run_id=str(uuid.uuid4()), event_time=EVENT_TIME)
    no_parent = lineage_events(con, namespace="huzhou", event_time=EVENT_TIME)
    assert [e.run.runId for e in first] == [e.run.runId for e in again]
    assert not {e.run.runId for e in first} & {e.run.runId for e in other_run}
    assert {e.job.namespace for e in first} == {"huzhou"}
    assert all("parent" not in e.run.facets for e in no_parent)


class RecordingHandler(BaseHTTPRequestHandler):
    """Records every POST (path, headers, JSON body) and answers with the server's configured status."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, dict(self.headers), json.loads(body)))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def lineage_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    server.received, server.status = [], 201
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def server_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_events_are_posted_to_the_lineage_endpoint(events, lineage_server) -> None:
    config = LineageConfig("http", url=server_url(lineage_server), api_key="s3cret")

    assert emit(events, config) == 8

    assert [path for path, _, _ in lineage_server.received] == ["/api/v1/lineage"] * 8
    assert {headers["Authorization"] for _, headers, _ in lineage_server.received} == {"Bearer s3cret"}
    bodies = [body for _, _, body in lineage_server.received]
    assert [(b["job"]["name"], b["eventType"], b["run"]["runId"]) for b in bodies] == [
        (e.job.name, e.eventType.value, e.run.runId) for e in events]
    mart = by_job(bodies)["dbt.fct_green_loan_balance_monthly"]["outputs"][0]
    assert mart["facets"]["columnLineage"]["fields"]["green_balance_cny"]["inputFields"][0]["field"] == "balance_cny"
    assert "s3cret" not in repr(config)


def test_an_endpoint_that_rejects_events_is_a_clear_error(events, lineage_server) -> None:
    lineage_server.status = 400
    url = server_url(lineage_server)
    with pytest.raises(LineageEmitError, match=rf"{url}/api/v1/lineage.*400"):
        emit(events, LineageConfig("http", url=url))
    assert len(lineage_server.received) == 1  # the first failure stops the batch


def test_an_unreachable_endpoint_is_a_clear_error_and_fails_fast(events) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with pytest.raises(LineageEmitError, match=rf"could not send OpenLineage event to {url}/api/v1/lineage"):
        emit(events, LineageConfig("http", url=url, timeout=1))
    assert time.monotonic() - started < 10  # bounded retries, not the client's default half minute


def test_no_destination_sends_nothing(events) -> None:
    assert emit(events, LineageConfig("none")) == 0


def test_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert lineage_config_from_env({}) == LineageConfig("none")
    assert lineage_config_from_env({"LAKEHOUSE_OPENLINEAGE_URL": " "}).transport == "none"  # empty is unset

    http = lineage_config_from_env({"LAKEHOUSE_OPENLINEAGE_URL": "http://marquez:5000",
                                    "LAKEHOUSE_OPENLINEAGE_API_KEY": "k", "LAKEHOUSE_OPENLINEAGE_TIMEOUT": "2.5"})
    assert (http.transport, http.url, http.api_key, http.timeout, http.namespace) == (
        "http", "http://marquez:5000", "k", 2.5, "lakehouse")

    file = lineage_config_from_env({"LAKEHOUSE_OPENLINEAGE_FILE": "/tmp/ol.jsonl",
                                    "LAKEHOUSE_OPENLINEAGE_NAMESPACE": "huzhou"})
    assert (file.transport, file.path, file.namespace) == ("file", "/tmp/ol.jsonl", "huzhou")

    with pytest.raises(LineageConfigError, match="both LAKEHOUSE_OPENLINEAGE_URL and LAKEHOUSE_OPENLINEAGE_FILE"):
        lineage_config_from_env({"LAKEHOUSE_OPENLINEAGE_URL": "http://marquez:5000",
                                 "LAKEHOUSE_OPENLINEAGE_FILE": "/tmp/ol.jsonl"})
    with pytest.raises(LineageConfigError, match="http"):
        lineage_config_from_env({"LAKEHOUSE_OPENLINEAGE_URL": "marquez:5000"})
    with pytest.raises(LineageConfigError, match="LAKEHOUSE_OPENLINEAGE_TIMEOUT"):
        lineage_config_from_env({"LAKEHOUSE_OPENLINEAGE_FILE": "/tmp/ol.jsonl", "LAKEHOUSE_OPENLINEAGE_TIMEOUT": "x"})
    with pytest.raises(LineageConfigError, match="transport"):
        LineageConfig("kafka")

    monkeypatch.setenv("LAKEHOUSE_OPENLINEAGE_FILE", "/tmp/from-os.jsonl")
    monkeypatch.delenv("LAKEHOUSE_OPENLINEAGE_URL", raising=False)
    assert lineage_config_from_env().path == "/tmp/from-os.jsonl"  # os.environ by default
