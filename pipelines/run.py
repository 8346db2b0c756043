"""`make run`: set up the lake, land demo data if there is none, materialize the whole asset graph through
Dagster (ingest → dbt → checks → publish → catalog) on the project's Dagster instance, and summarise.

Runs go through the same instance the UI shows (DAGSTER_HOME), so every run of `make run` is visible in
`make ui` afterwards, with its logs, asset materializations and check results.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import dagster as dg

from pipelines import settings as settings_module
from pipelines.catalog.build import CATALOG_ASSET
from pipelines.demo.sources import HISTORY, parse_months
from pipelines.lake import extensions, meta
from pipelines.lake.connection import reader
from pipelines.lake.inspect import lake_objects, row_counts
from pipelines.settings import Settings

DEMO_SCALE = 0.01  # about 12,000 loans a month; 1 is the whole city (1.2 million)
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class Step:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


# Progress goes to the terminal; the runs' own output (dbt's log, GX progress bars) goes to a log file.
TERMINAL = sys.stdout


def say(message: str) -> None:
    print(message, file=TERMINAL, flush=True)


@contextlib.contextmanager
def ticking(label: str, every_s: float = 5.0):
    """Show that a long step is alive: its elapsed time every few seconds, on one line on a terminal."""
    done = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not done.wait(every_s):
            elapsed = f"{label} … {time.monotonic() - started:.0f}s"
            print(f"\r  {elapsed}" if TERMINAL.isatty() else f"  {elapsed}", end="" if TERMINAL.isatty() else "\n",
                  file=TERMINAL, flush=True)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if TERMINAL.isatty():
            print("\r\033[K", end="", file=TERMINAL, flush=True)


@contextlib.contextmanager
def runs_logged_to(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        yield


def land_demo_data(settings: Settings, scale: float, months: list[str]) -> None:
    from pipelines.demo.sources import generate_all
    from pipelines.demo.world import DEFAULT_SEED

    if any(p.is_file() for p in settings.landing.rglob("*") if "rejected" not in p.parts):
        say(f"landing: using the files already in {settings.landing}")
        return
    started = time.monotonic()
    rows = 0

    def count(_path: Path, n: int) -> None:
        nonlocal rows
        rows += n

    files = generate_all(settings.landing, scale=scale, seed=DEFAULT_SEED, months=months, on_file=count)
    say(f"landing: generated {len(files):,} demo files ({rows:,} rows) for {months[0]}..{months[-1]} at scale "
        f"{scale} in {settings.landing} ({time.monotonic() - started:.1f}s)")


def _run(job: dg.JobDefinition, instance: dg.DagsterInstance, **kwargs) -> dg.ExecuteInProcessResult:
    return job.execute_in_process(instance=instance, raise_on_error=False, run_config=QUIET, **kwargs)


def check_results(result: dg.ExecuteInProcessResult) -> list[tuple[str, bool]]:
    return [(f"{e.asset_check_key.asset_key.to_user_string()} · {e.asset_check_key.name}", e.passed)
            for e in result.get_asset_check_evaluations()]


def selected_keys(defs: dg.Definitions, select: str | None) -> set[dg.AssetKey] | None:
    """The assets a Dagster selection string names (``+key:"published/fct_green_loan_balance_monthly"``), or None
    for everything."""
    if not select:
        return None
    keys = dg.AssetSelection.from_string(select).resolve(defs.resolve_asset_graph())
    if not keys:
        raise SystemExit(f"--select {select!r} names no asset")
    return keys


def ingest(defs: dg.Definitions, instance: dg.DagsterInstance, settings: Settings,
           only: set[dg.AssetKey] | None = None) -> tuple[list[Step], list[tuple[str, bool]]]:
    """One run per dataset over every partition delivered (a single-run backfill, as the UI launches it)."""
    from pipelines.assets.ingest import CONTRACTS, PARTITIONS
    from pipelines.ingest.deliveries import landed_partitions

    steps, checks = [], {}
    for i, contract in enumerate(CONTRACTS.values(), 1):
        if only is not None and dg.AssetKey(contract.raw_table.split(".")) not in only:
            continue
        partitions = PARTITIONS[contract.granularity]
        landed = sorted(landed_partitions(contract, settings, set(partitions.get_partition_keys()) if partitions
                                          else None), key=lambda k: k or "")
        if not landed:
            continue
        tags = {}
        if partitions is not None:
            tags = {"dagster/asset_partition_range_start": landed[0], "dagster/asset_partition_range_end": landed[-1]}
        started = time.monotonic()
        result = _run(defs.resolve_job_def(f"ingest_{contract.name}"), instance, tags=tags)
        checks.update(check_results(result))
        mat = [e.materialization for e in result.get_asset_materialization_events()]
        if mat:
            md = mat[0].metadata
            detail = (f"{md['rows_loaded'].value:,} rows loaded, {md['rows_quarantined'].value:,} quarantined"
                      + (f", {md['rows_warned'].value:,} with warnings" if md["rows_warned"].value else ""))
        else:
            detail = _failure(result)
        span = f"{landed[0]}..{landed[-1]}" if partitions is not None and len(landed) > 1 else (landed[0] or "snapshot")
        steps.append(Step(f"ingest {contract.name} {span}", result.success, time.monotonic() - started, detail))
        say(f"  [{i}/{len(CONTRACTS)}] {contract.name} {span}: {'ok' if result.success else 'FAILED'} – {detail} "
            f"({steps[-1].seconds:.1f}s)")
    return steps, list(checks.items())


def _failure(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error:
            return event.step_failure_data.error.message.strip().splitlines()[0][:300]
    return "failed"


def transform(defs: dg.Definitions, instance: dg.DagsterInstance, only: set[dg.AssetKey] | None = None
              ) -> tuple[Step, list[tuple[str, bool]], Step | None]:
    """The transform run, and the catalog step when the run built the catalog as its last step (None when it did
    not: a failed run, or a selection without it)."""
    started = time.monotonic()
    job = defs.resolve_job_def("transform")
    if only is not None:
        from pipelines.jobs import transform_job

        selected = dg.Definitions.merge(defs, dg.Definitions(jobs=[dg.define_asset_job(
            "transform_selected", selection=transform_job.selection & dg.AssetSelection.assets(*only),
            tags=transform_job.tags)]))
        job = selected.resolve_job_def("transform_selected")
    result = _run(job, instance)
    checks = check_results(result)
    built = [e.materialization.asset_key.to_user_string() for e in result.get_asset_materialization_events()]
    detail = f"{len(built)} assets materialized" if result.success else _failure(result)
    catalog = None
    if CATALOG_ASSET in built:
        [stats] = [s for s in instance.get_run_step_stats(result.run_id) if s.step_key == catalog_step_key(defs)]
        catalog = Step("catalog", True, (stats.end_time or 0) - (stats.start_time or 0), _catalog_detail(result))
    return Step("transform (dbt build → checks → publish → catalog)", result.success, time.monotonic() - started,
                detail), checks, catalog


def catalog_step_key(defs: dg.Definitions) -> str:
    """The catalog's step in a run: an asset's step key is its op's name."""
    return defs.resolve_assets_def(dg.AssetKey(CATALOG_ASSET.split("/"))).node_def.name


def _catalog_detail(result: dg.ExecuteInProcessResult) -> str:
    mat = [e.materialization for e in result.get_asset_materialization_events()
           if e.materialization.asset_key.to_user_string() == CATALOG_ASSET]
    if not mat:
        return _failure(result)
    md = {k: v.value for k, v in mat[0].metadata.items()}
    return (f"{md['datasets']} datasets, {md['columns']} columns, {md['lineage_edges']} lineage edges, "
            f"{md['concepts']} concepts; {md['errors']} rule violations, {md['overdue']} overdue")


def build_catalog(defs: dg.Definitions, instance: dg.DagsterInstance) -> tuple[Step, list[tuple[str, bool]]]:
    """The catalog job on its own, for a transform run that did not build it."""
    started = time.monotonic()
    result = _run(defs.resolve_job_def("catalog"), instance)
    return Step("catalog", result.success, time.monotonic() - started, _catalog_detail(result)), check_results(result)


def summary(settings: Settings, steps: list[Step], checks: list[tuple[str, bool]]) -> str:
    lines = ["", "Summary", "======="]
    with reader(settings) as con:
        objects = lake_objects(con)
        counts = row_counts(con, [(schema, name) for schema, name, _kind in objects])
        lines.append("Tables in the lake (rows):")
        for schema, name, kind in objects:
            rows = counts[(schema, name)]
            shown = "?" if rows is None else f"{rows:,}"
            lines.append(f"  {schema + '.' + name:<50} {shown:>12}{'  (view)' if kind == 'view' else ''}")
        published = con.execute(
            "SELECT dataset, max(version), arg_max(snapshot_id, version) FROM meta.publications GROUP BY 1"
        ).fetchall()
    passed = sum(ok for _, ok in checks)
    lines.append(f"Checks: {passed} passed, {len(checks) - passed} failed")
    lines += [f"  FAILED {name}" for name, ok in checks if not ok]
    lines += [f"Published: {d} version {v} (snapshot {s})" for d, v, s in published]
    failed_steps = [s for s in steps if not s.ok]
    lines += [f"FAILED step: {s.name}: {s.detail}" for s in failed_steps]
    lines += [
        f"Lake: catalog {settings.catalog}",
        f"      data    {settings.data_path}",
        "Query a mart:",
        '  .venv/bin/lakehouse sql "select report_month, sum(green_loan_balance_yuan) / '
        'sum(total_loan_balance_yuan) as green_share from marts.fct_green_loan_balance_monthly '
        'group by all order by 1"',
        "Browse the catalog: .venv/bin/lakehouse catalog search 绿色贷款  |  make catalog-site",
        "Open the UI: make ui  (http://127.0.0.1:3000)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-demo", action="store_true", help="do not generate demo data into an empty landing/")
    parser.add_argument("--scale", type=float, default=float(os.environ.get("SCALE") or DEMO_SCALE),
                        help=f"demo data scale, 1 = the whole city (default $SCALE or {DEMO_SCALE})")
    parser.add_argument("--months", type=parse_months, default=os.environ.get("MONTHS") or ":".join(HISTORY),
                        help="demo report months, FIRST:LAST (default $MONTHS or %(default)s)")
    parser.add_argument("--select", default=os.environ.get("SELECT") or None,
                        help="only these assets, as a Dagster selection, e.g. "
                             "'+key:\"published/fct_green_loan_balance_monthly\"' (default $SELECT or everything)")
    args = parser.parse_args(argv)

    settings = settings_module.load()
    started = time.monotonic()
    installed = extensions.install(settings)
    say(f"duckdb extensions: {'installed ' + ', '.join(installed) if installed else 'ready'}")
    meta.bootstrap(settings)
    say(f"lake: {settings.catalog} (data in {settings.data_path})")
    if not args.no_demo:
        land_demo_data(settings, args.scale, args.months)

    os.environ.setdefault("TQDM_DISABLE", "1")  # GX's progress bars
    from pipelines.definitions import defs

    instance = dg.DagsterInstance.get()
    only = selected_keys(defs, args.select)
    log_file = settings.root / "lakehouse" / "logs" / f"run-{datetime.now():%Y%m%d-%H%M%S}.log"
    say(f"run logs: {log_file}")
    with runs_logged_to(log_file):
        say("ingest:")
        steps, ingest_checks = ingest(defs, instance, settings, only)
        say("transform: dbt build, Great Expectations checks, publication, catalog")
        with ticking("dbt build → checks → publish → catalog"):
            step, checks, catalog_step = transform(defs, instance, only)
        say(f"  {'ok' if step.ok else 'FAILED'} – {step.detail} ({step.seconds:.1f}s)")
        if catalog_step is None:  # a failed run, or a selection without the catalog: its own job, as the sensor would
            say("catalog: datasets, columns, lineage, freshness and quality into meta.catalog_*")
            catalog_step, catalog_checks = build_catalog(defs, instance)
            checks += catalog_checks
        say(f"  catalog {'ok' if catalog_step.ok else 'FAILED'} – {catalog_step.detail} ({catalog_step.seconds:.1f}s)")
    # an overdue delivery is a warning: the demo's history ends before today, so it is flagged, not failed
    checks = ingest_checks + [(n, ok) for n, ok in checks if "deliveries_on_time" not in n]
    steps += [step, catalog_step]
    say(summary(settings, steps, checks))
    ok = all(s.ok for s in steps) and all(ok for _, ok in checks)
    say(f"\n{'Done' if ok else 'Finished with failures'} in {time.monotonic() - started:.0f}s.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
