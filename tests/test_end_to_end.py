"""The whole graph on tiny data, in a temporary lake, checked against the input files themselves."""

import csv
import datetime as dt
import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import dagster as dg
import pytest

from pipelines.lake.connection import current_snapshot, reader

pytestmark = pytest.mark.e2e
MART = "marts.fct_green_loan_balance_monthly"
# what a reload may change: its batch, its time, and the landing path (the module's lake is a copy of the session's)
RAW_ROWS = "SELECT * EXCLUDE (_batch_id, _loaded_at, _source_file) FROM raw.bank__loans ORDER BY ALL"


def expected_mart(settings):
    """The mart computed straight from the delivered CSV files, with Python's csv and Decimal."""
    totals = defaultdict(lambda: [0, 0, Decimal(0), Decimal(0)])
    for path in sorted((settings.landing / "bank_loans").glob("*/*.csv")):
        with path.open(encoding="gb18030", newline="") as f:
            for row in csv.DictReader(f):
                key = (f"{row['报告期']}-01", row["区县代码"], row["金融机构代码"])
                balance, green = Decimal(row["贷款余额(元)"]), row["是否绿色贷款"] == "是"
                t = totals[key]
                t[0] += 1
                t[1] += green
                t[2] += balance
                t[3] += balance if green else 0
    return {k: (n, g, total, green, (green / total).quantize(Decimal("0.000001"), ROUND_HALF_UP) if total else None)
            for k, (n, g, total, green) in totals.items()}


def actual_mart(settings, at=None):
    with reader(settings) as con:
        version = f" AT (VERSION => {at})" if at is not None else ""
        rows = con.execute(
            f"SELECT report_month::VARCHAR, district_code, bank_code, loan_count, green_loan_count, "
            f"total_loan_balance_yuan, green_loan_balance_yuan, green_share FROM {MART}{version}").fetchall()
    return {(m, d, b): (n, g, total, green, share) for m, d, b, n, g, total, green, share in rows}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, pipeline_template):
    """`make run`'s entry point on two months of every demo source at a small scale (conftest's session build),
    copied into this module's own lake and Dagster home, which its tests change."""
    from conftest import copy_pipeline, located_at

    root = tmp_path_factory.mktemp("lake")
    copy_pipeline(pipeline_template, root)
    with located_at(root) as mp:
        from pipelines import settings as settings_module

        yield settings_module.load(), mp


def test_mart_equals_values_computed_from_the_input_files(pipeline):
    settings, _ = pipeline
    expected = expected_mart(settings)
    assert actual_mart(settings) == expected
    assert sum(v[2] for v in expected.values()) > 0


def test_every_dbt_unit_test_passes(pipeline, tmp_path):
    """The pipeline's runs leave dbt's unit tests out (pipelines/assets/dbt.py: they test the SQL, not the data);
    the suite runs every one of them, on the module's lake (a unit test reads its inputs' columns from the lake)."""
    from pipelines import cli
    from pipelines.assets.dbt import DBT_PROJECT

    target = tmp_path / "dbt_target"
    assert cli.main(["dbt", "test", "--select", "test_type:unit", "--quiet", "--target-path", str(target),
                     "--log-path", str(tmp_path / "dbt_logs")]) == 0
    results = [r for r in json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
               if not r["unique_id"].startswith("operation.")]  # the project's run-start hook
    declared = json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))["unit_tests"]
    assert len(declared) >= 50
    assert sorted(r["unique_id"] for r in results) == sorted(declared)
    assert {r["status"] for r in results} == {"pass"}


def test_the_validated_version_is_published_and_readable_by_snapshot(pipeline):
    settings, _ = pipeline
    with reader(settings) as con:
        [(version, snapshot, rows)] = con.execute(
            "SELECT version, snapshot_id, row_count FROM meta.publications WHERE dataset = ?", [MART]).fetchall()
        [(passed, checked_snapshot)] = con.execute(
            "SELECT passed, snapshot_id FROM meta.quality_results WHERE dataset = ? "
            "AND suite LIKE 'great_expectations:%'", [MART]).fetchall()
    assert (version, passed, snapshot) == (1, True, checked_snapshot)
    assert actual_mart(settings, at=snapshot) == expected_mart(settings)
    assert rows == len(expected_mart(settings))


def test_the_run_builds_the_catalog_breaking_no_rule_and_sends_its_lineage(pipeline):
    settings, _ = pipeline
    with reader(settings) as con:
        errors = con.execute("SELECT rule, dataset, column_name, message FROM meta.catalog_violations "
                             "WHERE severity = 'error'").fetchall()
        rows, quality, published = con.execute(
            "SELECT row_count, quality, (SELECT row_count FROM meta.catalog_datasets WHERE dataset = ?) "
            "FROM meta.catalog_datasets WHERE dataset = ?", [f"published.{MART.split('.')[1]}", MART]).fetchone()
        mart_rows = con.execute(f"SELECT count(*) FROM {MART}").fetchone()[0]
        checks = dict(con.execute("SELECT check_kind, count(*) FROM meta.catalog_quality WHERE dataset = ? "
                                  "GROUP BY ALL", [MART]).fetchall())
    assert errors == []
    assert rows == published == mart_rows > 0 and quality == "passed"
    assert checks["great_expectations"] == 1 and checks["dbt_test"] >= 4
    events = [json.loads(line) for line in (settings.root / "openlineage.jsonl").read_text().splitlines()]
    jobs = {e["job"]["name"]: e for e in events if e["eventType"] == "COMPLETE"}
    assert {"ingest.bank_loans", "dbt.stg_bank__loans", "dbt.fct_green_loan_balance_monthly"} <= set(jobs)
    [mart] = jobs["dbt.fct_green_loan_balance_monthly"]["outputs"]
    sources = mart["facets"]["columnLineage"]["fields"]["green_loan_balance_yuan"]["inputFields"]
    assert {(f["name"], f["field"]) for f in sources} == {("staging.stg_bank__loans", "balance_yuan"),
                                                          ("staging.stg_bank__loans", "is_green")}


def test_materializing_a_partition_again_changes_nothing(pipeline):
    settings, _ = pipeline
    from pipelines.definitions import defs

    with reader(settings) as con:
        raw_before = con.execute(RAW_ROWS).fetchall()
    instance = dg.DagsterInstance.get()
    assert defs.resolve_job_def("ingest_bank_loans").execute_in_process(
        partition_key="2020-12", instance=instance).success
    with reader(settings) as con:
        reloaded = current_snapshot(con)
    # the loans' slice of the transform (dbt runs only the selected models and their tests)
    rebuild = dg.Definitions.merge(defs, dg.Definitions(jobs=[dg.define_asset_job(
        "rebuild_green_credit", selection=dg.AssetSelection.assets(
            dg.AssetKey(["staging", "stg_bank__loans"]), dg.AssetKey(MART.split(".")),
            dg.AssetKey(["published", "fct_green_loan_balance_monthly"])))]))
    assert rebuild.resolve_job_def("rebuild_green_credit").execute_in_process(instance=instance).success
    from pipelines.assets.dbt import DBT_DIR, KEEP_RUN_ARTIFACTS

    assert len(list((DBT_DIR / "target").glob("dbt_models-*"))) <= KEEP_RUN_ARTIFACTS  # old run dirs pruned
    with reader(settings) as con:
        raw_after = con.execute(RAW_ROWS).fetchall()
        # incremental by month: the mart replaced December's rows (reloaded) and did not touch November's
        schema, table = MART.split(".")
        rewritten = con.execute(
            "SELECT change_type, report_month, count(*) FROM ducklake_table_changes('lake', ?, ?, ?, ?) "
            "GROUP BY ALL ORDER BY ALL", [schema, table, reloaded + 1, current_snapshot(con)]).fetchall()
    december = sum(1 for month, _, _ in expected_mart(settings) if month == "2020-12-01")
    assert rewritten == [("delete", dt.date(2020, 12, 1), december), ("insert", dt.date(2020, 12, 1), december)]
    assert raw_after == raw_before
    assert actual_mart(settings) == expected_mart(settings)
    with reader(settings) as con:  # same figures, so the published version consumers cite is unchanged
        assert con.execute("SELECT max(version) FROM meta.publications").fetchone()[0] == 1


def test_a_failing_expectation_stops_publication(pipeline):
    settings, _ = pipeline
    from pipelines.assets import checks, dbt, publish
    from pipelines.quality.expectations import Suite

    impossible = Suite("impossible", MART, "fails on purpose",
                       [{"expect_table_row_count_to_be_between": {"max_value": 0}}])
    defs = dg.Definitions(
        assets=[dbt.dbt_models, publish.publication_asset(impossible)],
        asset_checks=[checks.suite_check(impossible)],
        jobs=[dg.define_asset_job("t", selection=dg.AssetSelection.assets(
            dg.AssetKey(MART.split(".")), dg.AssetKey(["published", "fct_green_loan_balance_monthly"])))],
        resources=dbt.defs.resources,
    )
    with reader(settings) as con:
        before = con.execute("SELECT count(*) FROM meta.publications").fetchone()[0]
    result = defs.resolve_job_def("t").execute_in_process(instance=dg.DagsterInstance.get(), raise_on_error=False)
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [e.asset_check_key.name for e in failed] == ["gx_impossible"]
    built = {e.materialization.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["published", "fct_green_loan_balance_monthly"]) not in built
    with reader(settings) as con:
        assert con.execute("SELECT count(*) FROM meta.publications").fetchone()[0] == before
        assert con.execute("SELECT passed FROM meta.quality_results WHERE suite LIKE 'great_expectations:%' "
                           "ORDER BY evaluated_at DESC LIMIT 1"
                           ).fetchone()[0] is False


RUN_JOB = """
import sys
import dagster as dg
from pipelines.definitions import defs
job, partition = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
if job.startswith("select:"):  # an asset selection run as its own job, as the UI's "materialize selected" does
    defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[dg.define_asset_job(
        "selected", selection=dg.AssetSelection.from_string(job[len("select:"):]), tags={"lakehouse/writer": "true"})]))
    job, partition = "selected", None
result = defs.resolve_job_def(job).execute_in_process(
    instance=dg.DagsterInstance.ephemeral(), partition_key=partition, raise_on_error=False)
sys.exit(0 if result.success else 1)
"""


def test_runs_started_at_the_same_time_wait_for_each_other_instead_of_failing(pipeline):
    """Even outside the run queue (two deployments, a run started by hand), writers take turns."""
    import os
    import subprocess
    import sys

    settings, _ = pipeline
    # the loans' slice of the transform: the point is writers taking turns, not building every model
    transform = f'select:key:"staging/stg_bank__loans" or key:"{MART.replace(".", "/")}"'
    jobs = [[transform], ["ingest_bank_loans", "2020-11"], ["ingest_bank_loans", "2020-12"]]
    # Output goes to files, not pipes: a run that fills a pipe nobody reads yet would block holding the lock.
    logs = [settings.root / f"concurrent-{i}.log" for i in range(len(jobs))]
    procs = []
    for job, log in zip(jobs, logs, strict=True):
        with log.open("w") as out:
            procs.append(subprocess.Popen([sys.executable, "-c", RUN_JOB, *job], env=os.environ.copy(),
                                          stdout=out, stderr=subprocess.STDOUT, text=True))
    for proc in procs:
        proc.wait(timeout=600)
    for job, proc, log in zip(jobs, procs, logs, strict=True):
        output = log.read_text(errors="replace")
        assert proc.returncode == 0, f"{job}: {output[-3000:]}"
        assert "could not set lock" not in output.lower() and "database is locked" not in output.lower()
    assert actual_mart(settings) == expected_mart(settings)


def test_changed_figures_are_published_as_a_new_version(pipeline):
    settings, _ = pipeline
    from pipelines.assets.publish import publish
    from pipelines.lake.connection import writer
    from pipelines.quality.expectations import load_suites, record, validate

    with reader(settings) as con:
        before = con.execute("SELECT max(version), arg_max(snapshot_id, version) FROM meta.publications "
                             "WHERE dataset = ?", [MART]).fetchone()
    with writer(settings) as con:  # a correction that changes one figure, as a rebuild with new data would
        con.execute(f"UPDATE {MART} SET loan_count = loan_count + 1 WHERE rowid = (SELECT min(rowid) FROM {MART})")
    suite = next(s for s in load_suites() if s.dataset == MART)
    record(settings, validate(settings, suite))
    published = publish(settings, MART, log=lambda _: None)
    assert published["new"] and published["version"] == before[0] + 1 and published["snapshot_id"] > before[1]
    assert publish(settings, MART, log=lambda _: None)["new"] is False  # nothing changed since


def staging_models_by_contract() -> dict[str, list[str]]:
    """Contract name -> the staging models reading its dbt source (from the manifest's lineage)."""
    import json

    from pipelines.assets.dbt import DBT_DIR

    manifest = json.loads((DBT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    return {source["meta"]["contract"]: [manifest["nodes"][child]["name"] for child in manifest["child_map"][key]
                                         if child.startswith("model.") and ".stg_" in child]
            for key, source in manifest["sources"].items()}


def test_every_source_loads_clean_and_staging_passes_every_row_through(pipeline):
    from pipelines.contracts.model import all_contracts

    settings, _ = pipeline
    staging_models = staging_models_by_contract()
    with reader(settings) as con:
        for contract in all_contracts().values():
            raw = con.execute(f"SELECT count(*) FROM {contract.raw_table}").fetchone()[0]
            bad = con.execute(f"SELECT count(*) FROM {contract.quarantine_table} WHERE severity = 'error'"
                              ).fetchone()[0]
            [staging] = staging_models[contract.name]  # each dataset has exactly one staging model
            staged = con.execute(f"SELECT count(*) FROM staging.{staging}").fetchone()[0]
            files, rows_read = con.execute(  # each partition's latest load is what the lake holds
                "SELECT count(*), coalesce(sum(rows_read), 0) FROM (SELECT * FROM meta.ingestion_log WHERE dataset = ? "
                "QUALIFY batch_id = last_value(batch_id) OVER (PARTITION BY partition_key ORDER BY finished_at "
                "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))", [contract.name]).fetchone()
            # every delivered dataset was loaded; a small scale may give one no rows, or no file at all
            # (no green bond and no direct financing in two months at 0.2% of the city)
            delivered = any(settings.landing.glob(contract.landing_pattern.format(partition="*")))
            assert (files > 0 or not delivered) and bad == 0, (contract.name, files, bad)
            # nothing lost: every row delivered is in raw (each partition was loaded once) and in staging
            assert rows_read == raw == staged, (contract.name, rows_read, raw, staged)
        unreconciled = con.execute("SELECT count(*) FROM meta.ingestion_log "
                                   "WHERE rows_read <> rows_loaded + rows_quarantined").fetchone()[0]
        assert unreconciled == 0
        # the plan's own table: growth rates that disagree with their endpoints load, with a warning each
        warned = con.execute("SELECT count(*) FROM quarantine.public__plan_indicators WHERE severity = 'warning'"
                             ).fetchone()[0]
        assert warned > 0
