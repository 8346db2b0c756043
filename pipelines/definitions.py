"""The Dagster code location: every module contributes its own ``defs``; nothing is registered here."""

from __future__ import annotations

import dagster as dg

from pipelines import jobs, sensors
from pipelines.assets import catalog, checks, dbt, ingest, publish

# A run executes its steps one after another in its own process: the lake has one writer, so the steps of a run
# would take turns anyway, and a process per step (Dagster's default) pays for importing these definitions (dbt's
# manifest, every contract: several seconds) once per step: for the transform's 150 steps, longer than the work.
# (Inline: Dagster's loader refuses a second Definitions object at module scope.)
defs = dg.Definitions.merge(ingest.defs, dbt.defs, checks.defs, publish.defs, catalog.defs, jobs.defs, sensors.defs,
                            dg.Definitions(executor=dg.in_process_executor))
