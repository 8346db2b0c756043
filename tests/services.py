"""Real servers for tests, started in temporary directories on this machine and stopped afterwards.

PostgreSQL comes from Debian's package (the Makefile's `test-services` installs it when missing); the
S3-compatible object store is moto's standalone server (it speaks the S3 REST API over HTTP on loopback).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries are missing: run `make test` (it installs them) or "
                           "`apt-get install postgresql`")
    return Path(found[-1]).parent


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root; CI runs as root, developers usually do not.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster listening on a Unix socket only; yields a libpq conninfo."""
    bin_dir = _pg_bin()
    base = Path(tempfile.mkdtemp(prefix="lakehouse-pg-", dir="/tmp"))
    data = base / "data"
    if os.geteuid() == 0:
        os.chown(base, pwd.getpwnam("postgres").pw_uid, -1)
    port = free_port()
    user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", user, "-A", "trust",
                                 "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
    server = subprocess.Popen(_as_postgres([
        str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(base), "-c", "listen_addresses=",
        "-c", "fsync=off"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            ready = subprocess.run([str(bin_dir / "pg_isready"), "-h", str(base), "-p", str(port)],
                                   capture_output=True)
            if ready.returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("PostgreSQL did not start")
        yield f"host={base} port={port} user={user} dbname=postgres"
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def s3_server(bucket: str) -> Iterator[dict[str, str]]:
    """An S3-compatible server on loopback with one bucket; yields the LAKEHOUSE_S3_* settings."""
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/{bucket}", method="PUT"))
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the S3 server did not start")
        yield {"LAKEHOUSE_S3_ENDPOINT": f"127.0.0.1:{port}", "LAKEHOUSE_S3_KEY_ID": "lakehouse",
               "LAKEHOUSE_S3_SECRET": "lakehouse", "LAKEHOUSE_S3_REGION": "us-east-1",
               "LAKEHOUSE_S3_URL_STYLE": "path", "LAKEHOUSE_S3_USE_SSL": "false"}
    finally:
        server.terminate()
        server.wait(30)
