"""dbt's test results recorded in ``meta.quality_results`` (suite ``dbt_test:<test>``), so the catalog shows the
latest result of every dbt test beside the contract checks and the Great Expectations suites.

A test that passed also leaves in ``meta.dbt_test_watermarks`` how far it read, so that the next build's test reads
only what came after (dbt_project/macros/tested_rows.sql):
- a generic test on a model tested by load time (meta ``tested_by_load_time``: the staging views): the newest load
  time the model held when it ran; next time it reads the rows loaded after it;
- a generic test on a model kept period by period (an incremental model): the lake snapshot it read; next time it
  reads the rows inserted after it (DuckLake's ``snapshot_id`` of each row), which are the periods rebuilt since;
- a singular test that declares the inputs of the periods it checks (meta ``tested_by_period``): both, and next time
  it checks the periods of its inputs' rows loaded or inserted after them.
One row per test, replaced: the table stays as small as the project's tests, where a filter over every result ever
kept would grow with each run. A singular test keeps its unique_id when its SQL is edited, so its row also holds
the SQL's checksum, and a row for other SQL is not used.

The pipeline hands dbt those watermarks as constants (``WATERMARKS_ENV``, read when a test runs, so partial parsing
is unaffected): a test filters on ``_loaded_at > '<timestamp>'`` or ``snapshot_id > <n>`` and DuckLake skips the
files before it, where a subquery on the table cost every test a read of it and left every file to be scanned.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from pipelines.lake.connection import current_snapshot, writer
from pipelines.lake.inspect import lake_objects
from pipelines.lake.sql import quote
from pipelines.settings import Settings


def tested_datasets(node: dict[str, Any], nodes: dict[str, Any]) -> list[str]:
    """The datasets a test is about: the model it is attached to, else every model a singular test reads."""
    targets = [node["attached_node"]] if node.get("attached_node") else node.get("depends_on", {}).get("nodes", [])
    return [f"{nodes[t]['schema']}.{nodes[t].get('alias') or nodes[t]['name']}" for t in targets
            if t in nodes and nodes[t]["resource_type"] in ("model", "seed", "snapshot")]


def load_time_column(node: Mapping[str, Any]) -> str | None:
    return node.get("config", {}).get("meta", {}).get("tested_by_load_time")


def period_inputs(node: Mapping[str, Any]) -> list[list]:
    """A singular test's declared inputs, [model name, period expression, load-time column or null] each."""
    return (node.get("config", {}).get("meta", {}).get("tested_by_period") or {}).get("inputs") or []


def load_time_inputs(node: Mapping[str, Any], nodes: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(model id, load-time column) of the models whose load time bounds what a test reads."""
    attached = node.get("attached_node")
    if attached:
        column = load_time_column(nodes.get(attached, {}))
        return [(attached, column)] if column else []
    return [(f"model.{node['package_name']}.{name}", column) for name, _period, column in period_inputs(node) if column]


def watermark_checksum(node: Mapping[str, Any], nodes: Mapping[str, Any]) -> str:
    """What a test's watermark holds for: its SQL (a singular test keeps its unique_id when edited) and the seeds it
    reads (a seed edited since the pass, such as a mapping of products to asset classes, may fail rows the test
    passed before: those are read again). A test that reads no seed keeps its SQL's checksum."""
    checksum = node.get("checksum", {}).get("checksum", "")
    seeds = sorted(f"{uid}={nodes[uid].get('checksum', {}).get('checksum', '')}"
                   for uid in node.get("depends_on", {}).get("nodes", [])
                   if nodes.get(uid, {}).get("resource_type") == "seed")
    return hashlib.sha256(" ".join([checksum, *seeds]).encode()).hexdigest() if seeds else checksum


def reads_since_snapshot(node: Mapping[str, Any], nodes: Mapping[str, Any]) -> bool:
    """Whether the test reads only what was inserted after the snapshot it last passed on: a generic test on an
    incremental model, or a singular test declaring its periods' inputs."""
    attached = nodes.get(node.get("attached_node") or "", {})
    return attached.get("config", {}).get("materialized") == "incremental" or bool(period_inputs(node))


# dbt_project/macros/tested_rows.sql reads it: {"load_time": {<timestamp>: "<hash> <hash> …"}, "snapshot": {<id>: …}},
# the tests by the hash that ends their unique_id, grouped by watermark (a few, however many tests), to stay far
# below an environment variable's size limit (128 KiB on Linux)
WATERMARKS_ENV = "LAKEHOUSE_DBT_TEST_WATERMARKS"


def watermarks_env(con, manifest: Mapping[str, Any]) -> str:
    """Every test's watermarks as WATERMARKS_ENV's value (read under the writer lock, before dbt runs); a test not
    in ``manifest``, or whose SQL or seeds changed since (``watermark_checksum``), has none."""
    grouped: dict[str, dict[str, list[str]]] = {"load_time": {}, "snapshot": {}}
    if ("meta", "dbt_test_watermarks", "table") in lake_objects(con):  # else a lake no pipeline run has built yet
        nodes = manifest.get("nodes", {})
        for test_id, through, snapshot, checksum in con.execute(
                "SELECT test_id, CAST(tested_through AS VARCHAR), tested_through_snapshot, coalesce(checksum, '') "
                "FROM meta.dbt_test_watermarks ORDER BY test_id").fetchall():
            if test_id not in nodes or watermark_checksum(nodes[test_id], nodes) != checksum:
                continue
            key = test_id.rsplit(".", 1)[-1]
            if through is not None:
                grouped["load_time"].setdefault(through, []).append(key)
            if snapshot is not None:
                grouped["snapshot"].setdefault(str(snapshot), []).append(key)
    return json.dumps({kind: {mark: " ".join(keys) for mark, keys in marks.items()}
                       for kind, marks in grouped.items()}, separators=(",", ":"))


def tested_through(con, manifest: Mapping[str, Any], run_results: Mapping[str, Any]) -> dict[str, str | None]:
    """The newest load time of each model whose load time bounds a test that passed in this build, read right
    after it and still under the writer lock, so no load came between: the rows its tests read are those loaded up
    to then (one query for all of them). A model the build failed to create has none."""
    existing = {(schema, name) for schema, name, _kind in lake_objects(con)}
    nodes = manifest["nodes"]
    models = {uid: (nodes[uid]["schema"], nodes[uid].get("alias") or nodes[uid]["name"], column)
              for r in run_results.get("results", []) if r["status"] in ("pass", "warn") and r["unique_id"] in nodes
              for uid, column in load_time_inputs(nodes[r["unique_id"]], nodes) if uid in nodes}
    sql = " UNION ALL ".join(f"SELECT '{uid}', CAST(max({quote(column)}) AS VARCHAR) FROM {quote(schema)}.{quote(name)}"
                             for uid, (schema, name, column) in models.items() if (schema, name) in existing)
    return dict(con.execute(sql).fetchall()) if sql else {}


def test_rows(run_results: dict[str, Any], manifest: dict[str, Any]) -> list[tuple]:
    """(dataset, suite, passed, evaluated, failed, details) for every test the dbt invocation ran."""
    nodes = manifest["nodes"]
    rows = []
    for result in run_results.get("results", []):
        node = nodes.get(result["unique_id"])
        if node is None or node["resource_type"] != "test" or result["status"] == "skipped":
            continue
        passed = result["status"] in ("pass", "warn")  # a warning test does not block; the catalog shows it warned
        failures = int(result.get("failures") or (0 if passed else 1))
        details = None if result["status"] == "pass" else f"{result['status']}: {result.get('message') or ''}"
        rows += [(dataset, f"dbt_test:{node['name']}", passed, 1, failures, details)
                 for dataset in tested_datasets(node, nodes)]
    return rows


def watermarks(run_results: dict[str, Any], manifest: dict[str, Any], loaded_through: Mapping[str, str | None],
               snapshot: int) -> list[tuple[str, str | None, str | None, int | None, str]]:
    """(test id, model, load time read up to, snapshot read, watermark_checksum) of every test that passed and reads
    by load time (``loaded_through``: tested_through's) or by snapshot (``snapshot``: the lake's, read with it)."""
    nodes, rows = manifest["nodes"], []
    for result in run_results.get("results", []):
        node = nodes.get(result["unique_id"], {})
        if result["status"] not in ("pass", "warn") or node.get("resource_type") != "test":
            continue
        inputs = load_time_inputs(node, nodes)
        loaded = [loaded_through.get(uid) for uid, _column in inputs]
        # rows loaded later carry later load times than any input's newest: the newest of them bounds them all
        through = max(loaded) if loaded and None not in loaded else None
        read = snapshot if reads_since_snapshot(node, nodes) else None
        if through is not None or read is not None:
            rows.append((result["unique_id"], node.get("attached_node"), through, read,
                         watermark_checksum(node, nodes)))
    return rows


def record(settings: Settings, rows: list[tuple], passed_through: list[tuple] = ()) -> None:
    """The results, and how far each passing test read (watermarks'), in one transaction (one lake snapshot)."""
    if not rows and not passed_through:
        return
    with writer(settings, purpose="dbt test results") as con:
        con.execute("BEGIN")
        snapshot, now = current_snapshot(con), datetime.now(UTC)
        names = ("dataset", "suite", "passed", "expectations_evaluated", "expectations_failed", "details")
        if rows:
            con.register("_dbt_results", pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows]))
            con.execute(f"INSERT INTO meta.quality_results ({', '.join(names)}, snapshot_id, evaluated_at) "
                        f"SELECT {', '.join(names)}, ?, ? FROM _dbt_results", [snapshot, now])
            con.unregister("_dbt_results")
        if passed_through:
            names = ("test_id", "model", "tested_through", "tested_through_snapshot", "checksum")
            con.register("_passed", pa.Table.from_pylist([dict(zip(names, row, strict=True))
                                                          for row in passed_through]))
            con.execute("DELETE FROM meta.dbt_test_watermarks WHERE test_id IN (SELECT test_id FROM _passed)")
            con.execute("INSERT INTO meta.dbt_test_watermarks (test_id, model, tested_through, "
                        "tested_through_snapshot, checksum, passed_at) SELECT test_id, model, "
                        "CAST(tested_through AS TIMESTAMPTZ), tested_through_snapshot, checksum, ? FROM _passed", [now])
            con.unregister("_passed")
        con.execute("COMMIT")
