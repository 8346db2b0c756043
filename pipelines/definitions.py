"""The Dagster code location: every module contributes its own ``defs``; nothing is registered here."""

from __future__ import annotations

import dagster as dg

from pipelines import jobs, sensors
from pipelines.assets import catalog, checks, dbt, ingest, publish

defs = dg.Definitions.merge(ingest.defs, dbt.defs, checks.defs, publish.defs, catalog.defs, jobs.defs, sensors.defs)
