"""One writer at a time, across processes.

A DuckLake commit on a SQLite catalog fails with "database is locked" when two processes commit at once,
and two writers have corrupted such a catalog in reported cases. Every write to the lake (ingestion, dbt,
quality results, publication) therefore runs inside ``writer_lock()``: an advisory ``flock`` on a file
beside the catalog, which the kernel releases if the holder dies, so a crash never leaves it stuck.
Readers never take it: they attach the lake read-only and see the last committed snapshot.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriterLockTimeout(TimeoutError):
    pass


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


@contextmanager
def writer_lock(path: Path, timeout_s: float, purpose: str = "", log=None) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WriterLockTimeout(
                        f"waited {timeout_s:.0f}s for the lake's writer lock {path}, held by {_holder(path)}"
                    ) from None
                if not announced and log is not None:
                    log(f"waiting for the lake's writer lock, held by {_holder(path)}")
                    announced = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} {purpose}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
