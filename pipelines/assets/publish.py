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
from pipelines.lake.inspect import METADATA
from pipelines.lake.sql import table_changes
from pipelines.quality.expectations import SUITES_DIR, Suite, load_suites


class NotValidated(Exception):
    pass


# Columns that say when a figure was computed, not what it is: a month recomputed from a report loaded again
# carries a newer watermark (dbt_project/macros/incremental_by_month.sql) but the same figures.
PROVENANCE_COLUMNS = ("inputs_loaded_at",)


def recreated(con, dataset: str, old: int, new: int) -> bool:
    """Whether the table was dropped and created again (a dbt table materialization) after snapshot ``old`` up to
    ``new``: more than one table of that name lived in between. Read from the DuckLake catalog's table list, one
    small query, where listing ``snapshots()`` to find a creation grows with every snapshot the lake keeps."""
    schema, table = dataset.split(".")
    return con.execute(
        f"SELECT count(DISTINCT t.table_id) > 1 FROM {METADATA}.ducklake_table t "
        f"JOIN {METADATA}.ducklake_schema s USING (schema_id) WHERE s.schema_name = ? AND t.table_name = ? "
        "AND t.begin_snapshot <= ? AND (t.end_snapshot IS NULL OR t.end_snapshot > ?)",
        [schema, table, new, old]).fetchone()[0]


def same_rows(con, dataset: str, old: int, new: int) -> bool:
    """Whether two snapshots of a mart hold the same figures (rows compared as multisets, provenance aside).

    Compared through DuckLake's table changes between them (the rows deleted against the rows inserted), so a
    mart kept month by month costs its changed months, not its history; a table created again in between
    (a dbt table materialization) is compared whole. Each side is summarised in one pass as its row count and the
    sum of its rows' 64-bit hashes: equal multisets give equal sums, different ones the same sum by chance only
    (about 2^-64). Sorting both sides for EXCEPT ALL took 20.9 s where the sums take 2.7 s, for a year of the
    loan-level financed emissions at scale 1 (1.9 M rows deleted, 2.0 M inserted; issue 9)."""
    if old == new:
        return True
    try:
        shape = [[row[:2] for row in con.execute(f"DESCRIBE SELECT * FROM {dataset} AT (VERSION => {v})").fetchall()]
                 for v in (old, new)]
        if shape[0] != shape[1]:  # columns added, dropped or retyped: a new version
            return False
        columns = {row[0] for row in shape[1]}
        skipped = [c for c in PROVENANCE_COLUMNS if c in columns]
        figures = f"*COLUMNS(* EXCLUDE ({', '.join(skipped)}))" if skipped else "*COLUMNS(*)"
        if recreated(con, dataset, old, new):
            sides = " UNION ALL ".join(
                f"SELECT {side} AS side, count(*), sum(hash({figures})) FROM {dataset} AT (VERSION => {v})"
                for side, v in (("false", old), ("true", new)))
        else:
            metadata = ", ".join(["snapshot_id", "rowid", *skipped])
            sides = (f"SELECT change_type IN ('insert', 'update_postimage') AS side, count(*), "
                     f"sum(hash(*COLUMNS(* EXCLUDE (change_type)))) "
                     f"FROM (SELECT * EXCLUDE ({metadata}) FROM {table_changes(dataset, old, new)}) GROUP BY side")
        summary = {side: (rows, total) for side, rows, total in con.execute(sides).fetchall() if rows}
    except (duckdb.BinderException, duckdb.InvalidInputException):  # the columns changed: a new version
        return False
    return summary.get(False) == summary.get(True)


def publish(settings: settings_module.Settings, dataset: str, log=print) -> dict:
    with writer(settings, purpose=f"publish {dataset}", log=log) as con:
        # the newest data that was checked, whatever order overlapping checks recorded their results in; and the
        # last publication: one statement, each costs the catalog's metadata (arg_max, not ORDER BY … LIMIT 1:
        # 21 against 62 ms on the 1,910 results of a scale-1 bench lake, for each of the 30 marts a run)
        latest, previous = con.execute(
            "SELECT (SELECT arg_max((passed, snapshot_id, suite, evaluated_at), (snapshot_id, evaluated_at)) "
            "        FROM meta.quality_results WHERE dataset = $1 AND suite LIKE 'great_expectations:%'), "
            "       (SELECT (max(version), arg_max(snapshot_id, version), "
            "                arg_max(coalesce(confirmed_snapshot_id, snapshot_id), version), "
            "                arg_max(row_count, version)) "
            "        FROM meta.publications WHERE dataset = $1)", [dataset]).fetchone()
        if latest is None or not latest[0]:
            raise NotValidated(f"{dataset}: latest quality result is "
                               f"{'missing' if latest is None else 'failed'}; not publishing")
        _, snapshot, suite, evaluated_at = latest
        last_version, last_snapshot, confirmed, last_rows = previous
        rows = con.execute(f"SELECT count(*) FROM {dataset} AT (VERSION => {snapshot})").fetchone()[0]
        # compared with the newest snapshot known to hold the published figures: the changes since then, not every
        # rebuild since the publication again (a year rebuilt with the same figures each month would grow it). Another
        # row count settles it without reading a row: most marts gain rows every month, and comparing their changes
        # cost 2.2 of the 2.6 s the comparisons took in a new month at scale 1 (issue 9).
        if confirmed is not None and rows == last_rows and same_rows(con, dataset, confirmed, snapshot):
            # the figures did not change: the published version stays the one consumers already cite
            if snapshot > confirmed:
                con.execute("UPDATE meta.publications SET confirmed_snapshot_id = ? WHERE dataset = ? AND version = ?",
                            [snapshot, dataset, last_version])
            return {"dataset": dataset, "version": last_version, "snapshot_id": last_snapshot, "new": False}
        version = (last_version or 0) + 1
        checks = json.dumps({suite: "passed", "evaluated_at": evaluated_at.isoformat()})
        con.execute("INSERT INTO meta.publications (dataset, version, snapshot_id, row_count, checks, published_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)", [dataset, version, snapshot, rows, checks, datetime.now(UTC)])
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
