"""dbt models as Dagster assets, with one translator between the two worlds.

Rules of the translator (no per-model special cases): a dbt source is the ingestion asset of the same
lake table (``raw/<identifier>``), a model's key is ``<schema>/<name>``, and its group is the layer plus
the folder beneath it (``staging_bank``, ``marts_green_credit``). The manifest is prepared at build time
(``make manifest``), never raced at run time.
"""

import importlib.metadata
import json
import os
import shutil
import sys
import uuid
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from packaging.version import Version

from pipelines import settings as settings_module
from pipelines.assets import checks
from pipelines.assets.dbt_state import (
    fqn_selectors,
    keep_partial_parse,
    only_tests,
    record_loaded_seeds,
    record_tested_views,
    reuse_partial_parse,
    seed_exclusions,
    seed_fingerprints,
    state_dir,
    unchanged_seeds,
    unchanged_views,
    view_fingerprints,
)
from pipelines.lake.connection import current_snapshot, reader, writer
from pipelines.lake.lock import writer_lock
from pipelines.lake.meta import create_tables
from pipelines.quality import dbt_failures, dbt_results

_SETTINGS = settings_module.load()  # only the project's location and dbt target; the lake's are read per run
DBT_DIR = _SETTINGS.dbt_project_dir
DBT_PROJECT = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR, target=_SETTINGS.dbt_target)


class LakehouseTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["identifier"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props["fqn"]  # [project, layer, subfolder..., name]
        return "_".join(fqn[1:3]) if len(fqn) > 3 else fqn[1]

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str] | None:
        owner = dbt_resource_props.get("meta", {}).get("owner") or dbt_resource_props.get(
            "config", {}).get("meta", {}).get("owner")
        return [f"team:{owner}"] if owner else None

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        if dbt_resource_props["resource_type"] == "seed":
            return {"layer": "seeds"}
        return {"layer": dbt_resource_props["fqn"][1]}


KEEP_RUN_ARTIFACTS = 10
# dbt's unit tests check the SQL's logic on fixed rows, not the data: they are the test suite's and CI's
# (tests/test_end_to_end.py runs every one), not each production run's, as dbt's documentation advises; in the
# pipeline they cost about 20 s a run whatever the data (58 tests, issue 9).
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]
# dbt writes its debug log (every statement, ~20 MB a run) by formatting every event of every node, ~4 ms a node and
# a tenth of dbt's own time (1,221 nodes from empty, issue 9); the run's events are in Dagster, each node's SQL and
# result in its target directory. DBT_LOG_LEVEL_FILE=debug in the environment brings the file back.
DBT_LOG_LEVEL_FILE = "none"
TRANSLATOR = LakehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT, dagster_dbt_translator=TRANSLATOR)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Build the selected models and run their tests (dbt build), as the lake's only writer."""
    settings = settings_module.load()
    os.environ.update(settings.dbt_env())  # dbt's profiles.yml reads the lake's location from here
    state = state_dir(settings)
    # the name dagster-dbt would give it (prune_run_artifacts relies on it), chosen here to seed it first
    name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    target = DBT_DIR / "target" / name
    reuse_partial_parse(state, target)
    with writer(settings, purpose="meta tables") as con:  # a lake from before a meta table the tests read
        create_tables(con)
    with writer_lock(settings.lock_file, settings.lock_timeout_s, f"dbt run {context.run_id}", context.log.info):
        manifest = json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))
        fingerprints = seed_fingerprints(manifest, DBT_DIR)
        skipped = unchanged_seeds(settings, state, manifest, fingerprints)
        exclude = seed_exclusions(manifest, skipped)
        if skipped:
            context.log.info(f"{len(skipped)} seeds unchanged since their last load into this lake: not reloaded, "
                             f"and {len(only_tests(manifest, skipped))} tests that read only them not run again")
        views = view_fingerprints(manifest, DBT_DIR)
        settled = unchanged_views(settings, state, manifest, views)
        exclude += fqn_selectors(manifest, settled)
        if settled:
            left_out = len(only_tests(manifest, settled | skipped)) - len(only_tests(manifest, skipped))
            context.log.info(f"{len(settled)} staging views unchanged, and no rows of theirs, since their tests last "
                             f"passed: not created again, and {left_out} tests that read only them (and unchanged "
                             "seeds) not run again")
        args = [*BUILD_ARGS, "--exclude", " ".join(exclude)] if exclude else [*BUILD_ARGS]
        if not os.environ.get("DBT_LOG_LEVEL_FILE"):
            args += ["--log-level-file", DBT_LOG_LEVEL_FILE]
        with reader(settings) as con:
            os.environ[dbt_results.WATERMARKS_ENV] = dbt_results.watermarks_env(con, manifest)
        # the run's Great Expectations suites: their helpers warm up while dbt runs, and validate each mart once dbt
        # has built it (pipelines.quality.side_by_side)
        validations = checks.run_validations(context.op_execution_context, settings)
        try:
            invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target)
            for event in invocation.stream():
                yield event
                if isinstance(event, dg.Output):
                    validations.built(".".join(context.asset_key_for_output(event.output_name).path))
        except BaseException:
            validations.close()
            raise
        finally:
            os.environ.pop(dbt_results.WATERMARKS_ENV, None)
        with reader(settings) as con:  # still under the lock: the rows that were there for the tests to read
            run_results = invocation.get_artifact("run_results.json") if (target / "run_results.json").exists() else {}
            loaded_through = dbt_results.tested_through(con, manifest, run_results)
            snapshot = current_snapshot(con)
    keep_partial_parse(state, target)
    failed: list[dbt_failures.TestFailure] = []
    # failures too: the catalog shows each test's latest result, and a failing one most of all
    try:
        manifest = invocation.get_artifact("manifest.json")  # run_results: read above, under the lock
        dbt_results.record(settings, dbt_results.test_rows(run_results, manifest),
                           dbt_results.watermarks(run_results, manifest, loaded_through, snapshot))
        with reader(settings) as con:
            failed = dbt_failures.failures(run_results, manifest, DBT_DIR, con)
    except Exception as exc:  # dbt's own error (raised below) matters more than the record of its tests
        context.log.error(f"could not record dbt's test results: {exc}")
    finally:
        prune_run_artifacts(DBT_DIR / "target")
    for failure in failed:
        context.log.error(str(failure))
    error = invocation.get_error()
    if error is None:
        record_loaded_seeds(state, fingerprints, target / "run_results.json")
        record_tested_views(settings, state, views, manifest, target / "run_results.json", snapshot)
        validations.begin()
    else:
        validations.close()
        if failed:  # the rule and the rows, not only dbt's "Got 2 results, configured to fail if != 0"
            raise dg.Failure(description="\n".join(map(str, failed)),
                             metadata={"failed_tests": [f.test for f in failed]}) from error
        raise error


def prune_run_artifacts(target: Path, keep: int = KEEP_RUN_ARTIFACTS) -> None:
    """dagster-dbt gives every invocation its own target directory; keep the newest few for debugging."""
    runs = sorted(target.glob("dbt_models-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in runs[keep:]:
        shutil.rmtree(old, ignore_errors=True)


class LakehouseDbtCli(DbtCliResource):
    """dagster-dbt's resource without two fixed costs of every invocation that these assets do not use, ~6 s a
    transform run (issue 9): a `dbt --version` subprocess to learn the dbt version, and a dbt adapter loaded with the
    project's profile and macros, used only to fetch row counts or column metadata (never asked for here). The dbt
    it runs is this environment's (``dbt_executable`` below), so its version is the installed dbt-core's."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


defs = dg.Definitions(
    assets=[dbt_models],
    resources={"dbt": LakehouseDbtCli(
        project_dir=DBT_PROJECT, profiles_dir=str(DBT_DIR),
        # the dbt of this interpreter's environment, whether or not the venv is activated
        dbt_executable=str(Path(sys.executable).parent / "dbt"),
    )},
)
