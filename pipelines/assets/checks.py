"""Great Expectations suites as blocking asset checks: a failing suite stops everything downstream."""

import dataclasses

import dagster as dg

from pipelines import settings as settings_module
from pipelines.quality import side_by_side
from pipelines.quality.expectations import Suite, load_suites, record

_SUITE_OF_CHECK: dict[dg.AssetCheckKey, Suite] = {}
_STEP_OF_CHECK: dict[dg.AssetCheckKey, str] = {}
DBT_STEP = "dbt_models"  # the dbt assets' op (pipelines.assets.dbt), which builds the marts the suites read
# the executors that run a run's steps in its one process (the second is execute_in_process's: make run, the bench)
IN_PROCESS_EXECUTORS = ("in_process", "execute_in_process_executor")


def run_validations(context: dg.OpExecutionContext, settings) -> side_by_side.RunValidations:
    """The validations of this run's suites (pipelines.quality.side_by_side): the dbt step starts them, so that their
    helper processes are ready when the check steps begin. A run's suites are the checks it will execute: those of
    its job and selection, or of the steps a re-execution names."""
    run = context.run
    run_checks = context.job_def.asset_layer.asset_graph.asset_check_keys
    if run.asset_check_selection is not None:
        run_checks = run_checks & run.asset_check_selection
    if run.step_keys_to_execute is not None:
        run_checks = {k for k in run_checks if _STEP_OF_CHECK.get(k) in run.step_keys_to_execute}
    suites = sorted((_SUITE_OF_CHECK[k] for k in run_checks if k in _SUITE_OF_CHECK), key=lambda s: s.dataset)
    builds = context.job_def.has_node_named(DBT_STEP) and (run.step_keys_to_execute is None
                                                           or DBT_STEP in run.step_keys_to_execute)
    if context.job_def.executor_def.name not in IN_PROCESS_EXECUTORS:  # steps with processes of their own would
        settings = dataclasses.replace(settings, gx_processes=0)  # not share the helpers: each step validates its own
    return side_by_side.for_run(run.run_id, settings, suites, gated=builds)


def suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    key = dg.AssetCheckKey(dg.AssetKey(suite.dataset.split(".")), f"gx_{suite.name}")

    @dg.asset_check(
        asset=key.asset_key,
        name=key.name,
        description=f"Great Expectations suite {suite.name}: {suite.description}",
        blocking=True,
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        settings = settings_module.load()
        result = run_validations(context.op_execution_context, settings).result(suite)
        record(settings, result)
        for failure in result.failed:
            context.log.error(f"{suite.dataset}: {failure['expectation']} failed: {failure}")
        return dg.AssetCheckResult(
            passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"expectations": result.evaluated, "failed": len(result.failed),
                      "snapshot_id": result.snapshot_id,
                      "rows_validated": result.scope.get("rows_validated", 0),
                      "scope": dg.MetadataValue.json(result.scope),
                      "failures": dg.MetadataValue.json(result.failed)},
        )

    _SUITE_OF_CHECK[key], _STEP_OF_CHECK[key] = suite, _check.node_def.name  # a check's step key is its op's name
    return _check


SUITES = load_suites()
defs = dg.Definitions(asset_checks=[suite_check(s) for s in SUITES])
