"""Publication: a validated mart version becomes the one consumers read.

A publication row in ``meta.publications`` names the lake snapshot that the mart's checks validated;
consumers read ``<mart> AT (VERSION => snapshot_id)``, so a reported figure can be reproduced exactly.
A mart whose checks failed is not published and keeps its last good publication.
"""

import json
from datetime import UTC, datetime

import dagster as dg
import duckdb

from pipelines import settings as settings_module
from pipelines.lake.connection import writer
from pipelines.lake.sql import table_changes
from pipelines.quality.expectations import SUITES_DIR, Suite, load_suites
from pipelines.settings import LAKE_ALIAS


class NotValidated(Exception):
    pass


# Columns that say when a figure was computed, not what it is: a month recomputed from a report loaded again
# carries a newer watermark (dbt_project/macros/incremental_by_month.sql) but the same figures.
PROVENANCE_COLUMNS = ("inputs_loaded_at",)


def same_rows(con, dataset: str, old: int, new: int) -> bool:
    """Whether two snapshots of a mart hold the same figures (rows compared as multisets, provenance aside).

    Compared through DuckLake's table changes between them (the rows deleted against the rows inserted), so a
    mart kept month by month costs its changed months, not its history; a table created again in between
    (a dbt table materialization) is compared whole."""
    if old == new:
        return True
    b = f"{dataset} AT (VERSION => {new})"
    try:
        shape = [[row[:2] for row in con.execute(f"DESCRIBE SELECT * FROM {dataset} AT (VERSION => {v})").fetchall()]
                 for v in (old, new)]
        if shape[0] != shape[1]:  # columns added, dropped or retyped: a new version
            return False
        columns = {row[0] for row in shape[1]}
        skipped = [c for c in PROVENANCE_COLUMNS if c in columns]
        rows = f"* EXCLUDE ({', '.join(skipped)})" if skipped else "*"
        recreated = con.execute(
            f"SELECT count(*) FROM {LAKE_ALIAS}.snapshots() WHERE snapshot_id > ? AND snapshot_id <= ? "
            "AND list_contains(changes['tables_created'], ?)", [old, new, dataset]).fetchone()[0]
        if recreated:
            before, after = f"(SELECT {rows} FROM {dataset} AT (VERSION => {old}))", f"(SELECT {rows} FROM {b})"
        else:
            changes = table_changes(dataset, old, new)
            metadata = ", ".join(["snapshot_id", "rowid", "change_type", *skipped])
            before = (f"(SELECT * EXCLUDE ({metadata}) FROM {changes} "
                      "WHERE change_type IN ('delete', 'update_preimage'))")
            after = (f"(SELECT * EXCLUDE ({metadata}) FROM {changes} "
                     "WHERE change_type IN ('insert', 'update_postimage'))")
        differing = con.execute(
            f"SELECT count(*) FROM ((FROM {before} EXCEPT ALL FROM {after}) "
            f"UNION ALL (FROM {after} EXCEPT ALL FROM {before}))").fetchone()[0]
    except (duckdb.BinderException, duckdb.InvalidInputException):  # the columns changed: a new version
        return False
    return differing == 0


def publish(settings: settings_module.Settings, dataset: str, log=print) -> dict:
    with writer(settings, purpose=f"publish {dataset}", log=log) as con:
        latest = con.execute(
            # the newest data that was checked, whatever order overlapping checks recorded their results in
            "SELECT passed, snapshot_id, suite, evaluated_at FROM meta.quality_results "
            "WHERE dataset = ? AND suite LIKE 'great_expectations:%' "
            "ORDER BY snapshot_id DESC, evaluated_at DESC LIMIT 1", [dataset]).fetchone()
        if latest is None or not latest[0]:
            raise NotValidated(f"{dataset}: latest quality result is "
                               f"{'missing' if latest is None else 'failed'}; not publishing")
        _, snapshot, suite, evaluated_at = latest
        previous = con.execute("SELECT max(version), arg_max(snapshot_id, version) FROM meta.publications "
                               "WHERE dataset = ?", [dataset]).fetchone()
        if previous[1] is not None and same_rows(con, dataset, previous[1], snapshot):
            # the figures did not change: the published version stays the one consumers already cite
            return {"dataset": dataset, "version": previous[0], "snapshot_id": previous[1], "new": False}
        rows = con.execute(f"SELECT count(*) FROM {dataset} AT (VERSION => {snapshot})").fetchone()[0]
        version = (previous[0] or 0) + 1
        checks = json.dumps({suite: "passed", "evaluated_at": evaluated_at.isoformat()})
        con.execute("INSERT INTO meta.publications VALUES (?, ?, ?, ?, ?, ?)",
                    [dataset, version, snapshot, rows, checks, datetime.now(UTC)])
    return {"dataset": dataset, "version": version, "snapshot_id": snapshot, "rows": rows, "new": True}


def publication_asset(suite: Suite) -> dg.AssetsDefinition:
    schema, table = suite.dataset.split(".")

    @dg.asset(
        key=dg.AssetKey(["published", table]),
        deps=[dg.AssetKey([schema, table])],
        group_name="published",
        description=f"The validated version of {suite.dataset} that apps read (meta.publications).",
        kinds={"ducklake"},
        tags={"layer": "published"},
        metadata={"suite": str(SUITES_DIR / f"{suite.name}.yml")},
    )
    def _publish(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        try:
            published = publish(settings_module.load(), suite.dataset, log=context.log.info)
        except NotValidated as exc:
            raise dg.Failure(description=str(exc)) from exc
        context.log.info(f"published {suite.dataset} version {published['version']} "
                         f"at snapshot {published['snapshot_id']}")
        return dg.MaterializeResult(metadata={k: v for k, v in published.items() if k != "dataset"})

    return _publish


defs = dg.Definitions(assets=[publication_asset(s) for s in load_suites()])
