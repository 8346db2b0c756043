"""dbt's test results recorded in ``meta.quality_results`` (suite ``dbt_test:<test>``), so the catalog shows the
latest result of every dbt test beside the contract checks and the Great Expectations suites."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from pipelines.lake.connection import current_snapshot, writer
from pipelines.settings import Settings


def tested_datasets(node: dict[str, Any], nodes: dict[str, Any]) -> list[str]:
    """The datasets a test is about: the model it is attached to, else every model a singular test reads."""
    targets = [node["attached_node"]] if node.get("attached_node") else node.get("depends_on", {}).get("nodes", [])
    return [f"{nodes[t]['schema']}.{nodes[t].get('alias') or nodes[t]['name']}" for t in targets
            if t in nodes and nodes[t]["resource_type"] in ("model", "seed", "snapshot")]


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


def record(settings: Settings, rows: list[tuple]) -> None:
    if not rows:
        return
    with writer(settings, purpose="dbt test results") as con:
        snapshot, now = current_snapshot(con), datetime.now(UTC)
        names = ("dataset", "suite", "passed", "expectations_evaluated", "expectations_failed", "details")
        table = pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows])
        con.register("_dbt_results", table)  # one insert, one lake snapshot, however many tests ran
        con.execute(f"INSERT INTO meta.quality_results ({', '.join(names)}, snapshot_id, evaluated_at) "
                    f"SELECT {', '.join(names)}, ?, ? FROM _dbt_results",
                    [snapshot, now])
        con.unregister("_dbt_results")
