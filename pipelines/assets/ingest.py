"""One Dagster asset per data contract: a partition's delivered files, validated and loaded into ``raw``.

Nothing here is specific to a dataset: key, group, partitions, owner, description, freshness policy and
delivery schedule come from the contract, so a new contract in data_contracts/ is a new ingestion asset
with no code.
"""


import datetime as dt
import warnings

import dagster as dg

from pipelines import settings as settings_module
from pipelines.contracts.model import Contract, all_contracts
from pipelines.ingest.load import load_partitions
from pipelines.ingest.reconcile import discrepancies
from pipelines.lake.connection import current_snapshot, reader

# Periodic reports since the plan's baseline year; keys are the landing directories' names.
MONTHLY = dg.MonthlyPartitionsDefinition(start_date="2019-01", fmt="%Y-%m", end_offset=1)
# Annual data from the plan's previous period (2015), since annual figures are published a year late.
YEARLY = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", start="2015", fmt="%Y", end_offset=1)
PARTITIONS: dict[str, dg.PartitionsDefinition | None] = {"month": MONTHLY, "year": YEARLY, "snapshot": None}


def asset_key(contract: Contract) -> dg.AssetKey:
    return dg.AssetKey(contract.raw_table.split("."))


def deadline_cron(contract: Contract) -> str:
    """When, in the contract's rhythm, the latest period's delivery must be in the lake (UTC)."""
    latency = contract.sla.latency_days
    rhythm = contract.sla.frequency if contract.granularity == "snapshot" else contract.granularity
    if rhythm == "month":
        return f"0 0 {min(latency + 1, 28)} * *"
    if rhythm == "year":
        due = dt.date(2001, 1, 1) + dt.timedelta(days=latency)
        return f"0 0 {min(due.day, 28)} {due.month} *"
    if contract.sla.every == 7:  # weekly: due on the Monday after the latency
        return f"0 0 * * {(1 + latency) % 7}"
    return "0 0 * * *"


def freshness_policy(contract: Contract) -> dg.FreshnessPolicy:
    """The asset must have been loaded within one delivery period before each deadline."""
    rhythm = contract.sla.frequency if contract.granularity == "snapshot" else contract.granularity
    window = {"month": dt.timedelta(days=28), "year": dt.timedelta(days=365),
              "day": dt.timedelta(days=7 if contract.sla.every == 7 else 1)}[rhythm]
    return dg.FreshnessPolicy.cron(deadline_cron=deadline_cron(contract), lower_bound_delta=window)


def column_schema(contract: Contract) -> dg.TableSchema:
    """The contract's columns as the UI shows them, with each column's classification (the catalog's own)."""
    return dg.TableSchema(columns=[
        dg.TableColumn(c.name, c.physical_type, description=f"{c.source_name}: {c.description or ''}".rstrip(": "),
                       tags={"classification": c.classification or "unclassified",
                             **({"personal_information": c.personal_information} if c.personal_information else {})},
                       constraints=dg.TableColumnConstraints(nullable=not c.required))
        for c in contract.columns])


def ingestion_asset(contract: Contract) -> dg.AssetsDefinition:
    partitions = PARTITIONS[contract.granularity]

    @dg.asset(
        key=asset_key(contract),
        partitions_def=partitions,
        group_name=f"raw_{contract.source}",
        description=f"{contract.description} Loaded from landing/{contract.landing_pattern} under "
        f"contract {contract.path.name}.",
        owners=[f"team:{contract.owner_team}"],
        kinds={"ducklake", contract.file_format},
        tags={"layer": "raw", "source": contract.source, "granularity": contract.granularity},
        metadata={"dagster/column_schema": column_schema(contract),
                  "contract": contract.path.name, "contract_version": contract.version,
                  "quarantine_table": contract.quarantine_table,
                  "sla": contract.sla.describe()},
        freshness_policy=freshness_policy(contract),
        # A backfill of many partitions is one run; each partition is still its own lake transaction.
        backfill_policy=dg.BackfillPolicy.single_run() if partitions else None,
    )
    def _ingest(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = settings_module.load()
        keys = context.partition_keys if partitions else [None]
        results = load_partitions(contract, keys, settings, log=context.log.info)
        for r in results:
            context.log.info(f"{contract.name} {r.partition_key}: read {r.rows_read}, loaded {r.rows_loaded}, "
                             f"quarantined {r.rows_quarantined}, warned {r.rows_warned} from {len(r.files)} files")
        rejected = [f for r in results for f in r.rejected]
        if rejected:
            # The good files are committed; the run still fails so the rejection is seen and acted on.
            raise dg.Failure(description="; ".join(f"{f.path}: {f.rejected}" for f in rejected),
                             metadata={"rejected_files": [f.path for f in rejected]})
        return dg.MaterializeResult(metadata={
            "rows_read": sum(r.rows_read for r in results),
            "rows_loaded": sum(r.rows_loaded for r in results),
            "rows_quarantined": sum(r.rows_quarantined for r in results),
            "rows_warned": sum(r.rows_warned for r in results),
            "files": sum(len(r.files) for r in results),
            "snapshot_id": results[-1].snapshot_id if results else None,
        })

    return _ingest


def reconciliation_check(contract: Contract) -> dg.AssetChecksDefinition:
    check_key = dg.AssetCheckKey(asset_key(contract), "reconciles_with_ingestion_log")

    @dg.asset_check(asset=asset_key(contract), name=check_key.name,
                    description="Every batch's rows in the lake number what meta.ingestion_log says was loaded, "
                                "and every delivered file's rows read = rows loaded + rows quarantined.")
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        # Counting every batch costs the table's history: a run counts the batches logged since the lake
        # snapshot of the last pass, plus the table's total (pipelines/ingest/reconcile.py). No pass yet: all.
        since = last_passed_snapshot(context.instance, check_key)
        with reader(settings_module.load()) as con:
            snapshot = current_snapshot(con)  # taken first: a load committed meanwhile is in the next scope
            problems = discrepancies(con, contract, since=since)
        scope = "full audit" if since is None else f"batches logged after snapshot {since}"
        return dg.AssetCheckResult(passed=not problems, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata={"discrepancies": len(problems), "first": "; ".join(problems[:5]),
                                             "snapshot_id": snapshot, "scope": scope})

    return _check


def last_passed_snapshot(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey) -> int | None:
    """The lake snapshot the check last passed at (its ``snapshot_id``), or None."""
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    records = instance.event_log_storage.get_asset_check_execution_history(
        check_key, limit=1, status={AssetCheckExecutionRecordStatus.SUCCEEDED})
    evaluation = records[0].evaluation if records else None
    value = evaluation.metadata.get("snapshot_id") if evaluation else None
    return None if value is None else int(value.value)


CONTRACTS = all_contracts()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)  # backfill_policy: stable in use, still labelled beta
    warnings.simplefilter("ignore", dg.PreviewWarning)  # the new FreshnessPolicy
    INGESTION_ASSETS = [ingestion_asset(c) for c in CONTRACTS.values()]
INGESTION_JOBS = {
    c.name: dg.define_asset_job(f"ingest_{c.name}", selection=[asset_key(c)], partitions_def=PARTITIONS[c.granularity],
                                description=f"Load {c.name} ({c.granularity}) from landing/ into {c.raw_table}.")
    for c in CONTRACTS.values()
}

defs = dg.Definitions(assets=INGESTION_ASSETS, asset_checks=[reconciliation_check(c) for c in CONTRACTS.values()],
                      jobs=list(INGESTION_JOBS.values()))
