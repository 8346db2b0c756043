"""Automation: new files in landing/ trigger their partition's ingestion; each source's delivery schedule
loads what is due; files no contract accepts are set aside; a finished ingestion triggers the
transformation (dbt → checks → publication).

The landing sensor fingerprints each partition's files (name, size, modification time); its run key
includes the fingerprint, so an unchanged re-delivery requests nothing and a corrected file requests a
reload of its partition. A partition whose files are byte for byte the ones the lake last loaded (by
content hash, from meta.ingestion_log) is not reloaded, so a new Dagster instance does not redo history.
"""


import datetime as dt
import hashlib
import json

import dagster as dg

from pipelines import settings as settings_module
from pipelines.assets.ingest import CONTRACTS, INGESTION_JOBS, PARTITIONS, deadline_cron
from pipelines.contracts.model import Contract
from pipelines.contracts.sla import period_due
from pipelines.ingest.deliveries import already_loaded, landed_partitions, unknown_files
from pipelines.ingest.load import SNAPSHOT_KEY
from pipelines.jobs import reject_unknown_files_job, transform_job, valid_partition_keys


def _valid_keys(contract: Contract) -> set[str] | None:
    partitions = PARTITIONS[contract.granularity]
    return set(partitions.get_partition_keys()) if partitions else None


def landing_sensor(contract: Contract, job) -> dg.SensorDefinition:
    @dg.sensor(name=f"landing_{contract.name}", job=job, minimum_interval_seconds=30,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description=f"Loads {contract.name} when its files in landing/ appear or change.")
    def _sensor(context: dg.SensorEvaluationContext):
        settings = settings_module.load()
        seen = json.loads(context.cursor) if context.cursor else {}
        current = {key or SNAPSHOT_KEY: fp for key, fp in landed_partitions(contract, settings,
                                                                               _valid_keys(contract)).items()}
        for key, fingerprint in sorted(current.items()):
            partition = None if key == SNAPSHOT_KEY else key
            if seen.get(key) != fingerprint and not already_loaded(contract, settings, partition):
                yield dg.RunRequest(partition_key=partition, run_key=f"{contract.name}:{key}:{fingerprint}")
        context.update_cursor(json.dumps(current))

    return _sensor


def delivery_schedule(contract: Contract, job) -> dg.ScheduleDefinition:
    """On each delivery deadline, load the period that is due if its files are there and not yet loaded."""

    @dg.schedule(name=f"deliveries_{contract.name}", job=job, cron_schedule=deadline_cron(contract),
                 default_status=dg.DefaultScheduleStatus.RUNNING,
                 description=f"{contract.name}: loads the period due under the contract's SLA "
                             f"({contract.sla.latency_days} days after it ends) if the landing sensor has not.")
    def _schedule(context: dg.ScheduleEvaluationContext):
        settings = settings_module.load()
        today = (context.scheduled_execution_time or dt.datetime.now(dt.UTC)).date()
        partition = period_due(contract, today)
        label = partition or SNAPSHOT_KEY
        if partition is None and contract.partition_column is not None:
            return dg.SkipReason(f"no {contract.granularity} of {contract.name} is due on {today}")
        landed = landed_partitions(contract, settings, _valid_keys(contract))
        if partition not in landed:
            return dg.SkipReason(f"{contract.name} {label} is due but not delivered: the freshness policy flags it")
        if already_loaded(contract, settings, partition):
            return dg.SkipReason(f"{contract.name} {label} is already loaded")
        return dg.RunRequest(partition_key=partition, run_key=f"schedule:{contract.name}:{label}:{landed[partition]}")

    return _schedule


@dg.sensor(name="landing_unknown_files", job=reject_unknown_files_job, minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Sets aside files in landing/ that no data contract accepts, with the reason beside them.")
def unknown_files_sensor(context: dg.SensorEvaluationContext):
    unknown = unknown_files(list(CONTRACTS.values()), settings_module.load(), valid_partition_keys())
    if not unknown:
        return dg.SkipReason("every file in landing/ belongs to a dataset")
    key = hashlib.sha256("\n".join(sorted(map(str, unknown))).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"unknown:{key}")


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=list(INGESTION_JOBS.values()),
                      request_job=transform_job, default_status=dg.DefaultSensorStatus.RUNNING,
                      name="transform_after_ingestion",
                      description="Rebuilds, checks and publishes the marts after an ingestion run succeeds.")
def transform_after_ingestion(context: dg.RunStatusSensorContext):
    waiting = context.instance.get_run_records(
        dg.RunsFilter(job_name=transform_job.name,
                      statuses=[dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]), limit=1)
    if waiting:  # a transform that has not started yet will read this ingestion's data anyway
        return dg.SkipReason(f"transform run {waiting[0].dagster_run.run_id} is already waiting")
    return dg.RunRequest(run_key=f"after:{context.dagster_run.run_id}")


defs = dg.Definitions(
    sensors=[*(landing_sensor(c, INGESTION_JOBS[c.name]) for c in CONTRACTS.values()), unknown_files_sensor,
             transform_after_ingestion],
    schedules=[delivery_schedule(c, INGESTION_JOBS[c.name]) for c in CONTRACTS.values()],
)
