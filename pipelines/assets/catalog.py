"""The data catalog as a Dagster asset, rebuilt after every pipeline run (success or failure alike, so that a
failed check is in the catalog too), with its rules as asset checks and its lineage sent on as OpenLineage; it
also rebuilds the index of Great Expectations' Data Docs.

It is the last step of the `transform` job, after every publication: in the run's own process, which has the
definitions loaded and GX imported already. Its own job, run by a new process, cost 8.7 s of a scale-1 new month
against ~4 s as a step (issue 9). A transform run that fails skips it, and a selection may leave it out: then a
sensor runs the `catalog` job, as it does after the rejection of unknown files."""

import dagster as dg

from pipelines import settings as settings_module
from pipelines.assets.publish import defs as publications
from pipelines.catalog import build, openlineage
from pipelines.jobs import reject_unknown_files_job, transform_job
from pipelines.lake.connection import reader
from pipelines.quality import side_by_side

CATALOG_KEY = dg.AssetKey(build.CATALOG_ASSET.split("/"))
MAX_LISTED = 50


def _listing(violations) -> str:
    lines = [str(v) for v in violations[:MAX_LISTED]]
    return "\n".join(lines + ([f"… and {len(violations) - MAX_LISTED} more"] if len(violations) > MAX_LISTED else []))


def send_lineage(context: dg.AssetExecutionContext, settings: settings_module.Settings) -> int:
    config = openlineage.lineage_config_from_env()
    if config.transport == "none":
        return 0
    with reader(settings) as con:
        events = openlineage.lineage_events(con, namespace=config.namespace, run_id=context.run_id,
                                            parent_job=context.job_name)
    try:
        return openlineage.emit(events, config)
    except openlineage.LineageEmitError as exc:  # the catalog is written; the lineage consumer is told next run
        context.log.error(str(exc))
        return 0


@dg.asset(
    key=CATALOG_KEY,
    # after every publication: the catalog lists the versions published and the results that allowed them
    deps=[asset.key for asset in publications.assets],
    group_name="catalog",
    kinds={"ducklake"},
    owners=["team:platform"],
    tags={"layer": "meta"},
    description="The data catalog (meta.catalog_datasets, _columns, _lineage, _glossary, _quality, _violations): "
                "every dataset from landing to published with owner, columns, classification, lineage, freshness "
                "and quality, derived from the contracts, the dbt manifest, the asset graph and the lake.",
    check_specs=[
        dg.AssetCheckSpec("catalog_rules", asset=CATALOG_KEY,
                          description="Owners, descriptions and classifications; one authoritative dataset per "
                                      "concept; only staging reads sources; physical schema = contracts."),
        dg.AssetCheckSpec("deliveries_on_time", asset=CATALOG_KEY,
                          description="No dataset is past its contract's delivery SLA (a warning)."),
    ],
)
def catalog(context: dg.AssetExecutionContext):
    settings = settings_module.load()
    built = build.build(settings, log=context.log.info)  # the asset graph of pipelines.definitions
    errors = built.errors
    warnings = [v for v in built.violations if v.severity == "warning"]
    for violation in errors:
        context.log.error(str(violation))
    sent = send_lineage(context, settings)
    try:  # the index of the checks' results, once a run rather than once a check
        context.log.info(f"Data Docs index {side_by_side.data_docs_index(context.run_id, settings)}")
    except Exception as exc:  # the catalog is written; a Data Docs index left as it was must not undo it
        context.log.error(f"could not rebuild the Data Docs index: {exc}")
    yield dg.MaterializeResult(metadata={
        "datasets": len(built.datasets), "columns": sum(len(d.columns) for d in built.datasets.values()),
        "lineage_edges": len(set(built.edges)), "concepts": len(built.concepts), "errors": len(errors),
        "overdue": len(warnings), "openlineage_events": sent})
    yield dg.AssetCheckResult(check_name="catalog_rules", passed=not errors, severity=dg.AssetCheckSeverity.ERROR,
                              metadata={"violations": len(errors), "listing": dg.MetadataValue.md(
                                  f"```\n{_listing(errors)}\n```" if errors else "none")})
    yield dg.AssetCheckResult(check_name="deliveries_on_time", passed=not warnings,
                              severity=dg.AssetCheckSeverity.WARN,
                              metadata={"overdue": len(warnings), "listing": dg.MetadataValue.md(
                                  f"```\n{_listing(warnings)}\n```" if warnings else "none")})


catalog_job = dg.define_asset_job("catalog", selection=[CATALOG_KEY], tags={"lakehouse/writer": "true"},
                                  description="Rebuild the data catalog in meta.catalog_* from the lake as it is.")


def built_catalog(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether the run materialized the catalog (a transform that ran whole does, as its last step)."""
    return any(event.dagster_event.asset_key == CATALOG_KEY
               for event in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION))


def _after(status: dg.DagsterRunStatus) -> dg.SensorDefinition:
    @dg.run_status_sensor(run_status=status, monitored_jobs=[transform_job, reject_unknown_files_job],
                          request_job=catalog_job, default_status=dg.DefaultSensorStatus.RUNNING,
                          name=f"catalog_after_{status.value.lower()}",
                          description="Rebuilds the catalog after the transformation or a rejection, when the run "
                                      f"ends in {status.value.lower()} and has not built it itself (a transform run "
                                      "that succeeds builds it as its last step, unless a selection left it out).")
    def _sensor(context: dg.RunStatusSensorContext):
        run_id = context.dagster_run.run_id
        if built_catalog(context.instance, run_id):
            return dg.SkipReason(f"run {run_id} built the catalog itself")
        return dg.RunRequest(run_key=f"catalog:{run_id}")
    return _sensor


defs = dg.Definitions(assets=[catalog], jobs=[catalog_job],
                      sensors=[_after(dg.DagsterRunStatus.SUCCESS), _after(dg.DagsterRunStatus.FAILURE)])
