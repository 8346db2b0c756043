"""dbt with its tests beside the build: one node writes at a time, and tests read through a second DuckDB instance.

Why: most of a small test's time is dbt's own Python (rendering and compiling its Jinja, ~30 ms against ~3 ms of
query), which on one thread waits for every model's query and the other way round (issue 9). Two threads in one
DuckDB instance are not safe on a DuckLake: with writes locked to one at a time, bench run 31 crashed dbt (SIGSEGV)
while a test read beside a seed's commit in the same instance. Separate DuckDB instances read beside each other's
commits as separate processes do (the GX helpers and every reader of the lake do so beside dbt's build).

So this entry point is dbt's CLI, run with ``--threads 2``, with two changes:
- every node that writes (``ModelRunner.safe_run``: models, seeds and snapshots, from compiling to releasing the
  connection) holds a lock, so one node writes at a time;
- a test node opens its connections on a second DuckDB instance of the same profile, which attaches the lake
  read-only and spills into its own directory (two instances must not share spill files).
dbt starts a test only after the node it tests has finished and committed, so the test reads what it tests.

Stopping (Ctrl-C, or Dagster cancelling the run, which sends SIGINT): dbt interrupts the queries running, but a node
already waiting for the lock would then take it and build; it is skipped instead. Microbatch models, whose batches
are writing nodes run by a writing node (they would wait for their own parent's lock), are refused.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import signal
import threading
from pathlib import Path

from dbt.adapters.duckdb.environments.local import LocalEnvironment
from dbt.task.function import FunctionRunner
from dbt.task.run import MicrobatchModelRunner, ModelRunner
from dbt.task.test import TestRunner
from dbt_common.exceptions import DbtRuntimeError

_WRITER = threading.Lock()
_STOPPING = threading.Event()
_TESTING = threading.local()  # set on the thread while it runs a test node
_READERS: dict[int, LocalEnvironment] = {}  # the second instance, per writing environment
_READERS_LOCK = threading.Lock()
_handle = LocalEnvironment.handle


def alone(safe_run):
    """A runner's safe_run that holds the writer lock from compiling to releasing its connection, and skips the node
    if dbt was stopped while it waited."""

    def safe_run_alone(self, manifest):
        if isinstance(self, MicrobatchModelRunner):
            raise DbtRuntimeError(f"{self.node.unique_id}: lakehouse-dbt does not run microbatch models")
        with _WRITER:
            if _STOPPING.is_set():
                return self.on_skip()
            return safe_run(self, manifest)

    return safe_run_alone


def reading(safe_run):
    """A test runner's safe_run during which the thread's connections open on the test instance."""

    def safe_run_reading(self, manifest):
        _TESTING.active = True
        try:
            return safe_run(self, manifest)
        finally:
            _TESTING.active = False

    return safe_run_reading


def reader_credentials(creds):
    """The profile's credentials for the test instance: every attachment read-only, half the memory limit, spills in
    a subdirectory of the build's (created here: DuckDB creates only the last level). A copy with its fields
    replaced, not dataclasses.replace: the credentials' __post_init__ consumes the secrets' dicts it reads."""
    options = dict(creds.config_options or {})
    if options.get("temp_directory"):
        options["temp_directory"] = str(Path(options["temp_directory"]) / "tests")
        Path(options["temp_directory"]).mkdir(parents=True, exist_ok=True)
    if options.get("memory_limit"):
        options["memory_limit"] = _half(str(options["memory_limit"]))
    reader = copy.copy(creds)
    reader.config_options = options
    reader.attach = [dataclasses.replace(a, read_only=True) for a in creds.attach or []]
    return reader


def _half(limit: str) -> str:
    """Half a DuckDB memory limit such as '5.9GiB' or '4GB'; anything else as it is."""
    found = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", limit)
    return f"{float(found[1]) / 2:g}{found[2]}" if found else limit


def beside(creds) -> bool:
    """Whether tests may read on a second instance: not with a DuckDB-file catalog, which one instance holds open
    for writing (SQLite and PostgreSQL catalogs take readers beside a writer)."""
    return any(str(a.path).startswith(("ducklake:sqlite:", "ducklake:postgres:")) for a in creds.attach or [])


def _handle_for_node(self):
    if not getattr(_TESTING, "active", False) or not beside(self.creds):
        return _handle(self)
    with _READERS_LOCK:
        reader = _READERS.get(id(self))
        if reader is None:
            reader = _READERS[id(self)] = LocalEnvironment(reader_credentials(self.creds))
    return _handle(reader)


def _interrupted(signum, frame):
    _STOPPING.set()
    signal.default_int_handler(signum, frame)  # dbt's own handling: KeyboardInterrupt in the main thread


def install() -> None:
    """Once per process (dbt's CLI below)."""
    ModelRunner.safe_run = alone(ModelRunner.safe_run)  # models, seeds and snapshots: their runners are ModelRunners
    FunctionRunner.safe_run = alone(FunctionRunner.safe_run)  # a user-defined function is created in the lake
    TestRunner.safe_run = reading(TestRunner.safe_run)
    LocalEnvironment.handle = _handle_for_node


def main() -> None:
    install()
    signal.signal(signal.SIGINT, _interrupted)
    from dbt.cli.main import cli

    cli()


if __name__ == "__main__":
    main()
