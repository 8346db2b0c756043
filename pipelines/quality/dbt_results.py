"""dbt's test results recorded in ``meta.quality_results`` (suite ``dbt_test:<test>``), so the catalog shows the
latest result of every dbt test beside the contract checks and the Great Expectations suites.

A test on a model tested by load time (meta ``tested_by_load_time``: the staging views) also records, as its scope,
the newest load time the model held when it ran; the next build's test reads only the rows loaded after the one
it last passed with (dbt_project/macros/tested_rows.sql).
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


def tested_through(con, manifest: Mapping[str, Any]) -> dict[str, str | None]:
    """The newest load time of each model tested by load time, read right after dbt's build and still under the
    writer lock, so no load came between: the rows its tests read are those loaded up to then (one query for all of
    them). A model the build failed to create has none."""
    existing = {(schema, name) for schema, name, _kind in lake_objects(con)}
    models = {uid: (node["schema"], node.get("alias") or node["name"], load_time_column(node))
              for uid, node in manifest["nodes"].items()
              if node["resource_type"] == "model" and load_time_column(node)}
    sql = " UNION ALL ".join(f"SELECT '{uid}', CAST(max({quote(column)}) AS VARCHAR) FROM {quote(schema)}.{quote(name)}"
                             for uid, (schema, name, column) in models.items() if (schema, name) in existing)
    return dict(con.execute(sql).fetchall()) if sql else {}


def test_rows(run_results: dict[str, Any], manifest: dict[str, Any],
              loaded_through: Mapping[str, str | None] | None = None) -> list[tuple]:
    """(dataset, suite, passed, evaluated, failed, details, scope) for every test the dbt invocation ran; the scope
    of a test on a model in ``loaded_through`` (``tested_through``) names the test and the load time it read up to."""
    nodes = manifest["nodes"]
    loaded_through = loaded_through or {}
    rows = []
    for result in run_results.get("results", []):
        node = nodes.get(result["unique_id"])
        if node is None or node["resource_type"] != "test" or result["status"] == "skipped":
            continue
        passed = result["status"] in ("pass", "warn")  # a warning test does not block; the catalog shows it warned
        failures = int(result.get("failures") or (0 if passed else 1))
        details = None if result["status"] == "pass" else f"{result['status']}: {result.get('message') or ''}"
        scope = None
        if node.get("attached_node") in loaded_through:
            scope = json.dumps({"rows": "loaded_after_last_pass", "test": node["unique_id"],
                                "tested_through": loaded_through[node["attached_node"]]})
        rows += [(dataset, f"dbt_test:{node['name']}", passed, 1, failures, details, scope)
                 for dataset in tested_datasets(node, nodes)]
    return rows


def record(settings: Settings, rows: list[tuple]) -> None:
    if not rows:
        return
    with writer(settings, purpose="dbt test results") as con:
        snapshot, now = current_snapshot(con), datetime.now(UTC)
        names = ("dataset", "suite", "passed", "expectations_evaluated", "expectations_failed", "details", "scope")
        table = pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows])
        con.register("_dbt_results", table)  # one insert, one lake snapshot, however many tests ran
        con.execute(f"INSERT INTO meta.quality_results ({', '.join(names)}, snapshot_id, evaluated_at) "
                    f"SELECT {', '.join(names)}, ?, ? FROM _dbt_results",
                    [snapshot, now])
        con.unregister("_dbt_results")
