"""The project's Dagster event log (pipelines/dagster_storage.py): Dagster's own files, written with connections
kept open, readable by Dagster's default storage and still followed live by the UI's watcher."""

import logging
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events.log import EventLogEntry

from pipelines.dagster_storage import SqliteEventLogStorageWithOpenDatabases

PROJECT_INSTANCE = Path(__file__).parents[1] / ".dagster" / "dagster.yaml"
CHECKS = 40


@dg.asset
def measured() -> int:
    return 1


@dg.multi_asset_check(specs=[dg.AssetCheckSpec(f"rule_{i}", asset=measured) for i in range(CHECKS)])
def rules():
    for i in range(CHECKS):
        yield dg.AssetCheckResult(check_name=f"rule_{i}", asset_key=measured.key, passed=i != 7)


DEFS = dg.Definitions(assets=[measured], asset_checks=[rules], jobs=[dg.define_asset_job("measure")])


@pytest.fixture
def instance(tmp_path, monkeypatch):
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copy(PROJECT_INSTANCE, home)  # the instance `make run` and the UI use
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        yield instance


def _entry(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(error_info=None, level=logging.INFO, user_message=message, run_id=run_id,
                         timestamp=time.time())


def test_dagsters_default_storage_reads_what_a_run_wrote_while_it_is_still_open(instance):
    assert isinstance(instance.event_log_storage, SqliteEventLogStorageWithOpenDatabases)
    result = DEFS.resolve_job_def("measure").execute_in_process(instance=instance, raise_on_error=False)
    written = len(instance.all_logs(result.run_id))
    # another process, with Dagster's own storage class on the same files, while this one keeps them open
    read = subprocess.run([sys.executable, "-c", """
import sys
import dagster as dg
from dagster._core.storage.event_log import SqliteEventLogStorage
storage = SqliteEventLogStorage(sys.argv[1])
events = storage.get_records_for_run(sys.argv[2], limit=100000).records
def status(name):
    [record] = storage.get_asset_check_execution_history(dg.AssetCheckKey(dg.AssetKey("measured"), name), limit=1)
    return record.status.value
print(len(events), status("rule_6"), status("rule_7"))
""", str(Path(instance.root_directory) / "history" / "runs"), result.run_id],
                          capture_output=True, text=True, check=True).stdout.split()
    assert read == [str(written), "SUCCEEDED", "FAILED"] and written > 2 * CHECKS


def test_a_run_written_through_a_kept_connection_is_still_followed_live(instance):
    storage = instance.event_log_storage
    storage.store_event(_entry("followed", "started"))  # the run's database exists, as when a run starts
    seen, messages = threading.Event(), []

    def follow(entry, _cursor):
        messages.append(entry.user_message)
        if entry.user_message == "step finished":
            seen.set()

    storage.watch("followed", None, follow)
    try:
        storage.store_event(_entry("followed", "step finished"))
        assert seen.wait(15), "the watcher never saw the run's database change"
    finally:
        storage.end_watch("followed", follow)
    assert messages[-1] == "step finished"
