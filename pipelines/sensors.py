"""Automation: new files in landing/ trigger their month's ingestion; a finished ingestion triggers the
transformation (dbt → checks → publication).

The landing sensor fingerprints each partition's files (name, size, modification time); its run key
includes the fingerprint, so an unchanged re-delivery requests nothing and a corrected file requests a
reload of its month. A month whose files are byte for byte the ones the lake last loaded (by content
hash, from meta.ingestion_log) is not reloaded, so a new Dagster instance does not redo history.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from pipelines import settings as settings_module
from pipelines.assets.ingest import CONTRACTS, INGESTION_JOBS, MONTHLY
from pipelines.contracts.model import Contract
from pipelines.ingest.load import partition_files, sha256
from pipelines.jobs import transform_job
from pipelines.lake.connection import lake_exists, reader


def landed_partitions(contract: Contract, settings: settings_module.Settings) -> dict[str, str]:
    """Partition key -> fingerprint of the files delivered for it."""
    prefix, _, rest = contract.landing_pattern.partition("{partition}")
    base = settings.landing / prefix
    found: dict[str, list[str]] = {}
    if base.exists():
        for path in base.glob("*" + rest):
            partition = path.relative_to(base).parts[0]
            stat = path.stat()
            found.setdefault(partition, []).append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    valid = set(MONTHLY.get_partition_keys())
    return {key: hashlib.sha256("\n".join(sorted(files)).encode()).hexdigest()[:16]
            for key, files in found.items() if key in valid}


def _relative(contract: Contract, source_file: str) -> str:
    """The part of a file's path that the landing pattern names: the same wherever landing/ is mounted."""
    return "/".join(Path(source_file).parts[-len(Path(contract.landing_pattern).parts):])


def already_loaded(contract: Contract, settings: settings_module.Settings, partition: str) -> bool:
    """Whether the lake's latest load of this partition was of exactly the files now in landing/."""
    if not lake_exists(settings):
        return False
    # paths relative to landing/, so a lake loaded from another checkout or landing mount still matches
    delivered = {(_relative(contract, str(p)), sha256(p))
                 for p in partition_files(contract, settings.landing, partition)}
    with reader(settings) as con:
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'lake' "
                           "AND table_schema = 'meta' AND table_name = 'ingestion_log'").fetchone()[0]:
            return False
        loaded = {(_relative(contract, path), digest) for path, digest in con.execute(
            "SELECT source_file, file_sha256 FROM meta.ingestion_log WHERE batch_id = ("
            "  SELECT arg_max(batch_id, finished_at) FROM meta.ingestion_log WHERE dataset = ? AND partition_key = ?)"
            " AND status <> 'rejected'", [contract.name, partition]).fetchall()}
    return bool(delivered) and delivered == loaded


def landing_sensor(contract: Contract, job) -> dg.SensorDefinition:
    @dg.sensor(name=f"landing_{contract.name}", job=job, minimum_interval_seconds=30,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description=f"Loads a month of {contract.name} when its files in landing/ appear or change.")
    def _sensor(context: dg.SensorEvaluationContext):
        settings = settings_module.load()
        seen = json.loads(context.cursor) if context.cursor else {}
        current = landed_partitions(contract, settings)
        for partition, fingerprint in sorted(current.items()):
            if seen.get(partition) != fingerprint and not already_loaded(contract, settings, partition):
                yield dg.RunRequest(partition_key=partition,
                                    run_key=f"{contract.name}:{partition}:{fingerprint}")
        context.update_cursor(json.dumps(current))

    return _sensor


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=INGESTION_JOBS,
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
    sensors=[*(landing_sensor(c, j) for c, j in zip(CONTRACTS.values(), INGESTION_JOBS, strict=True)),
             transform_after_ingestion],
)
