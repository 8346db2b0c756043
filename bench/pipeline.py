"""Benchmark: the whole city on one machine, against the ceiling and against the usual alternative (issue 9).

    python -m bench.pipeline --scale 0.1                       # what `make bench SCALE=0.1` runs
    python -m bench.pipeline --scale 0.002 --months 2020-11..2020-12 --new-month 2021-01   # a quick try

1. Generates the demo sources at the scale for the history and the new month (once: they are kept under
   bench/.data/sources and reused, generation being deterministic), and lands all but the new month's files in a
   fresh root (the new month is held back, to be delivered later).
2. Runs the whole pipeline from empty, one process per stage so that each stage's peak memory is its own:
   ingest (one Dagster run per dataset over every delivered partition, as `make run` does) and transform (the
   `transform` job: dbt build → Great Expectations checks → publication → catalog; the catalog job runs on its own
   only if the transform did not build it). The transform run is split into dbt / checks / publish / catalog by the
   Dagster run's step events (start and end of each step, as the instance's step stats give them); the CPU
   time of each part comes from a sampler thread reading getrusage(SELF + CHILDREN) every 0.2 s (dbt runs as a
   child process and is reaped inside its step); peak memory is the stage process's (or its largest child's: the
   helper processes of the Great Expectations checks run beside the run's process and are not added to it).
3. Delivers the new month and runs it incrementally end to end: ingest of only the partitions whose delivered
   files changed (what the sensors launch) and transform; measured the same way.
4. The ceiling (bench/ceiling.py) on the new month's loan files and the pandas alternative (bench/pandas_alternative.py)
   on the whole landing directory, each in its own process; the pandas figures are compared with our marts'.
5. Writes benchmarks/results-<date>T<hhmm>-scale<s>.json and .md and benchmarks/latest.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue as queue_module
import resource
import shutil
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench import machine as machine_module

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks"
RUNS = ROOT / "bench" / ".data" / "runs"  # git-ignored, with the issue-3 data
SOURCES = ROOT / "bench" / ".data" / "sources"


# ---------------------------------------------------------------------------------------------------------------
# measuring a function in its own process


def _cpu_s() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _child(target: str, kwargs: dict, queue) -> None:
    import importlib

    module, _, name = target.partition(":")
    started, cpu0 = time.perf_counter(), _cpu_s()
    try:
        result = getattr(importlib.import_module(module), name)(**kwargs)
    except BaseException as exc:
        result = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-3000:]}
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result["measured"] = {"wall_s": round(time.perf_counter() - started, 3), "cpu_s": round(_cpu_s() - cpu0, 3),
                          "peak_rss_mb": round(max(self_rss, children_rss), 1),
                          "peak_rss_self_mb": round(self_rss, 1), "peak_rss_children_mb": round(children_rss, 1)}
    queue.put(json.loads(json.dumps(result, default=str)))


def measure(target: str, **kwargs) -> dict:
    """Run ``module:function(**kwargs)`` in a fresh (spawned) process; its result plus wall, CPU and peak RSS."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(target, kwargs, queue))
    proc.start()
    while True:
        try:
            result = queue.get(timeout=2)
            break
        except queue_module.Empty:
            if not proc.is_alive():
                result = {"error": f"process died (exit code {proc.exitcode})", "measured": {}}
                break
    proc.join()
    if result.get("error"):  # stage results carry "error": None when they succeed
        print(f"  {target} FAILED: {result['error']}", flush=True)
    return result


# ---------------------------------------------------------------------------------------------------------------
# the stages (each runs in its own process)


class CpuSampler:
    """(wall clock, CPU seconds of this process and its reaped children) every ``every_s`` seconds."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.samples: list[tuple[float, float]] = []
        self._done = threading.Event()
        self._every = every_s
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            self.samples.append((time.time(), _cpu_s()))
            if self._done.wait(self._every):
                self.samples.append((time.time(), _cpu_s()))
                return

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._done.set()
        self._thread.join()

    def cpu_at(self, t: float) -> float:
        """CPU seconds at wall time ``t`` (the first sample at or after it)."""
        for when, cpu in self.samples:
            if when >= t:
                return cpu
        return self.samples[-1][1]


def _lake():
    import dagster as dg

    from pipelines import settings as settings_module
    from pipelines.lake import extensions, meta

    settings = settings_module.load()
    extensions.install(settings)
    meta.bootstrap(settings)
    os.environ.setdefault("TQDM_DISABLE", "1")
    from pipelines.definitions import defs

    return settings, defs, dg.DagsterInstance.get()


def _log_file(settings, label: str) -> Path:
    return settings.root / "lakehouse" / "logs" / f"bench-{label}-{datetime.now():%Y%m%d-%H%M%S}.log"


def stage_ingest(label: str, only: dict[str, list[str]] | None = None) -> dict:
    """One Dagster run per dataset over its delivered partitions (``only``: just these partitions per dataset)."""
    from pipelines import run
    from pipelines.assets.ingest import CONTRACTS, PARTITIONS
    from pipelines.ingest.deliveries import landed_partitions

    settings, defs, instance = _lake()
    datasets, checks = [], {}
    with run.runs_logged_to(_log_file(settings, label)):
        for contract in CONTRACTS.values():
            partitions = PARTITIONS[contract.granularity]
            landed = sorted(landed_partitions(contract, settings, set(partitions.get_partition_keys())
                                              if partitions else None), key=lambda k: k or "")
            if only is not None:
                landed = [k for k in landed if k in only.get(contract.name, [])]
            if not landed:
                continue
            tags = {}
            if partitions is not None:
                tags = {"dagster/asset_partition_range_start": landed[0],
                        "dagster/asset_partition_range_end": landed[-1]}
            started, cpu0 = time.perf_counter(), _cpu_s()
            result = run._run(defs.resolve_job_def(f"ingest_{contract.name}"), instance, tags=tags)
            seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu0
            checks.update(run.check_results(result))
            mat = [e.materialization for e in result.get_asset_materialization_events()]
            md = {k: v.value for k, v in mat[0].metadata.items()} if mat else {}
            datasets.append({"dataset": contract.name, "partitions": len(landed), "ok": result.success,
                             "rows_loaded": int(md.get("rows_loaded", 0) or 0),
                             "rows_quarantined": int(md.get("rows_quarantined", 0) or 0),
                             "seconds": round(seconds, 3), "cpu_s": round(cpu, 3),
                             "error": None if result.success else run._failure(result)})
    rows = sum(d["rows_loaded"] + d["rows_quarantined"] for d in datasets)
    return {"ok": all(d["ok"] for d in datasets), "rows": rows, "datasets": datasets,
            "checks_failed": [k for k, ok in checks.items() if not ok]}


def _part(step_key: str, catalog_step: str) -> str:
    if step_key == catalog_step:
        return "catalog"
    key = step_key.lower()
    if "dbt" in key:
        return "dbt"
    if "publi" in key:
        return "publish"
    if "gx" in key or "check" in key:
        return "checks"
    return "other"


def stage_transform(label: str) -> dict:
    """The `transform` job (dbt build → checks → publish → catalog) in one Dagster run, split by its step events."""
    from pipelines import run

    settings, defs, instance = _lake()
    with run.runs_logged_to(_log_file(settings, label)), CpuSampler() as sampler:
        result = run._run(defs.resolve_job_def("transform"), instance)
    spans: dict[str, dict] = {}
    for stat in instance.get_run_step_stats(result.run_id):  # the step events' start and end times
        if stat.start_time and stat.end_time:
            spans[stat.step_key] = {"start": stat.start_time, "end": stat.end_time,
                                    "ok": str(stat.status).endswith("SUCCESS")}
    steps, catalog_step = [], run.catalog_step_key(defs)
    parts = {p: {"wall_s": 0.0, "cpu_s": 0.0, "steps": 0} for p in ("dbt", "checks", "publish", "catalog", "other")}
    for key, span in spans.items():
        if "start" not in span or "end" not in span:
            continue
        wall = span["end"] - span["start"]
        cpu = sampler.cpu_at(span["end"]) - sampler.cpu_at(span["start"])
        part = parts[_part(key, catalog_step)]
        part["wall_s"] += wall
        part["cpu_s"] += cpu
        part["steps"] += 1
        steps.append({"step": key, "part": _part(key, catalog_step), "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                      "ok": span.get("ok")})
    checks = run.check_results(result)
    catalog_built = any(s["part"] == "catalog" and s["ok"] for s in steps)
    return {"ok": result.success, "error": None if result.success else run._failure(result),
            "catalog_built": catalog_built,
            "parts": {k: {kk: round(vv, 3) for kk, vv in v.items()} for k, v in parts.items()},
            "steps": sorted(steps, key=lambda s: -s["wall_s"])[:40],
            "materialized": len(result.get_asset_materialization_events()),
            # an overdue delivery is the catalog's warning, not a failure (as `make run` counts it); a broken catalog
            # rule is listed rule by rule, as the catalog stage lists them
            "checks": len(checks), "checks_failed": [
                n for n, ok in checks if not ok and not n.endswith(("deliveries_on_time", "catalog_rules"))]
            + (broken_catalog_rules(settings) if catalog_built else [])}


def broken_catalog_rules(settings) -> list[str]:
    """A catalog rule found broken is a failed check of the run (the catalog's step succeeds either way)."""
    from pipelines.lake.connection import reader

    with reader(settings) as con:
        broken = con.execute("SELECT rule || ': ' || dataset || coalesce('.' || column_name, '') "
                             "FROM meta.catalog_violations WHERE severity = 'error' ORDER BY 1").fetchall()
    return [f"catalog rule {v}" for (v,) in broken]


def stage_catalog(label: str) -> dict:
    """The catalog job on its own, for a transform run that did not build it (it failed)."""
    from pipelines import run

    settings, defs, instance = _lake()
    with run.runs_logged_to(_log_file(settings, label)):
        step, _checks = run.build_catalog(defs, instance)
    return {"ok": step.ok, "detail": step.detail, "checks_failed": broken_catalog_rules(settings)}


def generate(landing: str, scale: float, seed: int, months: list[str]) -> dict:
    from pipelines.demo.sources import generate_all

    rows = 0

    def count(_path: Path, n: int) -> None:
        nonlocal rows
        rows += n

    files = generate_all(Path(landing), scale=scale, seed=seed, months=months, on_file=count)
    return {"files": len(files), "rows": rows}


def marts_sample(months: list[str]) -> dict:
    """Our marts, aggregated to the grain of the pandas alternative, as records (for the agreement check)."""
    from pipelines import settings as settings_module
    from pipelines.lake.connection import reader

    in_months = ", ".join(f"'{m}'" for m in months)
    queries = {
        "stats": f"""
            select strftime(report_month, '%Y-%m') as report_month, bank_code, district_code, industry_section_code,
                   is_green, sum(loan_count) as loan_count, sum(balance_yuan) as balance_yuan,
                   sum(npl_loan_count) as npl_loan_count, sum(npl_balance_yuan) as npl_balance_yuan,
                   sum(originated_loan_count) as originated_loan_count, sum(flow_yuan) as flow_yuan
            from marts.fct_green_loan_statistics_monthly
            where strftime(report_month, '%Y-%m') in ({in_months})
            group by all""",
        "emissions": """
            select year, bank_code, count(*) as loan_count,
                   sum(financed_scope1_tco2e) as financed_scope1_tco2e,
                   sum(financed_scope2_tco2e) as financed_scope2_tco2e
            from marts.fct_financed_emissions_loan_yearly
            where attribution_basis = 'equity_plus_debt' and attribution_factor is not null
            group by all""",
        "plan": """
            select strftime(report_month, '%Y-%m') as report_month, plan_period, cast(seq as varchar) as seq,
                   measure_key, lake_value
            from marts.fct_plan_indicator_progress""",
    }
    out: dict = {"errors": {}}
    with reader(settings_module.load()) as con:
        for name, sql in queries.items():
            try:
                out[name] = con.execute(sql).df().to_json(orient="records", force_ascii=False)
            except Exception as exc:  # a mart the run did not build: reported, the others still compared
                out[name] = None
                out["errors"][name] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return out


# ---------------------------------------------------------------------------------------------------------------
# agreement between the pandas alternative and our marts


def agreement(ours: dict, pandas_dir: Path, months: list[str]) -> dict:
    import io

    import pandas as pd

    def frame(name: str) -> pd.DataFrame:
        return pd.read_json(io.StringIO(ours[name]), orient="records", dtype=False)

    out = {name: {"error": f"our mart could not be read: {error}"} for name, error in ours.get("errors", {}).items()}
    out = {{"stats": "green_loan_statistics", "emissions": "financed_emissions", "plan": "plan_indicators"}[k]: v
           for k, v in out.items()}
    if ours.get("stats") is not None:
        theirs = pd.read_parquet(pandas_dir / "green_loan_statistics.parquet")
        theirs = theirs[theirs["report_month"].isin(months)].copy()
        for col in ("balance", "npl_balance", "flow"):
            theirs[f"{col}_yuan"] = theirs.pop(f"{col}_cents").astype("float64") / 100
        keys = ["report_month", "bank_code", "district_code", "industry_section_code", "is_green"]
        values = ["loan_count", "balance_yuan", "npl_loan_count", "npl_balance_yuan", "originated_loan_count",
                  "flow_yuan"]
        mine = frame("stats")
        out["green_loan_statistics"] = _compare(mine, theirs, keys, values, tol=0.005,
                                                sample=f"all rows of {', '.join(months)}")
    if ours.get("emissions") is not None:
        theirs = pd.read_parquet(pandas_dir / "financed_emissions.parquet")
        mine = frame("emissions")
        out["financed_emissions"] = _compare(mine, theirs, ["year", "bank_code"],
                                             ["loan_count", "financed_scope1_tco2e", "financed_scope2_tco2e"],
                                             rel=1e-6, sample="every year and bank, business loans attributed by "
                                                              "equity + debt (unlisted borrowers)")
    if ours.get("plan") is not None:
        theirs = pd.read_parquet(pandas_dir / "plan_indicators.parquet")
        theirs["seq"] = theirs["seq"].astype(str)
        mine = frame("plan")
        mine = mine[mine["measure_key"].isin(set(theirs["measure_key"]))]
        out["plan_indicators"] = _compare(mine.drop(columns="measure_key"), theirs.drop(columns="measure_key"),
                                          ["report_month", "plan_period", "seq"], ["lake_value"], tol=0.00015,
                                          sample="every month, the indicators measured from loans and deposits")
    return out


def _compare(mine, theirs, keys: list[str], values: list[str], tol: float = 0.0, rel: float = 0.0,
             sample: str = "") -> dict:
    for df in (mine, theirs):
        for k in keys:
            df[k] = df[k].astype(str)
    merged = mine[keys + values].merge(theirs[keys + values], on=keys, how="outer", suffixes=("_ours", "_pandas"),
                                       indicator=True)
    both = merged[merged["_merge"] == "both"]
    equal = None
    for v in values:
        a, b = both[f"{v}_ours"].astype(float), both[f"{v}_pandas"].astype(float)
        ok = ((a - b).abs() <= tol + rel * b.abs()) | (a.isna() & b.isna())
        equal = ok if equal is None else equal & ok
    agreeing = int(equal.sum()) if equal is not None else 0
    worst = both.loc[~equal].head(3).to_dict("records") if equal is not None and (~equal).any() else []
    return {"sample": sample, "rows_ours": len(mine), "rows_pandas": len(theirs),
            "keys_in_both": len(both), "only_ours": int((merged["_merge"] == "left_only").sum()),
            "only_pandas": int((merged["_merge"] == "right_only").sum()), "rows_agreeing": agreeing,
            "agreement": round(agreeing / max(len(merged), 1), 4),
            "examples_disagreeing": json.loads(json.dumps(worst, default=str))}


# ---------------------------------------------------------------------------------------------------------------
# the run


def _months(spec: str) -> list[str]:
    from pipelines.demo.sources import parse_months

    return parse_months(spec.replace("..", ":"))


def _next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:])
    return f"{y + m // 12}-{m % 12 + 1:02d}"


def _locate(root: Path) -> None:
    from pipelines.settings import LOCATION_VARS

    for var in LOCATION_VARS:
        os.environ.pop(var, None)
    os.environ["LAKEHOUSE_ROOT"] = str(root)
    (root / "dagster").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / ".dagster" / "dagster.yaml", root / "dagster")  # the instance `make run` uses
    os.environ["DAGSTER_HOME"] = str(root / "dagster")
    os.environ["LAKEHOUSE_OPENLINEAGE_FILE"] = str(root / "openlineage.jsonl")


def source_files(generated: Path, new_month: str) -> tuple[list[Path], list[Path]]:
    """The generated files (relative paths): those of the history, and those of the new month, held back."""
    files = sorted(p.relative_to(generated) for p in generated.rglob("*")
                   if p.is_file() and p.name != "GENERATED.json")
    return [f for f in files if new_month not in f.as_posix()], [f for f in files if new_month in f.as_posix()]


def link_files(generated: Path, landing: Path, files: list[Path]) -> None:
    """Delivered as hard links: the landing costs no disk and the sources stay as generated."""
    for rel in files:
        (landing / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(generated / rel, landing / rel)


def new_partitions(before: dict[str, dict], after: dict[str, dict]) -> dict[str, list[str]]:
    """Per dataset, the partitions landed or changed between two _partitions_by_dataset() listings."""
    return {name: keys for name, parts in after.items()
            if (keys := [k for k, fp in parts.items() if before.get(name, {}).get(k) != fp])}


def _partitions_by_dataset() -> dict[str, dict]:
    from pipelines import settings as settings_module
    from pipelines.contracts.model import all_contracts
    from pipelines.ingest.deliveries import landed_partitions

    settings = settings_module.load()
    return {name: landed_partitions(c, settings) for name, c in all_contracts().items()}


def _phase(label: str, title: str, only: dict | None = None) -> dict:
    print(f"{title}: ingest …", flush=True)
    ingest = measure("bench.pipeline:stage_ingest", label=f"{label}-ingest", only=only)
    print(f"  {ingest.get('rows', 0):,} rows in {ingest['measured'].get('wall_s')} s; transform …", flush=True)
    transform = measure("bench.pipeline:stage_transform", label=f"{label}-transform")
    if transform.get("catalog_built"):
        print(f"  {transform['measured'].get('wall_s')} s (catalog included)", flush=True)
        catalog = None
    else:
        print(f"  {transform['measured'].get('wall_s')} s; catalog …", flush=True)
        catalog = measure("bench.pipeline:stage_catalog", label=f"{label}-catalog")
        print(f"  {catalog['measured'].get('wall_s')} s", flush=True)
    processes = [x for x in (ingest, transform, catalog) if x is not None]
    rows = ingest.get("rows", 0)
    stages = {"ingest": {**ingest["measured"], "rows": rows}}
    t_m = transform.get("measured", {})
    parts = ("dbt", "checks", "publish", "catalog") if catalog is None else ("dbt", "checks", "publish")
    for part in parts:
        p = transform.get("parts", {}).get(part, {})
        stages[part] = {"wall_s": p.get("wall_s"), "cpu_s": p.get("cpu_s"), "steps": p.get("steps"),
                        "peak_rss_mb": t_m.get("peak_rss_mb"), "peak_rss_note": "the transform process's"}
    other = transform.get("parts", {}).get("other", {})
    stages["transform_total"] = dict(t_m)
    stages["transform_total"]["unattributed_wall_s"] = round(
        (t_m.get("wall_s") or 0) - sum((stages[p]["wall_s"] or 0) for p in parts), 3)
    stages["transform_total"]["other_steps"] = other
    if catalog is not None:
        stages["catalog"] = {**catalog.get("measured", {}), "note": "its own job, in a new process"}
    for s in ("ingest", "dbt", "checks", "publish", "catalog"):
        wall = stages[s].get("wall_s")
        stages[s]["rows_per_s"] = round(rows / wall) if wall else None
    total_wall = sum((x.get("measured", {}).get("wall_s") or 0) for x in processes)
    total_cpu = sum((x.get("measured", {}).get("cpu_s") or 0) for x in processes)
    peak = max((x.get("measured", {}).get("peak_rss_mb") or 0) for x in processes)
    ok = all(x.get("ok") for x in processes)
    return {"ok": ok, "rows": rows, "wall_s": round(total_wall, 3), "cpu_s": round(total_cpu, 3),
            "peak_rss_mb": peak, "rows_per_s": round(rows / total_wall) if total_wall else None, "stages": stages,
            "ingest_datasets": ingest.get("datasets", []), "transform_steps": transform.get("steps", []),
            "errors": {k: x.get("error") for k, x in (("ingest", ingest), ("transform", transform),
                                                       ("catalog", catalog)) if x is not None and x.get("error")},
            "checks_failed": [f for x in processes for f in x.get("checks_failed", [])]}


# Free disk a run needs at scale 1 besides its sources (the landing copy is hard links): the lake (~7 GB) and what
# DuckDB spills while dbt builds from empty. Run 28 failed with 20 GB free, building fct_loans_monthly; runs 29-33
# passed with 45-55 GB free (issue 9). The spill's peak is not measured, hence the margin.
FREE_GB_AT_SCALE_1 = 40


def enough_disk(root: Path, scale: float, min_free_gb: float | None) -> str | None:
    """Why the run should not start for want of disk, or None."""
    need = FREE_GB_AT_SCALE_1 * scale if min_free_gb is None else min_free_gb
    free = shutil.disk_usage(root).free / 1e9
    if free >= need:
        return None
    return (f"{free:.1f} GB free under {root}, {need:.1f} GB needed at scale {scale:g} (a failed build from empty "
            "is the likely result: DuckDB spills there); free some, or pass --min-free-gb")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("SCALE") or 0.1))
    parser.add_argument("--months", default=os.environ.get("MONTHS") or "2019-01..2025-11",
                        help="history landed before the first run, FIRST..LAST (default %(default)s)")
    parser.add_argument("--new-month", help="the month delivered afterwards (default: the month after --months)")
    parser.add_argument("--root", type=Path, help=f"where to build (default: a fresh directory under {RUNS})")
    parser.add_argument("--keep", action="store_true", help="keep the root (lake, landing) afterwards")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--sources", type=Path,
                        help=f"where the generated demo sources are kept and reused (default: under {SOURCES})")
    parser.add_argument("--min-free-gb", type=float,
                        help=f"free disk required under the root (default {FREE_GB_AT_SCALE_1} GB × the scale)")
    parser.add_argument("--report-only", type=Path, metavar="JSON",
                        help="recompute the ratios and targets of a results JSON and rewrite its Markdown")
    args = parser.parse_args(argv)
    if args.report_only:
        from bench.report import write

        report = json.loads(args.report_only.read_text(encoding="utf-8"))
        root = Path(report["root"])
        if (root / "pandas").exists():
            _locate(root)
            months = sorted({report["history"][:7], report["new_month"]})
            ours = measure("bench.pipeline:marts_sample", months=months)
            report["agreement"] = agreement(ours, root / "pandas", months)
        report["ratios"], report["targets"] = ratios_and_targets(report)
        print("results: " + ", ".join(str(p) for p in write(report, args.out)))
        return 0

    history = _months(args.months)
    new_month = args.new_month or _next_month(history[-1])
    started_at = datetime.now(UTC)
    root = (args.root or RUNS / f"scale{args.scale:g}-{started_at:%Y%m%d-%H%M%S}").resolve()
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    short = enough_disk(root, args.scale, args.min_free_gb)
    if short:
        shutil.rmtree(root)
        print(f"bench: {short}", file=sys.stderr)
        return 2
    _locate(root)
    report: dict = {"issue": 9, "started_at": started_at.isoformat(timespec="seconds"), "scale": args.scale,
                    "history": f"{history[0]}..{history[-1]}", "new_month": new_month,
                    "machine": machine_module.machine(), "versions": machine_module.versions(),
                    "root": str(root)}
    print(f"bench: scale {args.scale:g}, {history[0]}..{history[-1]} then {new_month}, in {root}", flush=True)

    generated, gen = sources(args, history, new_month)
    report["generate"] = gen
    landing = root / "landing"
    history_files, held_back = source_files(generated, new_month)
    link_files(generated, landing, history_files)
    print(f"  {'reused' if gen.get('reused') else 'generated'} {gen.get('files')} files ({gen.get('rows', 0):,} rows,"
          f" generated in {gen['measured'].get('wall_s')} s);"
          f" {len(held_back)} files of {new_month} held back", flush=True)

    report["full"] = _phase("full", "whole pipeline from empty")
    before = _partitions_by_dataset()
    link_files(generated, landing, held_back)
    only = new_partitions(before, _partitions_by_dataset())
    report["delivered"] = {"files": len(held_back), "partitions": only}
    report["incremental"] = _phase("incremental", f"new month {new_month}, incrementally", only)

    print("ceiling: DuckDB alone on the new month's loan files …", flush=True)
    loan_files = sorted(str(p) for p in (landing / "bank_loans" / new_month).glob("*.csv"))
    report["ceiling"] = measure("bench.ceiling:run", files=loan_files, workdir=str(root / "ceiling"))
    print(f"  {report['ceiling'].get('rows', 0):,} rows in {report['ceiling']['measured'].get('wall_s')} s",
          flush=True)
    print("pandas alternative: three marts from the delivered files …", flush=True)
    report["pandas"] = measure("bench.pandas_alternative:run", landing=str(landing), out_dir=str(root / "pandas"))
    print(f"  {report['pandas']['measured'].get('wall_s')} s", flush=True)

    sample_months = sorted({history[0], history[len(history) // 2], new_month})
    ours = measure("bench.pipeline:marts_sample", months=sample_months)
    try:
        report["agreement"] = agreement(ours, root / "pandas", sample_months) if "error" not in ours else \
            {"error": ours["error"]}
    except Exception as exc:
        report["agreement"] = {"error": f"{type(exc).__name__}: {exc}"}
    report["ratios"], report["targets"] = ratios_and_targets(report)
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    from bench.report import write

    paths = write(report, args.out)
    print("results: " + ", ".join(str(p) for p in paths), flush=True)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if report["full"]["ok"] and report["incremental"]["ok"] else 1


def sources(args, history: list[str], new_month: str) -> tuple[Path, dict]:
    """The demo sources for the run: generated once per scale, seed and months (deterministically) and kept, so a
    second run, or one at another commit, measures the pipeline on the very same files without regenerating."""
    from pipelines.demo.world import DEFAULT_SEED

    wanted = {"scale": args.scale, "seed": args.seed or DEFAULT_SEED, "months": f"{history[0]}..{new_month}"}
    generated = (args.sources or SOURCES / "scale{scale:g}-seed{seed}-{months}".format(**wanted)).resolve()
    stamp = generated / "GENERATED.json"
    if stamp.exists():
        kept = json.loads(stamp.read_text(encoding="utf-8"))
        if {k: kept.get(k) for k in wanted} == wanted:
            return generated, {**kept, "reused": True}
    shutil.rmtree(generated, ignore_errors=True)
    gen = measure("bench.pipeline:generate", landing=str(generated), scale=args.scale, seed=wanted["seed"],
                  months=[*history, new_month])
    if not gen.get("error"):
        stamp.write_text(json.dumps({**wanted, **gen}), encoding="utf-8")
    return generated, gen


def ratios_and_targets(r: dict) -> tuple[dict, list[dict]]:
    full, inc, ceiling, pandas = r["full"], r["incremental"], r["ceiling"], r["pandas"]
    loans_inc = next((d for d in inc["ingest_datasets"] if d["dataset"] == "bank_loans"), None)
    ingest_rate = (loans_inc["rows_loaded"] + loans_inc["rows_quarantined"]) / loans_inc["seconds"] \
        if loans_inc and loans_inc["seconds"] else None
    ceiling_s = ceiling.get("measured", {}).get("wall_s")
    ceiling_rate = ceiling.get("rows", 0) / ceiling_s if ceiling_s else None
    pandas_s = pandas.get("measured", {}).get("wall_s")
    ratios = {
        "ingest_rate_loans_rows_per_s": round(ingest_rate) if ingest_rate else None,
        "ceiling_rate_rows_per_s": round(ceiling_rate) if ceiling_rate else None,
        "ingest_over_ceiling_rate": round(ingest_rate / ceiling_rate, 3) if ingest_rate and ceiling_rate else None,
        "new_month_end_to_end_over_ceiling_time": round(inc["wall_s"] / ceiling_s, 2) if ceiling_s else None,
        "pandas_over_full_pipeline_time": round(pandas_s / full["wall_s"], 3) if pandas_s else None,
        "pandas_over_new_month_time": round(pandas_s / inc["wall_s"], 3) if pandas_s else None,
        # CPU time is less sensitive to what else the machine runs than wall time
        "pandas_over_full_pipeline_cpu": round(pandas["measured"]["cpu_s"] / full["cpu_s"], 3)
        if pandas_s and full["cpu_s"] else None,
        # rows per CPU second of our loan ingest ÷ the ceiling's
        "ingest_over_ceiling_cpu_rate": round((ceiling["measured"]["cpu_s"] / ceiling["rows"])
                                              / (loans_inc["cpu_s"] / loans_inc["rows_loaded"]), 3)
        if ceiling_s and ceiling.get("rows") and loans_inc and loans_inc.get("cpu_s") and loans_inc["rows_loaded"]
        else None,
    }
    scale = r["scale"]
    peak_gb = max(full["peak_rss_mb"], inc["peak_rss_mb"]) / 1024

    def target(name: str, applies: bool, met: bool | None, value: str) -> dict:
        return {"target": name, "measured": value,
                "status": ("met" if met else "MISSED") if applies and met is not None else f"n/a at scale {scale:g}"}

    targets = [
        target("scale 0.1: whole pipeline from empty ≤ 3 min", scale == 0.1, full["wall_s"] <= 180,
               f"{full['wall_s']:.0f} s"),
        target("scale 1: whole pipeline from empty ≤ 30 min", scale == 1, full["wall_s"] <= 1800,
               f"{full['wall_s']:.0f} s"),
        target("scale 1: peak memory < 8 GB", scale == 1, peak_gb < 8, f"{peak_gb:.2f} GB"),
        target("scale 1: one new month end to end ≤ 60 s", scale == 1, inc["wall_s"] <= 60, f"{inc['wall_s']:.0f} s"),
        target("ingest ≥ ½ the ceiling's rate (loans of the new month)", True,
               ratios["ingest_over_ceiling_rate"] >= 0.5 if ratios["ingest_over_ceiling_rate"] else None,
               f"{ratios['ingest_over_ceiling_rate']} × the ceiling"),
        target("scale 0.1: whole pipeline ≥ 10 × faster than pandas", scale == 0.1,
               (ratios["pandas_over_full_pipeline_time"] or 0) >= 10,
               f"pandas ÷ pipeline = {ratios['pandas_over_full_pipeline_time']}"),
    ]
    return ratios, targets


if __name__ == "__main__":
    sys.exit(main())
