"""The Great Expectations suites of one run, validated side by side (issue 9).

A run's check steps follow one another in one process (the in-process executor), and a suite costs ~0.3 s of
Python however few rows it reads: thirty suites were 19 s of a scale-1 new month, on one core of two. So helper
processes take the run's suites from the end of its list while the steps take theirs from the front; a step whose
suite a helper took waits for that result. The dbt step starts the helpers, which import GX and make their context
(~3 s) while dbt runs; they take suites once the first check step has begun, when every mart is built. A run of
fewer than ``MIN_SUITES`` suites starts none.

Helpers only read the lake. Each result is recorded by its own step, so the lake keeps one writer; a SQLite or
PostgreSQL catalog lets the helpers read while it writes. A DuckDB-file catalog does not, so there (and with
``LAKEHOUSE_GX_PROCESSES=0``) every step validates its own suite, as before.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from pipelines.quality.expectations import Suite, SuiteResult, gx_context, validate
from pipelines.settings import Settings

MIN_SUITES = 6  # below this, a helper's start-up costs more than it saves


def _warm_up(settings: Settings) -> None:
    gx_context(settings)  # imports GX and compiles the Data Docs templates, once per helper


class RunValidations:
    """The suites of one run: ``result(suite)`` validates it here unless a helper has taken it."""

    def __init__(self, settings: Settings, suites: Sequence[Suite]) -> None:
        self.settings = settings
        self._pending = [s.name for s in suites]  # in step order: steps take from the front, helpers from the back
        self._suites = {s.name: s for s in suites}
        self._taken: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._begun = threading.Event()  # set by the first check step: before it, the marts are being built
        self.ready = threading.Event()  # a helper has warmed up
        helpers = self.helpers(settings, len(suites))
        self._pool = ProcessPoolExecutor(helpers, mp_context=multiprocessing.get_context("spawn")) if helpers else None
        self._running = helpers
        for _ in range(helpers):
            threading.Thread(target=self._feed, name="gx-helper-feed", daemon=True).start()

    @staticmethod
    def helpers(settings: Settings, suites: int) -> int:
        if suites < MIN_SUITES or settings.catalog_kind == "duckdb":
            return 0
        return min(settings.gx_processes, suites // MIN_SUITES)

    def _feed(self) -> None:
        """One helper's loop: once it is warm, take the last suite no one has taken, until none is left."""
        try:
            self._pool.submit(_warm_up, self.settings).result()
            self.ready.set()
            self._begun.wait()
            while True:
                with self._lock:
                    if not self._pending:
                        return
                    name = self._pending.pop()
                    future = self._taken[name] = self._pool.submit(validate, self.settings, self._suites[name])
                future.exception()  # wait for it; a failure is the step's to report
        except (BrokenProcessPool, CancelledError):
            return  # a helper died (out of memory?) or the run moved on: the steps validate what is left themselves
        finally:
            with self._lock:
                self._running -= 1
                last = self._running == 0
            if last:  # the helpers exit (and are reaped) as soon as their last suite is done, not at some later step
                self._pool.shutdown(wait=True)

    def result(self, suite: Suite) -> SuiteResult:
        self._begun.set()
        with self._lock:
            future = self._taken.get(suite.name)
            if future is None and suite.name in self._pending:
                self._pending.remove(suite.name)
        if future is not None:
            try:
                return future.result()
            except BrokenProcessPool:
                pass
        return validate(self.settings, suite)

    @property
    def taken_by_helpers(self) -> set[str]:
        with self._lock:
            return set(self._taken)

    def close(self) -> None:
        with self._lock:
            self._pending.clear()
        self._begun.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


_current: dict[str, RunValidations] = {}  # run id → its validations: the in-process executor runs one at a time
_current_lock = threading.Lock()


def for_run(run_id: str, settings: Settings, suites: Sequence[Suite]) -> RunValidations:
    """The run's validations, made by the first step that asks (the dbt step, or else the first check step)."""
    with _current_lock:
        if run_id not in _current:
            for earlier in _current.values():
                earlier.close()
            _current.clear()
            _current[run_id] = RunValidations(settings, suites)
        return _current[run_id]
