"""Jobs that operators launch: ingestion jobs live beside their assets; this is the rest of the graph."""

from __future__ import annotations

import dagster as dg

from pipelines.assets.ingest import INGESTION_ASSETS

RAW_ASSETS = dg.AssetSelection.assets(*INGESTION_ASSETS)

# Everything downstream of ingestion: dbt build (models + tests), Great Expectations checks, publication.
transform_job = dg.define_asset_job(
    "transform",
    selection=RAW_ASSETS.downstream(include_self=False),
    description="dbt build → blocking quality checks → publication of the marts that passed.",
    tags={"lakehouse/writer": "true"},
)

defs = dg.Definitions(jobs=[transform_job])
