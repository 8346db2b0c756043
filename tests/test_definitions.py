"""The asset graph as operators see it: keys, groups, lineage, checks, jobs and sensors."""

import subprocess
import sys
from datetime import UTC, date, datetime

import dagster as dg

from pipelines import settings as settings_module
from pipelines.definitions import defs
from pipelines.quality.expectations import load_suites

RAW = dg.AssetKey(["raw", "bank__loans"])
STG = dg.AssetKey(["staging", "stg_bank__loans"])
MART = dg.AssetKey(["marts", "fct_green_loan_balance_monthly"])
PUBLISHED = dg.AssetKey(["published", "fct_green_loan_balance_monthly"])


def _graph():
    return defs.resolve_asset_graph()


def test_asset_keys_and_groups_follow_layer_and_source():
    from pipelines.assets.ingest import CONTRACTS, asset_key

    graph = _graph()
    groups = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    for contract in CONTRACTS.values():  # raw_<source>, from the contract
        assert groups[asset_key(contract)] == f"raw_{contract.source}"
    staging = {key: group for key, group in groups.items() if key.path[0] == "staging"}
    assert staging and all(group == f"staging_{key.path[1][4:].split('__')[0]}" for key, group in staging.items())
    assert {groups[MART], groups[PUBLISHED]} == {"marts_green_credit", "published"}
    assert groups[dg.AssetKey(["meta", "catalog"])] == "catalog"
    assert {key.path[0] for key in groups} == {"raw", "seeds", "staging", "intermediate", "marts", "published", "meta"}
    assert {group for key, group in groups.items() if key.path[0] == "seeds"} == {"seeds"}


def test_dbt_sources_are_the_ingestion_assets_with_no_dangling_keys():
    from pipelines.assets.ingest import CONTRACTS, asset_key

    graph = _graph()
    keys = graph.get_all_asset_keys()
    for key in keys:
        assert graph.get(key).parent_keys <= keys, key
    raw_keys = {asset_key(c) for c in CONTRACTS.values()}
    for key in keys:  # staging reads raw only, and every dataset has its staging model
        if key.path[0] == "staging":
            assert graph.get(key).parent_keys and graph.get(key).parent_keys <= raw_keys, key
    assert all(any(k.path[0] == "staging" for k in graph.get(raw).child_keys) for raw in raw_keys)
    assert graph.get(STG).parent_keys == {RAW}
    assert graph.get(MART).parent_keys == {STG, dg.AssetKey(["staging", "stg_public__divisions"])}
    assert graph.get(PUBLISHED).parent_keys == {MART}


def test_great_expectations_check_blocks_publication():
    graph = _graph()
    checks = {key: graph.get_check_spec(key) for key in graph.asset_check_keys}
    gx = [spec for key, spec in checks.items() if key.name.startswith("gx_")]
    suites = {dg.AssetKey(s.dataset.split(".")) for s in load_suites()}
    assert (MART, True) in [(s.asset_key, s.blocking) for s in gx]
    assert {s.asset_key for s in gx if s.blocking} == suites  # every suite blocks, none is missing
    for key in suites:
        assert graph.get(dg.AssetKey(["published", key.path[1]])).parent_keys == {key}
    dbt_tests = [key for key in checks if key.asset_key == MART and not key.name.startswith("gx_")]
    assert len(dbt_tests) >= 4  # dbt tests on the mart surface as asset checks too


def test_suites_expect_nothing_their_marts_contract_already_guarantees(project_manifest: dict):
    """A mart's enforced dbt contract fixes its column set and the lake refuses a null in a not_null column, so a GX
    expectation of either could never fail: 169 of them cost the run's validation a quarter of its time (issue 9)."""
    models = {(n["schema"], n["name"]): n for n in project_manifest["nodes"].values() if n["resource_type"] == "model"}
    for suite in load_suites():
        model = models[tuple(suite.dataset.split("."))]
        assert model["config"]["contract"]["enforced"], suite.dataset
        not_null = {name for name, column in model["columns"].items()
                    if any(c["type"] == "not_null" for c in column["constraints"])}
        for item in suite.expectations:
            (name, kwargs), = item.items()
            assert name != "expect_table_columns_to_match_set", f"{suite.name}: the contract fixes the columns"
            assert not (name == "expect_column_values_to_not_be_null" and kwargs["column"] in not_null), \
                f"{suite.name}: {kwargs['column']} is not_null in the contract"


def test_raw_is_monthly_partitioned_and_jobs_and_sensors_exist():
    assert defs.resolve_assets_def(RAW).partitions_def.get_partition_keys()[0] == "2019-01"
    assert defs.resolve_job_def("ingest_bank_loans").partitions_def is not None
    assert defs.resolve_job_def("transform")
    names = {s.name for s in defs.sensors}
    assert {"landing_bank_loans", "transform_after_ingestion"} <= names


def test_the_transform_ends_with_the_catalog_and_a_run_that_did_not_build_it_leaves_it_to_a_sensor():
    """The catalog is the transform's last step, after every publication, in the run's own process. A failed
    transform skips it, and a selection may leave it out: the sensors then run the catalog job, and skip the runs
    that built it."""
    from pipelines.assets.catalog import CATALOG_KEY, built_catalog

    graph = _graph()
    published = {key for key in graph.get_all_asset_keys() if key.path[0] == "published"}
    assert published and graph.get(CATALOG_KEY).parent_keys == published
    assert CATALOG_KEY in defs.resolve_job_def("transform").asset_layer.asset_graph.executable_asset_keys

    @dg.asset(key=CATALOG_KEY)
    def catalog_stand_in() -> None: ...

    @dg.asset(key=["marts", "stand_in"])
    def mart_stand_in() -> None: ...

    instance = dg.DagsterInstance.ephemeral()
    built, not_built = (dg.materialize([a], instance=instance) for a in (catalog_stand_in, mart_stand_in))
    assert built_catalog(instance, built.run_id) and not built_catalog(instance, not_built.run_id)
    sensors = {s.name: s for s in defs.sensors}
    for name in ("catalog_after_success", "catalog_after_failure"):
        assert sensors[name].job_name == "catalog"
        assert {j.name for j in sensors[name]._monitored_jobs} == {"transform", "reject_unknown_files"}  # no API
    sensor = sensors["catalog_after_success"]
    for result, expected in ((built, dg.SkipReason), (not_built, dg.RunRequest)):
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name, dagster_instance=instance, dagster_run=instance.get_run_by_id(result.run_id),
            dagster_event=result.get_run_success_event())
        assert isinstance(sensor(context), expected)


def test_dagster_validates_the_workspace():
    proc = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
                          cwd=settings_module.PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_landing_sensor_requests_each_month_once_and_again_when_a_file_changes(landed):
    from pipelines.assets.ingest import CONTRACTS, INGESTION_JOBS
    from pipelines.sensors import landing_sensor

    sensor = landing_sensor(CONTRACTS["bank_loans"], INGESTION_JOBS["bank_loans"])
    context = dg.build_sensor_context(cursor=None)
    first = list(sensor(context))
    assert sorted(r.partition_key for r in first) == ["2020-01", "2020-02", "2020-03"]
    context = dg.build_sensor_context(cursor=context.cursor)
    assert list(sensor(context)) == []
    changed = next((landed.landing / "bank_loans" / "2020-02").glob("*.csv"))
    changed.write_bytes(changed.read_bytes() + b"\n")
    again = list(sensor(dg.build_sensor_context(cursor=context.cursor)))
    assert [r.partition_key for r in again] == ["2020-02"]
    assert again[0].run_key != next(r.run_key for r in first if r.partition_key == "2020-02")


def test_landing_sensor_does_not_reload_months_the_lake_already_has(landed):
    from pipelines.assets.ingest import CONTRACTS, INGESTION_JOBS
    from pipelines.ingest.load import load_partition
    from pipelines.sensors import landing_sensor

    contract = CONTRACTS["bank_loans"]
    load_partition(contract, "2020-01", landed, log=lambda _: None)
    requests = list(landing_sensor(contract, INGESTION_JOBS["bank_loans"])(dg.build_sensor_context(cursor=None)))
    assert sorted(r.partition_key for r in requests) == ["2020-02", "2020-03"]


def test_the_instance_starts_one_run_at_a_time(monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(settings_module.PROJECT_ROOT / ".dagster"))  # as the Makefile sets it
    instance = dg.DagsterInstance.from_config(str(settings_module.PROJECT_ROOT / ".dagster"))
    try:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
    finally:
        instance.dispose()


def test_transform_runs_after_ingestion_unless_one_is_already_waiting(landed):
    from dagster._core.storage.dagster_run import DagsterRun

    from pipelines.sensors import transform_after_ingestion

    instance = dg.DagsterInstance.ephemeral()
    ingested = defs.resolve_job_def("ingest_bank_loans").execute_in_process(instance=instance, partition_key="2020-01")
    assert ingested.success

    def evaluate():
        context = dg.build_run_status_sensor_context(
            sensor_name="transform_after_ingestion", dagster_instance=instance, dagster_run=ingested.dagster_run,
            dagster_event=ingested.get_run_success_event())
        return transform_after_ingestion(context)

    request = evaluate()
    assert isinstance(request, dg.RunRequest) and request.run_key == f"after:{ingested.run_id}"
    # a transform run created but not yet started (a queued run needs a code location origin; this does not)
    instance.add_run(DagsterRun(job_name="transform", run_id="waiting-transform",
                                status=dg.DagsterRunStatus.NOT_STARTED))
    skipped = evaluate()
    assert isinstance(skipped, dg.SkipReason) and "waiting-transform" in skipped.skip_message


def test_each_contract_gets_its_partitions_freshness_policy_and_schedule():
    from pipelines.assets.ingest import CONTRACTS, asset_key, deadline_cron

    graph = defs.resolve_asset_graph()
    schedules = {s.name: s for s in defs.schedules}
    for contract in CONTRACTS.values():
        node = graph.get(asset_key(contract))
        partitions = node.partitions_def
        expected = {"month": "%Y-%m", "year": "%Y", "snapshot": None}[contract.granularity]
        assert (partitions.fmt if partitions else None) == expected, contract.name
        assert schedules[f"deliveries_{contract.name}"].cron_schedule == deadline_cron(contract)
    loans = CONTRACTS["bank_loans"]  # due 15 days after the month: checked on the 16th
    assert deadline_cron(loans) == "0 0 16 * *"


def test_period_due_follows_the_sla():
    from pipelines.assets.ingest import CONTRACTS
    from pipelines.contracts.sla import period_due

    loans = CONTRACTS["bank_loans"]  # monthly, 15 days' latency
    assert period_due(loans, date(2021, 2, 16)) == "2021-01"
    assert period_due(loans, date(2021, 2, 15)) == "2020-12"  # January is not due until after the 15th
    assert period_due(loans, date(2021, 1, 20)) == "2020-12"


def test_delivery_schedule_loads_what_is_due_once(landed):
    from pipelines.assets.ingest import CONTRACTS, INGESTION_JOBS
    from pipelines.ingest.load import load_partition
    from pipelines.sensors import delivery_schedule

    contract = CONTRACTS["bank_loans"]
    schedule = delivery_schedule(contract, INGESTION_JOBS["bank_loans"])

    def tick(day: date):
        when = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=when,
                                                                  repository_def=defs.get_repository_def()))

    [request] = tick(date(2020, 3, 16)).run_requests
    assert request.partition_key == "2020-02"
    load_partition(contract, "2020-02", landed, log=lambda _: None)
    assert "already loaded" in tick(date(2020, 3, 16)).skip_message
    assert "not delivered" in tick(date(2020, 5, 16)).skip_message  # April never arrived


def test_unknown_files_are_set_aside_by_the_sensor_and_its_job(landed):
    from pipelines.sensors import unknown_files_sensor

    stray = landed.landing / "mystery_feed" / "dump.csv"
    stray.parent.mkdir(parents=True)
    stray.write_text("a,b\n1,2\n", encoding="utf-8")
    wrong_month = landed.landing / "bank_loans" / "2020-13" / "x.csv"
    wrong_month.parent.mkdir(parents=True)
    wrong_month.write_text("报告期\n", encoding="utf-8")
    request = unknown_files_sensor(dg.build_sensor_context())
    assert isinstance(request, dg.RunRequest)
    result = defs.resolve_job_def("reject_unknown_files").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    assert not stray.exists() and not wrong_month.exists()
    reason = (landed.landing / "rejected" / "mystery_feed" / "dump.csv.reason.txt").read_text(encoding="utf-8")
    assert "rule: unknown_dataset" in reason
    assert "invalid_partition" in (landed.landing / "rejected/bank_loans/2020-13/x.csv.reason.txt").read_text()
    assert isinstance(unknown_files_sensor(dg.build_sensor_context()), dg.SkipReason)
