"""Great Expectations suites as blocking asset checks: a failing suite stops everything downstream."""

import dagster as dg

from pipelines import settings as settings_module
from pipelines.quality import side_by_side
from pipelines.quality.expectations import Suite, load_suites, record

_SUITE_OF_CHECK: dict[dg.AssetCheckKey, Suite] = {}


def run_validations(context: dg.OpExecutionContext, settings) -> side_by_side.RunValidations:
    """The validations of this run's suites (pipelines.quality.side_by_side): the dbt step starts them, so that their
    helper processes are ready when the check steps begin."""
    run_checks = context.job_def.asset_layer.asset_graph.asset_check_keys
    if context.run.asset_check_selection is not None:
        run_checks = run_checks & context.run.asset_check_selection
    suites = sorted((_SUITE_OF_CHECK[k] for k in run_checks if k in _SUITE_OF_CHECK), key=lambda s: s.dataset)
    return side_by_side.for_run(context.run.run_id, settings, suites)


def suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    key = dg.AssetCheckKey(dg.AssetKey(suite.dataset.split(".")), f"gx_{suite.name}")
    _SUITE_OF_CHECK[key] = suite

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

    return _check


SUITES = load_suites()
defs = dg.Definitions(asset_checks=[suite_check(s) for s in SUITES])
