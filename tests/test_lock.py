"""The single-writer lock: serializes writers across processes and never outlives its holder."""

import os
import signal
import subprocess
import sys
import time

import pytest

from pipelines.lake.lock import WriterLockTimeout, writer_lock

HOLD = """
import sys, time
from pathlib import Path
from pipelines.lake.lock import writer_lock
with writer_lock(Path(sys.argv[1]), 5, "test holder"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold(path, seconds):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_waits_and_times_out_naming_the_holder(tmp_path):
    lock = tmp_path / "writer.lock"
    proc = _hold(lock, 5)
    try:
        with pytest.raises(WriterLockTimeout, match="test holder"), writer_lock(lock, 0.5):
            pass
    finally:
        proc.kill()
        proc.wait()


def test_a_waiting_writer_proceeds_when_the_holder_finishes(tmp_path):
    lock = tmp_path / "writer.lock"
    proc = _hold(lock, 1)
    started = time.monotonic()
    with writer_lock(lock, 10):
        waited = time.monotonic() - started
    proc.wait()
    assert 0.3 < waited < 30  # it waited for the holder, and did not time out


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path):
    lock = tmp_path / "writer.lock"
    proc = _hold(lock, 60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with writer_lock(lock, 2):
        pass
