"""Reading the next partitions' files while the previous ones are checked and written (issue 9).

Reading a delivery (transcoding GB18030, parsing CSV into Arrow) is mostly Python and one core; checking and
writing it is DuckDB, which releases the GIL. One reader thread ahead of the loader lets the two overlap on a
machine's cores: a backfill of seven years of loans spent a quarter of its time reading while a core sat idle.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class ReadAhead(Generic[T, R]):
    """``read(item)`` for each item in order on one thread, yielded in order. The thread holds at most
    ``max_rows`` rows (``rows(result)``) read and not yet taken, plus the item it is reading: the memory a read-ahead
    costs is bounded whatever the partitions' sizes. An error in ``read`` is raised where its item would be
    yielded; leaving the ``with`` block stops the thread after its current item."""

    def __init__(self, items: Iterable[T], read: Callable[[T], R], rows: Callable[[R], int], max_rows: int):
        self._items, self._read, self._rows, self._max_rows = list(items), read, rows, max_rows
        self._ready: deque[tuple[R | None, BaseException | None]] = deque()
        self._held = 0
        self._stop = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="read-ahead", daemon=True)

    def __enter__(self) -> ReadAhead[T, R]:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        with self._changed:
            self._stop = True
            self._changed.notify_all()
        self._thread.join()

    def _run(self) -> None:
        for item in self._items:
            with self._changed:
                self._changed.wait_for(lambda: self._stop or self._held < self._max_rows)
                if self._stop:
                    return
            try:
                result, error = self._read(item), None
            except BaseException as exc:  # handed to the consumer, raised there
                result, error = None, exc
            with self._changed:
                self._ready.append((result, error))
                self._held += self._rows(result) if error is None else 0
                self._changed.notify_all()
            if error is not None:
                return

    def __iter__(self) -> Iterator[R]:
        for _ in self._items:
            with self._changed:
                self._changed.wait_for(lambda: self._ready)
                result, error = self._ready.popleft()
                self._held -= self._rows(result) if error is None else 0
                self._changed.notify_all()
            if error is not None:
                raise error
            yield result
