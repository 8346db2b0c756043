"""dbt's test results recorded in ``meta.quality_results`` (suite ``dbt_test:<test>``), so the catalog shows the
latest result of every dbt test beside the contract checks and the Great Expectations suites.

A test on a model tested by load time (meta ``tested_by_load_time``: the staging views) that passed also leaves in
``meta.dbt_test_watermarks`` the newest load time the model held when it ran: the next build's test reads only the
rows loaded after it (dbt_project/macros/tested_rows.sql). One row per test, replaced: the table stays as small as
the project's tests, where a filter over every result ever kept would grow with each run.

The pipeline hands dbt those watermarks as constants (``WATERMARKS_ENV``, read when a test runs, so partial parsing
is unaffected): a test filters on ``_loaded_at > '<timestamp>'`` and DuckLake skips the files loaded before it,
where a subquery on the table cost every staging test a read of it and left every file to be scanned.
"""

from __future__ import annotations

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


# dbt_project/macros/tested_rows.sql reads it: {tested_through: "<hash> <hash> …"}, the tests by the hash that ends
# their unique_id, grouped by watermark (a few, however many tests), to stay far below an environment variable's size
# limit (128 KiB on Linux)
WATERMARKS_ENV = "LAKEHOUSE_DBT_TEST_WATERMARKS"


def watermarks_env(con) -> str:
    """Every test's watermark as WATERMARKS_ENV's value (read under the writer lock, before dbt runs)."""
    if ("meta", "dbt_test_watermarks", "table") not in lake_objects(con):  # a lake no pipeline run has built yet
        return "{}"
    grouped: dict[str, list[str]] = {}
    for test_id, through in con.execute("SELECT test_id, CAST(tested_through AS VARCHAR) "
                                        "FROM meta.dbt_test_watermarks ORDER BY test_id").fetchall():
        grouped.setdefault(through, []).append(test_id.rsplit(".", 1)[-1])
    return json.dumps({through: " ".join(ids) for through, ids in grouped.items()}, separators=(",", ":"))


def tested_through(con, manifest: Mapping[str, Any], run_results: Mapping[str, Any]) -> dict[str, str | None]:
    """The newest load time of each model tested by load time whose tests passed in this build, read right after
    it and still under the writer lock, so no load came between: the rows its tests read are those loaded up to
    then (one query for all of them). A model the build failed to create has none."""
    existing = {(schema, name) for schema, name, _kind in lake_objects(con)}
    nodes = manifest["nodes"]
    passed = {nodes[r["unique_id"]].get("attached_node") for r in run_results.get("results", [])
              if r["status"] in ("pass", "warn") and r["unique_id"] in nodes}
    models = {uid: (node["schema"], node.get("alias") or node["name"], load_time_column(node))
              for uid, node in nodes.items()
              if uid in passed and node["resource_type"] == "model" and load_time_column(node)}
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


def watermarks(run_results: dict[str, Any], manifest: dict[str, Any],
               loaded_through: Mapping[str, str | None]) -> list[tuple[str, str, str]]:
    """(test id, model, load time read up to) of every test that passed on a model in ``loaded_through``."""
    nodes = manifest["nodes"]
    return [(r["unique_id"], node["attached_node"], loaded_through[node["attached_node"]])
            for r in run_results.get("results", []) if r["status"] in ("pass", "warn")
            for node in [nodes.get(r["unique_id"], {})]
            if node.get("attached_node") in loaded_through and loaded_through[node["attached_node"]] is not None]


def record(settings: Settings, rows: list[tuple], passed_through: list[tuple[str, str, str]] = ()) -> None:
    """The results, and the load time each passing test read up to, in one transaction (one lake snapshot)."""
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
            con.register("_passed", pa.Table.from_pylist(
                [{"test_id": t, "model": m, "tested_through": w} for t, m, w in passed_through]))
            con.execute("DELETE FROM meta.dbt_test_watermarks WHERE test_id IN (SELECT test_id FROM _passed)")
            con.execute("INSERT INTO meta.dbt_test_watermarks (test_id, model, tested_through, passed_at) "
                        "SELECT test_id, model, CAST(tested_through AS TIMESTAMPTZ), ? FROM _passed", [now])
            con.unregister("_passed")
        con.execute("COMMIT")
