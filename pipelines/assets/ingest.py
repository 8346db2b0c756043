"""One Dagster asset per data contract: a month's delivered files, validated and loaded into ``raw``.

Nothing here is specific to a dataset: key, group, partitions, owner and description come from the
contract, so a new contract in data_contracts/ is a new ingestion asset with no code.
"""

import warnings

import dagster as dg

from pipelines import settings as settings_module
from pipelines.contracts.model import Contract, all_contracts
from pipelines.ingest.load import load_partition
from pipelines.ingest.reconcile import discrepancies
from pipelines.lake.connection import reader

# Monthly reports since the plan's baseline year; keys are the landing directories' names (YYYY-MM).
MONTHLY = dg.MonthlyPartitionsDefinition(start_date="2019-01", fmt="%Y-%m", end_offset=1)


def asset_key(contract: Contract) -> dg.AssetKey:
    return dg.AssetKey(contract.raw_table.split("."))


def ingestion_asset(contract: Contract) -> dg.AssetsDefinition:
    @dg.asset(
        key=asset_key(contract),
        partitions_def=MONTHLY,
        group_name=f"raw_{contract.domain}",
        description=f"{contract.description} Loaded from landing/{contract.landing_pattern} under "
        f"contract {contract.path.name}.",
        owners=[f"team:{contract.owner_team}"],
        kinds={"ducklake", "csv"},
        tags={"layer": "raw", "source": contract.domain},
        metadata={"contract": contract.path.name, "contract_version": contract.version,
                  "quarantine_table": contract.quarantine_table},
        # A backfill of many months is one run; each month is still its own lake transaction.
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def _ingest(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = settings_module.load()
        results = [load_partition(contract, key, settings, log=context.log.info) for key in context.partition_keys]
        for r in results:
            context.log.info(f"{contract.name} {r.partition_key}: read {r.rows_read}, loaded {r.rows_loaded}, "
                             f"quarantined {r.rows_quarantined} from {len(r.files)} files")
        rejected = [f for r in results for f in r.rejected]
        if rejected:
            # The good files are committed; the run still fails so the rejection is seen and acted on.
            raise dg.Failure(description="; ".join(f"{f.path}: {f.rejected}" for f in rejected),
                             metadata={"rejected_files": [f.path for f in rejected]})
        return dg.MaterializeResult(metadata={
            "rows_read": sum(r.rows_read for r in results),
            "rows_loaded": sum(r.rows_loaded for r in results),
            "rows_quarantined": sum(r.rows_quarantined for r in results),
            "files": sum(len(r.files) for r in results),
            "snapshot_id": results[-1].snapshot_id if results else None,
        })

    return _ingest


def reconciliation_check(contract: Contract) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset_key(contract), name="reconciles_with_ingestion_log",
                    description="Every batch's rows in the lake number what meta.ingestion_log says was loaded, "
                                "and every delivered file's rows read = rows loaded + rows quarantined.")
    def _check() -> dg.AssetCheckResult:
        with reader(settings_module.load()) as con:
            problems = discrepancies(con, contract)
        return dg.AssetCheckResult(passed=not problems, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata={"discrepancies": len(problems), "first": "; ".join(problems[:5])})

    return _check


CONTRACTS = all_contracts()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)  # backfill_policy: stable in use, still labelled beta
    INGESTION_ASSETS = [ingestion_asset(c) for c in CONTRACTS.values()]
INGESTION_JOBS = [
    dg.define_asset_job(f"ingest_{c.name}", selection=[asset_key(c)], partitions_def=MONTHLY,
                        description=f"Load one month of {c.name} from landing/ into raw.")
    for c in CONTRACTS.values()
]

defs = dg.Definitions(assets=INGESTION_ASSETS, asset_checks=[reconciliation_check(c) for c in CONTRACTS.values()],
                      jobs=INGESTION_JOBS)
