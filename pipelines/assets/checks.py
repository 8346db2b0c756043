"""Great Expectations suites as blocking asset checks: a failing suite stops everything downstream."""

import dagster as dg

from pipelines import settings as settings_module
from pipelines.quality.expectations import Suite, load_suites, record, validate


def suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(suite.dataset.split(".")),
        name=f"gx_{suite.name}",
        description=f"Great Expectations suite {suite.name}: {suite.description}",
        blocking=True,
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        settings = settings_module.load()
        result = validate(settings, suite)
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
