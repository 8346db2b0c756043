"""A run's Great Expectations suites validated side by side (issue 9): helper processes take suites from the end
of the run's list while the check steps take theirs from the front, with the results a step would get alone."""

import dataclasses
import time

from pipelines.lake.connection import writer
from pipelines.quality import expectations
from pipelines.quality.expectations import Suite, data_docs_dir, validate
from pipelines.quality.side_by_side import MIN_SUITES, RunValidations

MART = "marts.t_side_by_side"
PASSING = [{"expect_table_row_count_to_be_between": {"min_value": 1}},
           {"expect_column_values_to_be_between": {"column": "amount", "min_value": 0}}]
FAILING = [{"expect_column_values_to_be_between": {"column": "amount", "max_value": 5}}]


def test_suites_validated_by_helpers_give_what_each_step_would_get_alone(lake):
    with writer(lake) as con:
        con.execute(f"CREATE TABLE {MART} AS SELECT range AS id, CAST(range AS DECIMAL(18, 2)) AS amount "
                    "FROM range(100)")
    suites = [Suite(f"s{i}", MART, "", FAILING if i in (0, MIN_SUITES - 1) else PASSING) for i in range(MIN_SUITES)]
    settings = dataclasses.replace(lake, gx_processes=1)
    alone = [validate(settings, suite) for suite in suites]

    validations = RunValidations(settings, suites)
    try:
        assert validations.ready.wait(120), "the helper did not start"
        together = [validations.result(suite) for suite in suites]
        taken = validations.taken_by_helpers
    finally:
        validations.close()

    assert f"s{MIN_SUITES - 1}" in taken and "s0" not in taken  # helpers take from the end, the steps from the front
    assert [(r.suite, r.passed, r.evaluated, r.failed, r.snapshot_id, r.scope) for r in together] == [
        (r.suite, r.passed, r.evaluated, r.failed, r.snapshot_id, r.scope) for r in alone]
    assert [r.passed for r in together] == [False, *[True] * (MIN_SUITES - 2), False]


def test_helpers_only_where_they_pay_and_the_catalog_lets_them_read(lake):
    settings = dataclasses.replace(lake, gx_processes=1)
    assert RunValidations.helpers(settings, MIN_SUITES) == 1
    assert RunValidations.helpers(settings, MIN_SUITES - 1) == 0  # a helper's start-up would cost more
    assert RunValidations.helpers(dataclasses.replace(settings, gx_processes=0), 30) == 0
    # a DuckDB-file catalog cannot be read by another process while the run writes its results
    assert RunValidations.helpers(dataclasses.replace(settings, catalog="/tmp/lake.duckdb"), 30) == 0
    assert RunValidations.helpers(dataclasses.replace(settings, gx_processes=3), 30) == 3


def test_helpers_of_a_run_that_builds_the_marts_take_a_suite_once_its_mart_is_built_and_stop_when_closed(lake):
    """The dbt step starts the helpers gated: they take a suite only once dbt has built its mart (or every suite
    once dbt succeeded), and a failed dbt step closes them, after which every suite is validated by its own step."""
    built, later = f"{MART}_built", f"{MART}_later"
    with writer(lake) as con:
        for table in (built, later):
            con.execute(f"CREATE TABLE {table} AS SELECT range AS id, CAST(range AS DECIMAL(18, 2)) AS amount "
                        "FROM range(10)")
    half = MIN_SUITES // 2
    suites = [Suite(f"g{i}", built if i < half else later, "", PASSING) for i in range(MIN_SUITES)]
    validations = RunValidations(dataclasses.replace(lake, gx_processes=1), suites, gated=True)
    try:
        assert validations.ready.wait(120), "the helper did not start"
        assert validations.result(suites[-1]).passed  # a check step before the marts are built validates its own
        time.sleep(1)
        assert validations.taken_by_helpers == set()  # no mart built yet
        validations.built(built)
        deadline = time.monotonic() + 60
        while not validations.taken_by_helpers and time.monotonic() < deadline:
            time.sleep(0.05)
        assert validations.taken_by_helpers and validations.taken_by_helpers <= {s.name for s in suites[:half]}
    finally:
        validations.close()
    assert all(validations.result(suite).passed for suite in suites)


def test_helpers_that_validated_every_suite_build_the_data_docs_index_so_the_run_needs_no_gx(lake):
    """The last helper builds the index once every suite's result is stored; the run's own process makes no GX context.
    A suite validated by its own step instead leaves the index to the catalog step."""
    with writer(lake) as con:
        con.execute(f"CREATE TABLE {MART} AS SELECT range AS id, CAST(range AS DECIMAL(18, 2)) AS amount FROM range(9)")
    suites = [Suite(f"i{i}", MART, "", PASSING) for i in range(MIN_SUITES)]
    settings = dataclasses.replace(lake, gx_processes=1)
    index = data_docs_dir(settings) / "index.html"
    validations = RunValidations(settings, suites, gated=True)
    try:
        validations.begin()  # every mart built: the helper takes them all, no step asking before it has
        deadline = time.monotonic() + 120
        while validations.taken_by_helpers != {s.name for s in suites} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [validations.result(suite).passed for suite in suites] == [True] * MIN_SUITES
        assert validations.taken_by_helpers == {s.name for s in suites}
        assert validations.index_built()
    finally:
        validations.close()
    assert index.exists() and all(f"i{i}" in index.read_text(encoding="utf-8") for i in range(MIN_SUITES))
    assert not any(root == settings.root / "lakehouse" / "gx" for root in expectations._CONTEXTS)

    mine = RunValidations(settings, suites)  # ungated: the first step validates its own suite before a helper can
    try:
        assert mine.result(suites[0]).passed
        assert all(mine.result(suite).passed for suite in suites[1:])
        assert "i0" not in mine.taken_by_helpers and not mine.index_built()
    finally:
        mine.close()
