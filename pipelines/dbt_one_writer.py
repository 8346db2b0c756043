"""dbt with one writer: models and seeds build one at a time while tests run beside them.

DuckLake cannot take concurrent commits from one DuckDB instance (duckdb/ducklake#1248: DuckDB 1.5.3 and later
fail or crash on two `CREATE OR REPLACE TABLE … AS` committing at once), so the lake's profile runs dbt on one
thread. Tests only read, and most of a small test's time is dbt's own Python (rendering and compiling its
Jinja, ~30 ms against ~3 ms of query), which on one thread waits for every model's query and the other way
round. This entry point is dbt's own CLI with a lock around every node that writes (``ModelRunner.safe_run``:
models, seeds and snapshots, from compiling to releasing the connection), so ``--threads 2`` runs a test while
another node builds, and never two writes at once. A lock around the materialization alone
(``ModelRunner.execute``) was not enough: two commits still met ("database is locked" from the SQLite catalog,
bench at scale 0.002), so whatever a node does until dbt releases its connection is inside the lock.

Stopping (Ctrl-C, or Dagster cancelling the run, which sends SIGINT): dbt interrupts the queries running, but a node
already waiting for the lock would then take it and build; it is skipped instead. Microbatch models, whose batches
are writing nodes run by a writing node (they would wait for their own parent's lock), are refused.
"""

from __future__ import annotations

import signal
import threading

from dbt.task.run import MicrobatchModelRunner, ModelRunner
from dbt_common.exceptions import DbtRuntimeError

_WRITER = threading.Lock()
_STOPPING = threading.Event()
_safe_run = ModelRunner.safe_run


def _safe_run_alone(self, manifest):
    if isinstance(self, MicrobatchModelRunner):
        raise DbtRuntimeError(f"{self.node.unique_id}: lakehouse-dbt does not run microbatch models")
    with _WRITER:
        if _STOPPING.is_set():
            return self.on_skip()
        return _safe_run(self, manifest)


def _interrupted(signum, frame):
    _STOPPING.set()
    signal.default_int_handler(signum, frame)  # dbt's own handling: KeyboardInterrupt in the main thread


def main() -> None:
    ModelRunner.safe_run = _safe_run_alone
    signal.signal(signal.SIGINT, _interrupted)
    from dbt.cli.main import cli

    cli()


if __name__ == "__main__":
    main()
