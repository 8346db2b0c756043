"""dbt's fixed costs per run (issue 9): a seed is loaded and its tests run only when its files changed since its
last load into this lake, or the lake lacks its table; the partial parse of the last run is reused."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipelines import settings as settings_module
from pipelines.assets import dbt, dbt_state
from pipelines.lake.connection import reader, writer

SEED = dg.AssetKey(["seeds", "carbon_account_factors"])
OTHER_SEED = dg.AssetKey(["seeds", "plan_direct_financing_types"])
THIRD_SEED = dg.AssetKey(["seeds", "climate_stress_sector_classes"])
MODEL = dg.AssetKey(["staging", "stg_public__green_behaviours"])
# a singular test that reads the seed AND the model: it runs whenever the model is built, seed loaded or not
MIXED_TEST = "test.lakehouse.assert_carbon_account_factors__every_behaviour_type_has_a_factor"


@pytest.fixture(scope="module")
def manifest():
    return json.loads(dbt.DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))


def seed_id(key: dg.AssetKey) -> str:
    return f"seed.lakehouse.{key.path[-1]}"


def build(selection):
    job = dg.Definitions(assets=[dbt.dbt_models], resources=dbt.defs.resources, jobs=[dg.define_asset_job(
        "seeds_and_a_model", selection=dg.AssetSelection.assets(*selection))]).resolve_job_def("seeds_and_a_model")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    [target] = (dbt.DBT_DIR / "target").glob(f"dbt_models-{result.run_id[:7]}-*")
    ran = {r["unique_id"] for r in json.loads((target / "run_results.json").read_text())["results"]}
    built = {e.materialization.asset_key for e in result.get_asset_materialization_events()}
    checked = {e.asset_check_key.asset_key for e in result.get_asset_check_evaluations()}
    assert all(e.passed for e in result.get_asset_check_evaluations())  # none reported failed, run or not
    log = (target / "dbt.log").read_text() if (target / "dbt.log").exists() else None
    partial = log and "Unable to do partial parsing" not in log and "Partial parsing enabled" in log
    return ran, built, checked, partial


def test_unchanged_seeds_are_neither_reloaded_nor_retested_and_changed_or_missing_ones_are(
        lake, manifest, monkeypatch, tmp_path):
    # configured as the Python sessions are; unset, dbt_env() gives half the machine's memory
    monkeypatch.delenv("LAKEHOUSE_DUCKDB_MEMORY_LIMIT", raising=False)
    assert settings_module.load().dbt_env()["LAKEHOUSE_DUCKDB_MEMORY_LIMIT"] == settings_module.default_memory_limit()
    monkeypatch.setenv("LAKEHOUSE_DUCKDB_MEMORY_LIMIT", "1GiB")
    monkeypatch.setenv("LAKEHOUSE_DUCKDB_THREADS", "1")
    seeds = [seed_id(key) for key in (SEED, OTHER_SEED, THIRD_SEED)]
    seed_tests = set(dbt_state.only_tests(manifest, seeds))
    assert seed_tests and MIXED_TEST not in seed_tests

    # a fresh lake: no state beside it, every selected seed is loaded and tested; no debug log by default
    ran, built, checked, partial = build([SEED, OTHER_SEED, THIRD_SEED, MODEL])
    assert partial is None
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")  # the log says whether the parse was reused
    assert {*seeds, MIXED_TEST} | seed_tests <= ran
    assert {SEED, OTHER_SEED, THIRD_SEED, MODEL} <= built and SEED in checked
    state = dbt_state.state_dir(lake)
    assert state == lake.root / "lakehouse" / "dbt_state"
    assert set(dbt_state.read_seed_state(state)) == set(seeds)

    # SEED as if its CSV had been edited since (recorded with other files), THIRD_SEED's table gone, OTHER_SEED as
    # loaded: only OTHER_SEED and its own tests are left out; the test that also reads the model still runs
    recorded = json.loads((state / dbt_state.SEED_STATE).read_text())
    recorded["fingerprints"][seed_id(SEED)] = "the files before an edit"
    (state / dbt_state.SEED_STATE).write_text(json.dumps(recorded))
    with writer(lake) as con:
        con.execute(f"DROP TABLE seeds.{THIRD_SEED.path[-1]}")
    (state / dbt_state.VIEW_STATE).unlink()  # the view as if never tested: created again (the next test's subject)
    ran, built, checked, partial = build([SEED, OTHER_SEED, THIRD_SEED, MODEL])
    other_tests = set(dbt_state.only_tests(manifest, [seed_id(OTHER_SEED)]))
    assert not ran & ({seed_id(OTHER_SEED)} | other_tests)
    assert {seed_id(SEED), seed_id(THIRD_SEED), MIXED_TEST} | (seed_tests - other_tests) <= ran
    assert built == {SEED, THIRD_SEED, MODEL} and OTHER_SEED not in checked
    assert partial  # the previous run's parse reused (the build-time one was made for another profile)
    fingerprint = dbt_state.seed_fingerprints(manifest, dbt.DBT_DIR)[seed_id(SEED)]
    assert dbt_state.read_seed_state(state)[seed_id(SEED)] == fingerprint
    with reader(lake) as con:  # still there, as loaded the first time
        assert con.execute(f"SELECT count(*) FROM seeds.{OTHER_SEED.path[-1]}").fetchone()[0] > 0

    # dbt's DuckDB got the memory limit and threads the Python sessions get (the same profile: parse reused)
    (tmp_path / "target").mkdir()
    shutil.copy(state / dbt_state.PARTIAL_PARSE, tmp_path / "target" / dbt_state.PARTIAL_PARSE)
    query = ("select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads, "
             "current_setting('temp_directory') as temp_directory")
    shown = subprocess.run(
        [str(Path(sys.executable).parent / "lakehouse"), "dbt", "show", "--inline", query, "--output", "json",
         "--log-format", "json", "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        capture_output=True, text=True, check=True).stdout
    [preview] = [json.loads(line)["data"]["preview"] for line in shown.splitlines()
                 if line.startswith("{") and "preview" in json.loads(line).get("data", {})]
    with reader(settings_module.load()) as con:
        python_side = con.execute(query).fetchone()
    spill = str(settings_module.load().root / "lakehouse" / "tmp")  # beside the lake
    assert json.loads(preview) == [{"memory_limit": "1.0 GiB", "threads": 1, "temp_directory": spill}]
    assert python_side == ("1.0 GiB", 1, spill)


def test_a_seed_fingerprint_follows_its_csv_its_yml_and_its_tests(manifest, tmp_path):
    """On a copy of the project: the real seed files are never edited."""
    project = tmp_path / "dbt_project"
    shutil.copytree(dbt.DBT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", ".tmp"))
    before = dbt_state.seed_fingerprints(manifest, project)
    node = manifest["nodes"][seed_id(SEED)]

    def changed_after(edit) -> set[str]:
        edit()
        after = dbt_state.seed_fingerprints(manifest, project)
        return {uid for uid in before if before[uid] != after[uid]}

    csv = project / node["original_file_path"]
    assert changed_after(lambda: csv.write_text(csv.read_text() + "\n")) == {seed_id(SEED)}
    before = dbt_state.seed_fingerprints(manifest, project)
    yml = project / node["patch_path"].split("://", 1)[1]
    configured_there = {uid for uid, n in manifest["nodes"].items() if n.get("patch_path") == node["patch_path"]}
    assert changed_after(lambda: yml.write_text(yml.read_text() + "\n")) == configured_there
    before = dbt_state.seed_fingerprints(manifest, project)
    seeds = [uid for uid, n in manifest["nodes"].items() if n["resource_type"] == "seed"]
    singular = next(t for t in dbt_state.only_tests(manifest, seeds).values()
                    if t["original_file_path"][-4:] == ".sql")
    test_file = project / singular["original_file_path"]
    assert changed_after(lambda: test_file.write_text(test_file.read_text() + "\n")) == set(
        singular["depends_on"]["nodes"])
    before = dbt_state.seed_fingerprints(manifest, project)
    assert changed_after(lambda: None) == set()



def listed(tmp_path: Path, exclude: list[str]) -> set[str]:
    """The nodes `dbt build` would run with ``exclude``, as the pipeline calls it (cautious indirect selection)."""
    target = tmp_path / "target"
    if not target.exists():  # the build-time parse (same `compile` target): dbt ls need not parse again
        target.mkdir()
        shutil.copy(dbt.DBT_DIR / "target" / dbt_state.PARTIAL_PARSE, target / dbt_state.PARTIAL_PARSE)
    out = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "ls", "--target", "compile", *dbt.BUILD_ARGS[1:],
         "--exclude", *exclude, "--resource-type", "all", "--output", "json", "--output-keys", "unique_id",
         "--quiet", "--target-path", str(target), "--log-path", str(tmp_path / "logs")],
        cwd=dbt.DBT_DIR, capture_output=True, text=True, check=True,
        env={**settings_module.load().dbt_env(), "DBT_INDIRECT_SELECTION": "cautious", "PATH": ""}).stdout
    return {json.loads(line)["unique_id"] for line in out.splitlines() if line.startswith("{")}


def test_excluding_seeds_leaves_out_exactly_the_tests_that_read_only_them(manifest, tmp_path):
    """The seed selectors stand for the tests that read only those seeds (naming each test cost dbt 13 s a run)."""
    seeds = {uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "seed"}
    assert dbt_state.seed_exclusions(manifest, seeds) == ["resource_type:seed"]
    everything = listed(tmp_path, ["nothing_at_all"])
    for excluded in (seeds, {seed_id(SEED), seed_id(OTHER_SEED)}):
        left = listed(tmp_path, dbt_state.seed_exclusions(manifest, excluded))
        assert left == everything - excluded - set(dbt_state.only_tests(manifest, excluded))
        assert MIXED_TEST in left


LOANS = dg.AssetKey(["staging", "stg_bank__loans"])
LOANS_UNIQUE = "test.lakehouse.unique_combination_stg_bank__loans_bank_code__loan_id__report_month.6e05f9158e"


def dbt_test_statuses(selection) -> dict[str, str]:
    """Run the dbt asset on ``selection``, failing tests or not: {test id: dbt's status}."""
    job = dg.Definitions(assets=[dbt.dbt_models], resources=dbt.defs.resources, jobs=[dg.define_asset_job(
        "tested", selection=dg.AssetSelection.assets(*selection))]).resolve_job_def("tested")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    [target] = (dbt.DBT_DIR / "target").glob(f"dbt_models-{result.run_id[:7]}-*")
    return {r["unique_id"]: r["status"] for r in json.loads((target / "run_results.json").read_text())["results"]
            if r["unique_id"].startswith("test.")}


def test_staging_tests_read_the_rows_loaded_since_they_last_passed(landed, monkeypatch):
    """Generic tests on a staging view read the rows delivered since the same test last passed (tested_rows.sql):
    an old row is not read again, a new row repeating an old key still fails uniqueness, and a failed test reads
    the same rows again next time."""
    from pipelines.contracts.model import all_contracts
    from pipelines.ingest.load import load_partition

    monkeypatch.setenv("LAKEHOUSE_DUCKDB_THREADS", "1")
    load_partition(all_contracts()["bank_loans"], "2020-01", landed, log=lambda _: None)
    first = dbt_test_statuses([LOANS])
    assert first[LOANS_UNIQUE] == "pass"
    with reader(landed) as con:
        assert con.execute("SELECT model, tested_through = (SELECT max(_loaded_at) FROM raw.bank__loans) "
                           "FROM meta.dbt_test_watermarks WHERE test_id = ?", [LOANS_UNIQUE]).fetchall() == [
            ("model.lakehouse.stg_bank__loans", True)]
    with writer(landed) as con:  # a row repeating a key, as if loaded before that pass: not read again
        con.execute("INSERT INTO raw.bank__loans SELECT * FROM raw.bank__loans LIMIT 1")
    second = dbt_test_statuses([LOANS])
    assert second[LOANS_UNIQUE] == "pass"
    with writer(landed) as con:  # a new delivery repeating an old row's key: read, with the rows it repeats
        con.execute("INSERT INTO raw.bank__loans SELECT * REPLACE (now() AS _loaded_at) FROM raw.bank__loans LIMIT 1")
    third, fourth = dbt_test_statuses([LOANS]), dbt_test_statuses([LOANS])
    assert third[LOANS_UNIQUE] == fourth[LOANS_UNIQUE] == "fail"


BALANCES = dg.AssetKey(["marts", "fct_green_loan_balance_monthly"])
DIVISIONS = dg.AssetKey(["staging", "stg_public__divisions"])
BALANCES_UNIQUE = ("test.lakehouse.unique_combination_fct_green_loan_balance_monthly_report_month__district_code__"
                   "bank_code.070d71bed1")
BALANCES_RECONCILE = "test.lakehouse.assert_green_loan_balance_reconciles_to_staging"


def test_mart_tests_read_the_periods_changed_since_they_last_passed(landed, monkeypatch):
    """A generic test on an incremental mart reads the rows inserted after the lake snapshot it last passed on, and
    a reconciliation test the periods its inputs changed in since (tested_rows.sql): a row it passed on is not read
    again, the same row counted from an older pass is, and a test never passed reads everything."""
    from pipelines.contracts.model import all_contracts
    from pipelines.ingest.load import load_partition

    monkeypatch.setenv("LAKEHOUSE_DUCKDB_THREADS", "1")
    for month in ("2020-01", "2020-02"):
        load_partition(all_contracts()["bank_loans"], month, landed, log=lambda _: None)
    selection = [LOANS, DIVISIONS, BALANCES]
    first = dbt_test_statuses(selection)
    assert first[BALANCES_UNIQUE] == first[BALANCES_RECONCILE] == "pass"
    with reader(landed) as con:
        passed = dict(con.execute("SELECT test_id, tested_through_snapshot FROM meta.dbt_test_watermarks "
                                  "WHERE test_id IN (?, ?)", [BALANCES_UNIQUE, BALANCES_RECONCILE]).fetchall())
        through = con.execute("SELECT tested_through = (SELECT max(_loaded_at) FROM raw.bank__loans) "
                              "FROM meta.dbt_test_watermarks WHERE test_id = ?", [BALANCES_RECONCILE]).fetchone()
    assert set(passed) == {BALANCES_UNIQUE, BALANCES_RECONCILE} and None not in passed.values()
    assert through == (True,)  # the reconciliation also reads staging: the newest load time it read
    with writer(landed) as con:  # January's first row twice over: a duplicate key, and a month that no longer adds up
        con.execute("INSERT INTO marts.fct_green_loan_balance_monthly "
                    "SELECT * FROM marts.fct_green_loan_balance_monthly WHERE report_month = DATE '2020-01-01' LIMIT 1")
        now = con.execute("SELECT * FROM lake.current_snapshot()").fetchone()[0]

    def passed_at(snapshot: int) -> None:
        with writer(landed) as con:
            con.execute("UPDATE meta.dbt_test_watermarks SET tested_through_snapshot = ? WHERE test_id IN (?, ?)",
                        [snapshot, BALANCES_UNIQUE, BALANCES_RECONCILE])

    passed_at(now)  # as if both had passed after the row came: not read again
    second = dbt_test_statuses(selection)
    assert second[BALANCES_UNIQUE] == second[BALANCES_RECONCILE] == "pass"
    passed_at(passed[BALANCES_UNIQUE])  # as they did pass: before the row, so read
    third = dbt_test_statuses(selection)
    assert third[BALANCES_UNIQUE] == third[BALANCES_RECONCILE] == "fail"


def test_a_singular_test_whose_sql_changed_has_no_watermark(lake):
    """A singular test keeps its unique_id when its SQL is edited: its watermark holds only for the SQL that passed."""
    from pipelines.quality import dbt_results

    def node(checksum: str) -> dict:
        return {"resource_type": "test", "package_name": "lakehouse",
                "checksum": {"name": "sha256", "checksum": checksum},
                "config": {"meta": {"tested_by_period": {"inputs": [["fct_x", "report_month", None]]}}}}

    results = {"results": [{"unique_id": "test.lakehouse.assert_x", "status": "pass"}]}
    rows = dbt_results.watermarks(results, {"nodes": {"test.lakehouse.assert_x": node("aaa")}}, {}, 7)
    assert rows == [("test.lakehouse.assert_x", None, None, 7, "aaa")]
    dbt_results.record(lake, [], rows)
    with reader(lake) as con:
        kept = json.loads(dbt_results.watermarks_env(con, {"nodes": {"test.lakehouse.assert_x": node("aaa")}}))
        edited = json.loads(dbt_results.watermarks_env(con, {"nodes": {"test.lakehouse.assert_x": node("bbb")}}))
    assert kept == {"load_time": {}, "snapshot": {"7": "assert_x"}}
    assert edited == {"load_time": {}, "snapshot": {}}


def test_a_test_whose_seed_changed_has_no_watermark(lake):
    """A test of the loans against a seed (every product mapped) that passed on the months loaded so far reads every
    month again once the seed is edited: a mapping removed there may fail a product it passed before."""
    from pipelines.quality import dbt_results

    def nodes(seed_checksum: str) -> dict:
        return {"test.lakehouse.assert_mapped": {
                    "resource_type": "test", "package_name": "lakehouse",
                    "checksum": {"name": "sha256", "checksum": "aaa"},
                    "depends_on": {"nodes": ["model.lakehouse.stg_x", "seed.lakehouse.mapping"]},
                    "config": {"meta": {"tested_by_period": {"inputs": [["stg_x", "report_month", "loaded_at"]]}}}},
                "model.lakehouse.stg_x": {"resource_type": "model", "schema": "staging", "name": "stg_x"},
                "seed.lakehouse.mapping": {"resource_type": "seed", "checksum": {"name": "sha256",
                                                                                  "checksum": seed_checksum}}}

    results = {"results": [{"unique_id": "test.lakehouse.assert_mapped", "status": "pass"}]}
    rows = dbt_results.watermarks(results, {"nodes": nodes("s1")},
                                  {"model.lakehouse.stg_x": "2026-11-29 10:00:00+00"}, 9)
    [(_test, _model, through, snapshot, checksum)] = rows
    assert (through, snapshot) == ("2026-11-29 10:00:00+00", 9) and checksum not in ("aaa", "s1")
    dbt_results.record(lake, [], rows)
    with reader(lake) as con:
        kept = json.loads(dbt_results.watermarks_env(con, {"nodes": nodes("s1")}))
        edited = json.loads(dbt_results.watermarks_env(con, {"nodes": nodes("s2")}))
    assert kept["snapshot"] == {"9": "assert_mapped"} and list(kept["load_time"].values()) == ["assert_mapped"]
    assert edited == {"load_time": {}, "snapshot": {}}


MAPPED_TEST = "test.lakehouse.assert_pcaf_asset_class_of_product__every_product_mapped"


def test_unchanged_staging_views_are_neither_created_nor_tested_again(landed, manifest, monkeypatch):
    """A staging view whose files are unchanged and whose raw table no snapshot changed since its tests last passed
    is left out of the build with the tests that read only it; a delivery, or an edit, brings both back."""
    from pipelines.contracts.model import all_contracts
    from pipelines.ingest.load import load_partition

    monkeypatch.setenv("LAKEHOUSE_DUCKDB_THREADS", "1")
    view = "model.lakehouse.stg_bank__loans"
    own_tests = set(dbt_state.view_tests(manifest)[view])
    assert LOANS_UNIQUE in own_tests and MAPPED_TEST in own_tests  # also a test of the loans against a seed
    nodes = manifest["nodes"]
    # the view and everything else its tests read (a build that left one out would not have run them all)
    selection = {dg.AssetKey([nodes[p]["schema"], nodes[p]["name"]])
                 for t in own_tests for p in nodes[t]["depends_on"]["nodes"]}
    load_partition(all_contracts()["bank_loans"], "2020-01", landed, log=lambda _: None)
    ran, built, _, _ = build(selection)
    assert {view} | own_tests <= ran and LOANS in built
    state = dbt_state.state_dir(landed)
    assert view in dbt_state.read_view_state(state)

    ran, built, _, _ = build(selection)  # nothing delivered since
    assert not ran & ({view} | own_tests) and LOANS not in built

    load_partition(all_contracts()["bank_loans"], "2020-02", landed, log=lambda _: None)  # a delivery
    ran, built, _, _ = build(selection)
    assert {view} | own_tests <= ran and LOANS in built

    recorded = json.loads((state / dbt_state.VIEW_STATE).read_text())
    recorded["views"][view]["fingerprint"] = "the files before an edit"
    (state / dbt_state.VIEW_STATE).write_text(json.dumps(recorded))
    ran, built, _, _ = build(selection)
    assert {view} | own_tests <= ran and LOANS in built
    assert dbt_state.read_view_state(state)[view]["fingerprint"] == dbt_state.view_fingerprints(
        manifest, dbt.DBT_DIR)[view]

    recorded = json.loads((state / dbt_state.VIEW_STATE).read_text())
    recorded["views"][view]["snapshot_time"] = "2020-01-01 00:00:00+00"  # a lake since deleted and made again
    (state / dbt_state.VIEW_STATE).write_text(json.dumps(recorded))
    ran, built, _, _ = build(selection)
    assert {view} | own_tests <= ran and LOANS in built
