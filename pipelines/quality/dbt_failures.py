"""What a failed dbt test found, said in words: the dataset, the rule (the test's name) and the rows.

dbt reports only "Got 2 results, configured to fail if != 0". Failures are not stored in the lake (DuckLake
tables made by ``store_failures`` would be one more kind of table to govern), so the test's compiled query is run
again, read-only, after the build. Rows are printed only for seeds, whose parameters are public (L1), and are
traced back to their line in the CSV; for models the message gives the query that lists them, since a mart's
failing rows may hold classified data that does not belong in a run log.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb

from pipelines.quality.dbt_results import tested_datasets

SHOW_ROWS = 5


@dataclass
class TestFailure:
    test: str
    datasets: list[str]
    status: str
    failures: int
    message: str
    query: str
    seed_file: Path | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)

    def __str__(self) -> str:
        on = ", ".join(self.datasets) or "the project"
        if self.status == "error":
            return f"dbt test {self.test} on {on} could not run: {self.message}"
        rows = "1 row breaks" if self.failures == 1 else f"{self.failures} rows break"
        head = f"dbt test {self.test} on {on} failed: {rows} the rule"
        if not self.rows:
            return f"{head}; list them with: lakehouse sql {one_line(self.query)!r}"
        shown = []
        for row, line in zip(self.rows, self.lines, strict=True):
            where = f"{self.seed_file} line {line}: " if line else ""
            shown.append(f"  {where}" + ", ".join(f"{k}={v}" for k, v in row.items()))
        return "\n".join([head, *shown])


def failures(run_results: dict[str, Any], manifest: dict[str, Any], project_dir: Path,
             con: duckdb.DuckDBPyConnection | None) -> list[TestFailure]:
    """Every test that failed or errored, with the offending seed rows when a connection is given."""
    nodes = manifest["nodes"]
    found = []
    for result in run_results.get("results", []):
        node = nodes.get(result["unique_id"])
        if node is None or node["resource_type"] != "test" or result["status"] not in ("fail", "error"):
            continue
        failure = TestFailure(node["name"], tested_datasets(node, nodes), result["status"],
                              int(result.get("failures") or 0), (result.get("message") or "").strip(),
                              result.get("compiled_code") or "")
        reads = [nodes.get(t, {}) for t in node.get("depends_on", {}).get("nodes", [])]
        on_one_seed = len(reads) == 1 and reads[0].get("resource_type") == "seed"
        if con is not None and failure.status == "fail" and failure.query and on_one_seed:
            failure.seed_file = Path(reads[0]["original_file_path"])
            failure.rows = failing_rows(con, failure.query)
            failure.lines = [csv_line(project_dir / failure.seed_file, row) for row in failure.rows]
        found.append(failure)
    return found


def one_line(sql: str) -> str:
    """The query on one line for a shell: line comments become block comments, so they end where they did."""
    return " ".join(re.sub(r"--([^\n]*)", lambda m: f"/*{m.group(1)} */", sql).split())


def failing_rows(con: duckdb.DuckDBPyConnection, query: str, limit: int = SHOW_ROWS) -> list[dict[str, Any]]:
    try:
        cursor = con.execute(f"SELECT * FROM ({query}\n) AS failing LIMIT {limit}")
    except duckdb.Error:
        return []  # the count and the query still reach the user
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def csv_line(path: Path, row: dict[str, Any]) -> int | None:
    """The line of the seed file holding this row (the header is line 1), matching every column both share."""
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            for record in reader:
                shared = [k for k in row if k in record]
                if shared and all(same_value(record[k], row[k]) for k in shared):
                    return reader.line_num
    except OSError:
        return None
    return None


def same_value(text: str, value: Any) -> bool:
    if value is None:
        return text.strip() == ""
    if isinstance(value, bool):
        return text.strip().lower() == str(value).lower()
    if isinstance(value, int | float | Decimal):
        try:
            return Decimal(text.strip()) == Decimal(str(value))
        except InvalidOperation:
            return False
    return text == str(value)
