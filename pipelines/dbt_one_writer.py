"""dbt with one writer: models and seeds build one at a time while tests run beside them.

DuckLake cannot take concurrent commits from one DuckDB instance (duckdb/ducklake#1248: DuckDB 1.5.3 and later
fail or crash on two `CREATE OR REPLACE TABLE … AS` committing at once), so the lake's profile runs dbt on one
thread. Tests only read, and most of a small test's time is dbt's own Python (rendering and compiling its
Jinja, ~30 ms against ~3 ms of query), which on one thread waits for every model's query and the other way
round. This entry point is dbt's own CLI with a lock around every node that writes (``ModelRunner.safe_run``:
models, seeds and snapshots, from compiling to releasing the connection), so ``--threads 2`` runs a test while
another node builds, and never two writes at once. A lock around the materialization alone
(``ModelRunner.execute``) was not enough: two commits still met ("database is locked" from the SQLite catalog,
bench at scale 0.002), so whatever a node does until dbt releases its connection is inside the lock. Microbatch
models, whose runner commits batch by batch, are not used in this project.

The pipeline's dbt asset runs dbt through it (``lakehouse-dbt``); plain ``dbt`` keeps the profile's one thread.
"""

from __future__ import annotations

import threading

from dbt.task.run import ModelRunner

_WRITER = threading.Lock()
_safe_run = ModelRunner.safe_run


def _safe_run_alone(self, manifest):
    with _WRITER:
        return _safe_run(self, manifest)


def main() -> None:
    ModelRunner.safe_run = _safe_run_alone
    from dbt.cli.main import cli

    cli()


if __name__ == "__main__":
    main()
