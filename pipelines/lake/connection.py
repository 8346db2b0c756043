"""Opening the lake: a fresh in-memory DuckDB session with the DuckLake attached as ``lake``.

Readers attach read-only and never wait for writers (the SQLite catalog runs in WAL mode, so a reader sees
the last committed snapshot while a writer commits). Writers go through ``writer()``, which holds the
single-writer lock for as long as the session is open.

``reader()`` and ``writer()`` hand out a cursor of one DuckDB instance per process and lake (read-only and
read-write apart): starting an instance, loading its extensions and reading the DuckLake catalog cost about a
second, and a pipeline run opens a session per check, publication and partition (issue 9). Each cursor is its
own connection with its own transaction, which starts at the newest snapshot, so a long-lived instance sees what
other processes commit. An instance is never shared with another process (the key has the pid) nor kept for a
DuckDB-file catalog, which its attach would hold locked.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from pipelines import settings as settings_module
from pipelines.lake import extensions
from pipelines.lake.lock import writer_lock
from pipelines.lake.sql import literal
from pipelines.settings import LAKE_ALIAS, LAKE_SCHEMAS, Settings

T = TypeVar("T")

# Errors a reader may meet while a writer commits to the catalog; they pass, so a reader retries.
TRANSIENT = ("database is locked", "database is busy", "could not set lock", "conflict")


class LakeMissing(RuntimeError):
    pass


def retry_transient(fn: Callable[[], T], attempts: int = 8, first_wait_s: float = 0.1) -> T:
    for attempt in range(attempts):
        try:
            return fn()
        except duckdb.Error as exc:
            if attempt == attempts - 1 or not any(t in str(exc).lower() for t in TRANSIENT):
                raise
            time.sleep(first_wait_s * 2**attempt)
    raise AssertionError("unreachable")


def sqlite_catalog_path(settings: Settings) -> Path | None:
    return Path(settings.catalog.split(":", 1)[1]) if settings.catalog_kind == "sqlite" else None


def point_copied_catalog_at_its_data(settings: Settings) -> None:
    """A SQLite catalog copied along with its data directory: DuckLake keeps the data path in its metadata table, so
    the copy would still read (and write) the original's files until pointed at its own."""
    with sqlite3.connect(sqlite_catalog_path(settings)) as catalog:
        catalog.execute("UPDATE ducklake_metadata SET value = ? WHERE key = 'data_path'", [settings.data_path])
    catalog.close()


def lake_exists(settings: Settings) -> bool:
    path = sqlite_catalog_path(settings)
    if path is not None:
        return path.exists()
    if settings.catalog_kind == "duckdb":
        return Path(settings.catalog).exists()
    return True  # a server catalog: attaching tells


def _prepare_sqlite_catalog(path: Path) -> None:
    """Create the catalog file in WAL mode (persistent), so readers keep reading while a writer commits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA journal_mode=WAL")


def s3_secret_sql(settings: Settings) -> str:
    options = ["TYPE s3"]
    for key in ("key_id", "secret", "region", "endpoint", "url_style"):
        if key in settings.s3:
            options.append(f"{key.upper()} {literal(settings.s3[key])}")
    if "use_ssl" in settings.s3:
        options.append(f"USE_SSL {settings.s3['use_ssl'].strip().lower() not in ('false', '0', 'no', 'off')}")
    return f"CREATE OR REPLACE SECRET lakehouse_s3 ({', '.join(options)})"


def connect(settings: Settings | None = None, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A new session with the lake attached as ``lake`` and selected, so ``raw.bank__loans`` resolves."""
    settings = settings or settings_module.load()
    if extensions.missing(settings):
        extensions.install(settings)
    if read_only and not lake_exists(settings):
        raise LakeMissing(f"no lake at {settings.catalog} yet: run `make run` (or `lakehouse init`) first")
    sqlite_path = sqlite_catalog_path(settings)
    if sqlite_path is not None and not read_only:
        _prepare_sqlite_catalog(sqlite_path)
    if not settings.data_on_object_storage and not read_only:
        Path(settings.data_path).mkdir(parents=True, exist_ok=True)

    con = duckdb.connect(config=extensions.connection_config(settings))
    try:
        if settings.data_on_object_storage:
            con.execute(s3_secret_sql(settings))
        options = [f"DATA_PATH {literal(settings.data_path)}"]
        if read_only:
            options.append("READ_ONLY")
        attach = f"ATTACH {literal(settings.attach_uri)} AS {LAKE_ALIAS} ({', '.join(options)})"
        retry_transient(lambda: con.execute(attach))
        con.execute(f"USE {LAKE_ALIAS}")
    except BaseException:
        con.close()
        raise
    return con


_SESSIONS: dict[tuple, tuple[object, duckdb.DuckDBPyConnection]] = {}
_SESSIONS_LOCK = threading.Lock()


def _catalog_identity(settings: Settings) -> object:
    """What tells one lake from another created later at the same place (a test, `lakehouse init` again)."""
    path = sqlite_catalog_path(settings)
    if path is None:
        return settings.catalog
    try:
        st = path.stat()
    except FileNotFoundError:  # not created yet: a writer's connect() creates it
        return None
    return st.st_dev, st.st_ino


@contextmanager
def _session(settings: Settings, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    if settings.catalog_kind == "duckdb":
        con = connect(settings, read_only=read_only)
    else:
        if read_only and not lake_exists(settings):
            raise LakeMissing(f"no lake at {settings.catalog} yet: run `make run` (or `lakehouse init`) first")
        key = (os.getpid(), settings.attach_uri, settings.data_path, read_only, settings.duckdb_threads,
               settings.duckdb_memory_limit, tuple(sorted(settings.s3.items())))
        with _SESSIONS_LOCK:
            identity, base = _SESSIONS.get(key, (None, None))
            if base is None or identity is None or _catalog_identity(settings) != identity:
                if base is not None:
                    base.close()
                base = connect(settings, read_only=read_only)
                _SESSIONS[key] = (_catalog_identity(settings), base)
            con = base.cursor()
        con.execute(f"USE {LAKE_ALIAS}")
    try:
        yield con
    finally:
        con.close()


def close_sessions() -> None:
    """Close this process's reused instances (a lake about to be deleted, or a test's cleanup)."""
    with _SESSIONS_LOCK:
        for _, base in _SESSIONS.values():
            base.close()
        _SESSIONS.clear()


@contextmanager
def writer(settings: Settings | None = None, purpose: str = "", log=None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write session, held under the single-writer lock until it closes."""
    settings = settings or settings_module.load()
    with writer_lock(settings.lock_file, settings.lock_timeout_s, purpose, log), _session(settings, False) as con:
        yield con


@contextmanager
def reader(settings: Settings | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    with _session(settings or settings_module.load(), True) as con:
        yield con


def current_snapshot(con: duckdb.DuckDBPyConnection) -> int:
    """The snapshot this session's transaction reads (listing every snapshot to take the newest cost ~0.2 s)."""
    return con.execute(f"SELECT * FROM {LAKE_ALIAS}.current_snapshot()").fetchone()[0]


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    existing = {r[0] for r in con.execute(
        "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = ?", [LAKE_ALIAS]).fetchall()}
    for schema in LAKE_SCHEMAS:
        if schema not in existing:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {LAKE_ALIAS}.{schema}")
