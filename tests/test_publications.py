"""Consumers read a mart as it was published: the latest version, or one pinned by version or by date."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.lake import publications
from pipelines.lake.connection import current_snapshot, reader, writer

DAY1 = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
DAY2 = dt.datetime(2026, 4, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def published(lake):
    """marts.t published twice: version 1 with one figure, version 2 after a correction; then changed again,
    unpublished (its checks have not passed yet)."""
    with writer(lake) as con:
        con.execute("CREATE TABLE marts.t (k VARCHAR, v INTEGER)")
        con.execute("INSERT INTO marts.t VALUES ('a', 1)")
        first = current_snapshot(con)
        con.execute("INSERT INTO meta.publications VALUES ('marts.t', 1, ?, 1, '{}', ?, NULL)", [first, DAY1])
        con.execute("UPDATE marts.t SET v = 2")
        second = current_snapshot(con)
        con.execute("INSERT INTO meta.publications VALUES ('marts.t', 2, ?, 1, '{}', ?, NULL)", [second, DAY2])
        con.execute("UPDATE marts.t SET v = 3")
    return lake


def figure(settings, publication):
    with reader(settings) as con:
        return con.execute(f"SELECT v FROM {publication.relation()}").fetchone()[0]


def test_the_latest_publication_is_read_not_the_mart_as_it_is_now(published):
    with reader(published) as con:
        latest = publications.resolve(con, "marts.t")
        assert con.execute("SELECT v FROM marts.t").fetchone()[0] == 3
    assert (latest.version, figure(published, latest)) == (2, 2)


@pytest.mark.parametrize(("version", "as_of", "expected"), [
    (1, None, 1),
    (None, dt.date(2026, 1, 10), 1),  # a date means its end of day
    (None, dt.date(2026, 4, 9), 1),
    (None, dt.datetime(2026, 4, 10, 9, 0), 2),  # naive times are UTC
    (2, dt.date(2026, 12, 31), 2),
])
def test_a_version_or_date_pins_the_figure_reported_then(published, version, as_of, expected):
    with reader(published) as con:
        pinned = publications.resolve(con, "marts.t", version=version, as_of=as_of)
    assert figure(published, pinned) == expected


@pytest.mark.parametrize(("dataset", "version", "as_of", "message"), [
    ("marts.t", 3, None, "marts.t has no publication version 3"),
    ("marts.t", None, dt.date(2025, 12, 31), "marts.t has no publication as of 2025-12-31"),
    ("marts.other", None, None, "marts.other has no publication"),
])
def test_what_was_never_published_is_said_so(published, dataset, version, as_of, message):
    with reader(published) as con, pytest.raises(publications.NotPublished, match=message):
        publications.resolve(con, dataset, version=version, as_of=as_of)


def test_history_and_latest_of_every_mart(published):
    with reader(published) as con:
        assert [p.version for p in publications.history(con, "marts.t")] == [2, 1]
        assert {d: p.version for d, p in publications.latest_all(con).items()} == {"marts.t": 2}
        assert publications.latest_check(con, "marts.t") is None
