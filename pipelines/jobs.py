"""Jobs that operators launch: ingestion jobs live beside their assets; this is the rest of the graph."""


import dagster as dg

from pipelines import settings as settings_module
from pipelines.assets.ingest import CONTRACTS, INGESTION_ASSETS, PARTITIONS
from pipelines.ingest.deliveries import unknown_files
from pipelines.ingest.load import reject

RAW_ASSETS = dg.AssetSelection.assets(*INGESTION_ASSETS)

# Everything downstream of ingestion: dbt build (models + tests), Great Expectations checks, publication, and
# last the catalog (pipelines/assets/catalog.py; after a failed run, a sensor runs the catalog job instead).
transform_job = dg.define_asset_job(
    "transform",
    # seeds have no upstream in the lake but every theme reads them, so they are built with the models
    selection=RAW_ASSETS.downstream(include_self=False) | dg.AssetSelection.key_prefixes(["seeds"]),
    description="dbt build → blocking quality checks → publication of the marts that passed → the catalog.",
    tags={"lakehouse/writer": "true"},
)


def valid_partition_keys() -> dict[str, set[str]]:
    return {name: set(p.get_partition_keys()) for name, p in PARTITIONS.items() if p is not None}


@dg.op(description="Moves files in landing/ that no data contract accepts to landing/rejected/, each with a "
                   "reason file, and fails naming them.")
def set_aside_unknown_files(context: dg.OpExecutionContext) -> None:
    settings = settings_module.load()
    unknown = unknown_files(list(CONTRACTS.values()), settings, valid_partition_keys())
    moved = []
    for path, reason in unknown.items():
        rule, _, detail = reason.partition(": ")
        moved.append(f"{path}: {reason}")
        context.log.error(f"rejecting {path}: {reason}")
        reject(path, settings.landing, rule, detail)
    if moved:
        raise dg.Failure(description=f"{len(moved)} delivered files belong to no dataset: " + "; ".join(moved[:20]),
                         metadata={"rejected_files": [str(p) for p in unknown]})


@dg.job(name="reject_unknown_files",
        description="Set aside files in landing/ that match no data contract (unknown dataset or partition).")
def reject_unknown_files_job():
    set_aside_unknown_files()

defs = dg.Definitions(jobs=[transform_job, reject_unknown_files_job])
