"""The ingest's read-ahead: partitions read on a thread while the previous ones are loaded, in order, in bounded
memory, with a reader's error raised in the loader's thread."""

import threading
import time

import pytest

from pipelines.ingest.read_ahead import ReadAhead


def test_items_come_back_in_order_and_are_read_on_another_thread():
    readers = set()

    def read(item):
        readers.add(threading.current_thread().name)
        time.sleep(0.001 * (5 - item))  # later items read faster: order must not depend on timing
        return item * 10

    with ReadAhead(range(5), read, rows=lambda _: 1, max_rows=10) as reads:
        assert list(reads) == [0, 10, 20, 30, 40]
    assert readers == {"read-ahead"}


def recording_reader() -> tuple[list, object]:
    """A read that returns its item and the list of the items it was asked for."""
    read_so_far = []

    def read(item):
        read_so_far.append(item)
        return item

    return read_so_far, read


def test_the_reader_holds_at_most_max_rows_not_yet_taken_plus_the_item_it_reads():
    read_so_far, read = recording_reader()
    with ReadAhead(range(20), read, rows=lambda _: 100, max_rows=250) as reads:
        taken = iter(reads)
        assert next(taken) == 0
        # the reader runs ahead as far as it may (items 1-3 waiting: 300 rows, the third started below 250)
        deadline = time.monotonic() + 10
        while len(read_so_far) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # and then waits for the loader
        assert len(read_so_far) == 4
        assert list(taken) == list(range(1, 20))


def test_an_error_while_reading_is_raised_to_the_loader_after_the_items_before_it():
    def read(item):
        if item == 2:
            raise OSError("disk gone")
        return item

    got = []
    with pytest.raises(OSError, match="disk gone"), ReadAhead(range(5), read, rows=lambda _: 1, max_rows=10) as reads:
        for item in reads:
            got.append(item)
    assert got == [0, 1]


def test_leaving_early_stops_the_reader():
    read_so_far, read = recording_reader()
    with ReadAhead(range(1000), read, rows=lambda _: 1, max_rows=3) as reads:
        for item in reads:
            if item == 1:
                break
    thread_names = {t.name for t in threading.enumerate()}
    assert "read-ahead" not in thread_names
    assert len(read_so_far) < 10
