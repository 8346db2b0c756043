"""The Great Expectations suites of one run, validated side by side (issue 9).

A run's check steps follow one another in one process (the in-process executor), and a suite costs ~0.3 s of
Python however few rows it reads: thirty suites were 19 s of a scale-1 new month, on one core of two. So helper
processes validate the run's suites beside the steps. The dbt step starts them: they import GX and make their
context (~3 s) while dbt runs, and take a suite as soon as dbt has built its mart (dbt builds a model once per run,
so what they read is what the check step would read); most of dbt's tests run on one core, and the helper uses the
other. Once dbt has succeeded every suite is free to take: the helpers take from the end of the run's list, the
check steps from the front, and a step whose suite a helper took waits for that result. In a run without the dbt
step the first check step frees them all. A run of fewer than ``MIN_SUITES`` suites starts no helper. When the
helpers have validated every suite, the last one also builds the Data Docs index for the catalog step
(``data_docs_index``), so the run's own process needs no GX at all; a suite a step validated itself makes the
catalog step build the index, as without helpers.

Helpers only read the lake. Each result is recorded by its own step, so the lake keeps one writer; a SQLite or
PostgreSQL catalog lets the helpers read while dbt or a step writes. A DuckDB-file catalog does not, so there (and
with ``LAKEHOUSE_GX_PROCESSES=0``) every step validates its own suite, as before. Helpers stop when the run's suites
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

from pipelines.quality.expectations import Suite, SuiteResult, build_data_docs_index, gx_context, validate
from pipelines.settings import Settings, default_memory_limit

MIN_SUITES = 6  # below this, a helper's start-up costs more than it saves
DUCKDB_DEFAULT_SHARE = 0.8  # DuckDB's own memory limit, of the machine's memory, which the helpers share


def _warm_up(settings: Settings) -> None:
    gx_context(settings)  # imports GX and compiles the Data Docs templates, once per helper


class RunValidations:
    """The suites of one run: ``result(suite)`` validates it here unless a helper has taken it. ``gated``: helpers
    take a suite once ``built(dataset)`` says its mart is built, or all once ``begin()`` is called (the dbt step
    builds the marts); otherwise the first ``result()`` frees them all."""

    def __init__(self, settings: Settings, suites: Sequence[Suite], gated: bool = False) -> None:
        self.settings = settings
        self._pending = [s.name for s in suites]  # in step order: steps take from the front, helpers from the back
        self._suites = {s.name: s for s in suites}
        self._taken: dict[str, Future] = {}
        self._changed = threading.Condition()  # guards all of the state; notified when a suite becomes free
        self._gated = gated
        self._built: set[str] = set()  # the datasets whose suites helpers may take
        self._all_built = False
        self._closed = False
        self.ready = threading.Event()  # a helper has warmed up
        self._index: Future | None = None  # the Data Docs index, built by the last helper (see _feed)
        helpers = self.helpers(settings, len(suites))
        self._pool = ProcessPoolExecutor(helpers, mp_context=multiprocessing.get_context("spawn")) if helpers else None
        self._running = helpers
        if not helpers:
            return
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

    def _free(self) -> str | None:
        """The last pending suite a helper may take now (its mart built), under the lock."""
        for name in reversed(self._pending):
            if self._all_built or self._suites[name].dataset in self._built:
                return name
        return None

    def _feed(self) -> None:
        """One helper's loop: once it is warm, take the last free suite no one has taken, until none is left."""
        try:
            self._pool.submit(_warm_up, self.settings).result()
            self.ready.set()
            while True:
                with self._changed:
                    while self._pending and (name := self._free()) is None:
                        self._changed.wait()
                    if not self._pending:
                        return
                    self._pending.remove(name)
                    future = self._taken[name] = self._pool.submit(validate, self.settings, self._suites[name])
                future.exception()  # wait for it; a failure is the step's to report
        except (BrokenProcessPool, CancelledError, RuntimeError):  # RuntimeError: submitted after a shutdown
            return  # a helper died (out of memory?) or the run moved on: the steps validate what is left themselves
        finally:
            with self._changed:
                self._running -= 1
                last = self._running == 0
                # every suite's result is in the helpers' store: the last one also builds the Data Docs index, so the
                # run's own process never imports GX (its context cost 3.9 s of CPU beside dbt in a scale-1 month)
                if (last and not self._closed and set(self._taken) == set(self._suites)
                        and all(f.done() and not f.cancelled() and f.exception() is None
                                for f in self._taken.values())):
                    # not closed, so not shut down (close() marks it closed under this lock first)
                    self._index = self._pool.submit(build_data_docs_index, self.settings)
                self._changed.notify_all()
            if last:  # the helpers exit (and are reaped) as soon as their last suite is done, not at some later step
                self._pool.shutdown(wait=True)

    def built(self, dataset: str) -> None:
        """dbt has built ``dataset`` (schema.table) in this run: helpers may validate it."""
        with self._changed:
            self._built.add(dataset)
            self._changed.notify_all()

    def begin(self) -> None:
        """Every mart is built: helpers may take any suite."""
        with self._changed:
            self._all_built = True
            self._changed.notify_all()

    def result(self, suite: Suite) -> SuiteResult:
        if not self._gated:
            self.begin()
        with self._changed:
            future = self._taken.get(suite.name)
            if future is None and suite.name in self._pending:
                self._pending.remove(suite.name)
        if future is not None:
            try:
                return future.result()
            except (BrokenProcessPool, CancelledError):
                pass
        return validate(self.settings, suite)

    def index_built(self) -> bool:
        """Whether the last helper built the Data Docs index of every suite's result (waits for it)."""
        with self._changed:
            while self._running and not self._closed:  # the helpers' last suites are still running
                self._changed.wait(1)
            index = self._index
        try:
            return index is not None and index.result() is None
        except Exception:  # BrokenProcessPool, CancelledError, GX's own: the caller builds it
            return False

    @property
    def taken_by_helpers(self) -> set[str]:
        with self._changed:
            return set(self._taken)

    def close(self) -> None:
        """Stop the helpers: nothing more is taken, and a suite a helper has not started is the steps' again."""
        with self._changed:
            if self._closed:
                return
            self._closed = True
            self._pending.clear()
            self._taken = {name: f for name, f in self._taken.items() if not f.cancel()}
            self._changed.notify_all()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


_current: tuple[str, RunValidations] | None = None  # the run's id and validations: in-process runs come one at a time
_current_lock = threading.Lock()


def for_run(run_id: str, settings: Settings, suites: Sequence[Suite], gated: bool) -> RunValidations:
    """The run's validations, made by the first step that asks (the dbt step, or else the first check step)."""
    global _current
    with _current_lock:
        if _current is None or _current[0] != run_id:
            if _current is not None:
                _current[1].close()
            _current = run_id, RunValidations(settings, suites, gated)
        return _current[1]


def data_docs_index(run_id: str, settings: Settings) -> str:
    """The Data Docs index after the run's validations: the last helper built it if helpers validated every suite of
    the run (``RunValidations._feed``), else it is built here. Says which."""
    with _current_lock:
        current = _current[1] if _current is not None and _current[0] == run_id else None
    if current is not None and current.index_built():
        return "built by the helper that validated the run's last suite"
    build_data_docs_index(settings)
    return "built by the catalog step"
