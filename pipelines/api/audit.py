"""Every request, recorded: who (key id and role, never the key), what, how many rows, the outcome, how long.

The API only reads the lake (``reader()`` connections), so the audit lives in its own SQLite database beside it,
``<root>/lakehouse/api_audit.sqlite``, in WAL mode so the admin's reads never wait for the writes.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from pipelines.settings import Settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,            -- UTC, ISO 8601, when the request arrived
    key_id TEXT,                 -- the key's id in api_access.yml; NULL when no known key was given
    role TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    dataset TEXT,
    filters TEXT,                -- JSON: the filters, sort, columns, version asked for
    rows_returned INTEGER,
    status INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    client TEXT
)"""
COLUMNS = ("id", "at", "key_id", "role", "method", "path", "dataset", "filters", "rows_returned", "status",
           "duration_ms", "client")


def audit_path(settings: Settings) -> Path:
    return settings.root / "lakehouse" / "api_audit.sqlite"


@dataclass
class Entry:
    at: dt.datetime
    method: str
    path: str
    status: int
    duration_ms: float
    key_id: str | None = None
    role: str | None = None
    dataset: str | None = None
    filters: dict | None = None
    rows_returned: int | None = None
    client: str | None = None


class AuditLog:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()  # one writer at a time from this process; SQLite serialises the rest
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)
            db.execute("CREATE INDEX IF NOT EXISTS api_audit_at ON api_audit (at)")
            self._ready = True
        return db

    def record(self, entry: Entry) -> None:
        with self._lock:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._connect()
            try:
                with db:
                    db.execute(
                        f"INSERT INTO api_audit ({', '.join(COLUMNS[1:])}) VALUES ({', '.join('?' * 11)})",
                        [entry.at.isoformat(timespec="milliseconds"), entry.key_id, entry.role, entry.method,
                         entry.path, entry.dataset,
                         json.dumps(entry.filters, ensure_ascii=False) if entry.filters else None,
                         entry.rows_returned, entry.status, round(entry.duration_ms, 2), entry.client])
            finally:
                db.close()

    def read(self, limit: int = 100, dataset: str | None = None, key_id: str | None = None,
             since: dt.datetime | None = None) -> list[dict]:
        """The newest entries first."""
        if not self.path.exists():
            return []
        where, params = [], []
        for column, value in (("dataset", dataset), ("key_id", key_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append("at >= ?")
            params.append(since.isoformat(timespec="milliseconds"))
        with self._lock:
            db = self._connect()
            try:
                rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM api_audit"
                                  + (f" WHERE {' AND '.join(where)}" if where else "")
                                  + " ORDER BY id DESC LIMIT ?", [*params, limit]).fetchall()
            finally:
                db.close()
        entries = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
        for entry in entries:
            entry["filters"] = json.loads(entry["filters"]) if entry["filters"] else None
        return entries
