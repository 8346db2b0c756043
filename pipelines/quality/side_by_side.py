"""The Great Expectations suites of one run, validated side by side (issue 9).

A run's check steps follow one another in one process (the in-process executor), and a suite costs ~0.3 s of
Python however few rows it reads: thirty suites were 19 s of a scale-1 new month, on one core of two. So helper
processes take the run's suites from the end of its list while the steps take theirs from the front; a step whose
suite a helper took waits for that result. The dbt step starts the helpers, which import GX and make their context
(~3 s) while dbt runs, and lets them take suites once it has succeeded: every mart is built by then. In a run
without the dbt step the first check step lets them. A run of fewer than ``MIN_SUITES`` suites starts none.

Helpers only read the lake. Each result is recorded by its own step, so the lake keeps one writer; a SQLite or
PostgreSQL catalog lets the helpers read while it writes. A DuckDB-file catalog does not, so there (and with
``LAKEHOUSE_GX_PROCESSES=0``) every step validates its own suite, as before. Helpers stop when the run's suites
are done, when the dbt step fails, when the next run starts, or at the latest when the process exits.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.util import Finalize

from pipelines.quality.expectations import Suite, SuiteResult, gx_context, validate
from pipelines.settings import Settings, default_memory_limit

MIN_SUITES = 6  # below this, a helper's start-up costs more than it saves
DUCKDB_DEFAULT_SHARE = 0.8  # DuckDB's own memory limit, of the machine's memory, which the helpers share


def _warm_up(settings: Settings) -> None:
    gx_context(settings)  # imports GX and compiles the Data Docs templates, once per helper


class RunValidations:
    """The suites of one run: ``result(suite)`` validates it here unless a helper has taken it. ``gated``: the
    helpers wait for ``begin()`` (the dbt step builds the marts first); otherwise the first ``result()`` lets them."""

    def __init__(self, settings: Settings, suites: Sequence[Suite], gated: bool = False) -> None:
        self.settings = settings
        self._pending = [s.name for s in suites]  # in step order: steps take from the front, helpers from the back
        self._suites = {s.name: s for s in suites}
        self._taken: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._gated = gated
        self._begun = threading.Event()  # the marts are built: helpers may take suites
        self._closed = False
        self.ready = threading.Event()  # a helper has warmed up
        helpers = self.helpers(settings, len(suites))
        self._pool = ProcessPoolExecutor(helpers, mp_context=multiprocessing.get_context("spawn")) if helpers else None
        self._running = helpers
        if helpers:
            if not settings.duckdb_memory_limit:  # each process would take DuckDB's 80 % of the machine
                self.settings = dataclasses.replace(settings, duckdb_memory_limit=default_memory_limit(
                    DUCKDB_DEFAULT_SHARE / (helpers + 1)))
            # before multiprocessing joins the helpers at exit, or a run that never began would wait for them forever
            Finalize(self, RunValidations.close, args=(self,), exitpriority=100)
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
        except (BrokenProcessPool, CancelledError, RuntimeError):  # RuntimeError: submitted after a shutdown
            return  # a helper died (out of memory?) or the run moved on: the steps validate what is left themselves
        finally:
            with self._lock:
                self._running -= 1
                last = self._running == 0
            if last:  # the helpers exit (and are reaped) as soon as their last suite is done, not at some later step
                self._pool.shutdown(wait=True)

    def begin(self) -> None:
        """The marts are built: the helpers may take suites."""
        self._begun.set()

    def result(self, suite: Suite) -> SuiteResult:
        if not self._gated:
            self._begun.set()
        with self._lock:
            future = self._taken.get(suite.name)
            if future is None and suite.name in self._pending:
                self._pending.remove(suite.name)
        if future is not None:
            try:
                return future.result()
            except (BrokenProcessPool, CancelledError):
                pass
        return validate(self.settings, suite)

    @property
    def taken_by_helpers(self) -> set[str]:
        with self._lock:
            return set(self._taken)

    def close(self) -> None:
        """Stop the helpers: nothing more is taken, and a suite a helper has not started is the steps' again."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._pending.clear()
            self._taken = {name: f for name, f in self._taken.items() if not f.cancel()}
        self._begun.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


_current: dict[str, RunValidations] = {}  # run id → its validations: the in-process executor runs one at a time
_current_lock = threading.Lock()


def for_run(run_id: str, settings: Settings, suites: Sequence[Suite], gated: bool) -> RunValidations:
    """The run's validations, made by the first step that asks (the dbt step, or else the first check step)."""
    with _current_lock:
        if run_id not in _current:
            for earlier in _current.values():
                earlier.close()
            _current.clear()
            _current[run_id] = RunValidations(settings, suites, gated)
        return _current[run_id]
