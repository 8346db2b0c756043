"""Dagster's SQLite event log with its databases kept open (configured in ``.dagster/dagster.yaml``).

Dagster's ``SqliteEventLogStorage`` opens and disposes a SQLite engine for every read and write. Its databases
are in WAL mode, where closing the last connection checkpoints the log into the database and syncs both, so
each write cost several milliseconds, and tens when the disk is busy. Each asset or check event is written
three times (its run's database and twice the index), and a transform run writes ~3,000 of them (a planned
and an evaluated event for every dbt test): see issue 9 and ``benchmarks/README.md`` for the measurements.

Here each process keeps one connection open to the index and to the databases of its latest runs, with
``synchronous=NORMAL``: SQLite's recommended setting for WAL, durable if the process crashes; an OS crash or a
power cut can lose the last events but never corrupts a database. The UI follows a running run by watching
its database file change, which a kept connection no longer does on every write (the changes wait in the WAL
for a checkpoint), so a write to a run's database touches the file. The files and their schema are Dagster's,
unchanged: ``dagster.yaml`` can go back to the default storage at any time.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as db
from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy.pool import StaticPool

OPEN_RUN_DATABASES = 4  # a process writes one run at a time; the UI's reads of older runs open and close


def _synchronous_normal(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class SqliteEventLogStorageWithOpenDatabases(SqliteEventLogStorage):
    def __init__(self, base_dir: str | None = None, inst_data=None):
        self._engines: OrderedDict[str, db.Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        if base_dir is None:  # where Dagster's default storage keeps them, in the instance's directory
            if not os.environ.get("DAGSTER_HOME"):
                raise ValueError(f"{type(self).__name__}: set DAGSTER_HOME to the instance's directory, "
                                 "or give the event log's base_dir in dagster.yaml")
            base_dir = os.path.join(os.environ["DAGSTER_HOME"], "history", "runs")
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> db.Engine:
        if self._engines_pid != os.getpid():  # never use a connection from before a fork
            self._engines, self._engines_pid = OrderedDict(), os.getpid()
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = db.create_engine(self.conn_string_for_shard(shard), poolclass=StaticPool,
                                      connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                                                    "check_same_thread": False})
            db.event.listen(engine, "connect", _synchronous_normal)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        runs = [s for s in self._engines if s != INDEX_SHARD_NAME]
        for old in runs[:-OPEN_RUN_DATABASES]:
            self._engines.pop(old).dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[db.Connection]:
        # one thread at a time on a shard's one connection, as Dagster serialises its own
        with self._db_lock, self._engine(shard).connect() as conn:
            sqlite = conn.connection.dbapi_connection
            changes = sqlite.total_changes
            with conn.begin():
                yield conn
            wrote = sqlite.total_changes != changes
        if wrote and shard != INDEX_SHARD_NAME:
            os.utime(self.path_for_shard(shard))  # what the UI's watcher of a running run waits for

    def _close_all(self) -> None:
        if self._engines_pid == os.getpid():
            for engine in self._engines.values():
                engine.dispose()
        self._engines = OrderedDict()

    def wipe(self) -> None:
        self._close_all()  # the run databases are deleted: no connection may keep writing to them
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._close_all()
