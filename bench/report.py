"""The benchmark's results as JSON and as a Markdown table under benchmarks/ (and benchmarks/latest.md)."""

from __future__ import annotations

import json
from pathlib import Path


def _f(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown(r: dict) -> str:
    m, v = r["machine"], r["versions"]
    lines = [
        f"# Benchmark: scale {r['scale']:g}, {r['history']} from empty, then {r['new_month']} incrementally",
        "",
        f"Run {r['started_at']} → {r['finished_at']} by `python -m bench.pipeline --scale {r['scale']:g}` "
        "(bench/pipeline.py; how it measures is in its docstring).",
        "",
        f"**Machine**: {m['cpu_model']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; load average at "
        f"start {m['load_average_at_start']} (the machine may have been shared: wall times are upper bounds; "
        "CPU times are this run's own).",
        "",
        "**Versions**: " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
        "",
        f"Generated demo sources: {_f(r['generate'].get('files'))} files, {_f(r['generate'].get('rows'))} rows "
        f"({_f(r['generate'].get('measured', {}).get('wall_s'))} s, not part of the pipeline).",
        "",
        "## Targets (issue 9)",
        "",
        "| target | measured | status |",
        "|---|---|---|",
    ]
    lines += [f"| {t['target']} | {t['measured']} | {t['status']} |" for t in r["targets"]]
    for phase, title in (("full", "Whole pipeline from empty"), ("incremental", f"New month {r['new_month']}, "
                                                                                 "incrementally, end to end")):
        p = r[phase]
        lines += ["", f"## {title}", "",
                  f"{'ok' if p['ok'] else '**FAILED**'} — {_f(p['rows'])} delivered rows ingested; "
                  f"wall {_f(p['wall_s'])} s, CPU {_f(p['cpu_s'])} s, peak RSS {_f(p['peak_rss_mb'], 0)} MB, "
                  f"{_f(p['rows_per_s'])} rows/s end to end.", "",
                  "| stage | wall s | CPU s (user+sys) | peak RSS MB | rows/s |", "|---|---|---|---|---|"]
        for s in ("ingest", "dbt", "checks", "publish", "catalog"):
            st = p["stages"].get(s, {})
            lines.append(f"| {s} | {_f(st.get('wall_s'))} | {_f(st.get('cpu_s'))} | {_f(st.get('peak_rss_mb'), 0)} "
                         f"| {_f(st.get('rows_per_s'))} |")
        t = p["stages"].get("transform_total", {})
        in_run = "dbt, checks and publish are" if p["stages"].get("catalog", {}).get("note") else \
            "dbt, checks, publish and catalog are"
        lines += ["", f"{in_run} one Dagster run (the `transform` job, wall {_f(t.get('wall_s'))} s,"
                  f" CPU {_f(t.get('cpu_s'))} s, peak RSS {_f(t.get('peak_rss_mb'), 0)} MB of which dbt's process "
                  f"{_f(t.get('peak_rss_children_mb'), 0)} MB); split by its step events, "
                  f"{_f(t.get('unattributed_wall_s'))} s outside any step (run start-up, planning). rows/s = "
                  "delivered rows of the phase ÷ the stage's wall time."]
        if p.get("errors"):
            lines += ["", "Errors: " + "; ".join(f"{k}: {str(e).splitlines()[0]}" for k, e in p["errors"].items())]
        if p.get("checks_failed"):
            lines += ["", f"Failed checks: {', '.join(p['checks_failed'][:10])}"]
        slow = sorted(p["ingest_datasets"], key=lambda d: -d["seconds"])[:5]
        lines += ["", "Slowest ingest runs: " + ", ".join(
            f"{d['dataset']} {d['seconds']:.1f} s ({_f(d['rows_loaded'])} rows)" for d in slow)]
        lines += ["", "Slowest transform steps: " + ", ".join(
            f"{s['step']} {s['wall_s']:.1f} s" for s in p["transform_steps"][:5])]
    c, pd_, ratios = r["ceiling"], r["pandas"], r["ratios"]
    lines += [
        "", "## References on the same files", "",
        "| | rows | wall s | CPU s | peak RSS MB | rows/s |", "|---|---|---|---|---|---|",
        f"| ceiling: DuckDB alone, {r['new_month']} loans → Parquet → green-loan mart | {_f(c.get('rows'))} | "
        f"{_f(c.get('measured', {}).get('wall_s'))} | {_f(c.get('measured', {}).get('cpu_s'))} | "
        f"{_f(c.get('measured', {}).get('peak_rss_mb'), 0)} | {_f(ratios['ceiling_rate_rows_per_s'])} |",
        f"| our ingest, same loan files (incremental) | | | | | {_f(ratios['ingest_rate_loans_rows_per_s'])} |",
        f"| pandas alternative: 3 marts, all {pd_.get('months')} months | {_f(pd_.get('rows_read'))} | "
        f"{_f(pd_.get('measured', {}).get('wall_s'))} | {_f(pd_.get('measured', {}).get('cpu_s'))} | "
        f"{_f(pd_.get('measured', {}).get('peak_rss_mb'), 0)} | "
        f"{_f(round(pd_['rows_read'] / pd_['measured']['wall_s']) if pd_.get('rows_read') else None)} |",
        "", "Ratios: " + "; ".join(f"{k} = {_f(val, 3)}" for k, val in ratios.items()), "",
        "## Agreement of the pandas alternative with our marts", "",
        "| mart | sample | keys ours / pandas / both | rows agreeing | agreement |", "|---|---|---|---|---|"]
    agreement = r.get("agreement", {})
    if "error" in agreement:
        lines.append(f"| – | error: {str(agreement['error']).splitlines()[0]} | | | |")
    for name, a in agreement.items():
        if isinstance(a, dict) and "error" in a:
            lines.append(f"| {name} | not compared: {str(a['error']).splitlines()[0]} | | | |")
        elif isinstance(a, dict) and "rows_ours" in a:
            lines.append(f"| {name} | {a['sample']} | {_f(a['rows_ours'])} / {_f(a['rows_pandas'])} / "
                         f"{_f(a['keys_in_both'])} | {_f(a['rows_agreeing'])} | {a['agreement']:.2%} |")
    lines += ["", "Differences are expected where our pipeline quarantines rows that break a data contract (the "
              "pandas script keeps them) and where the dbt models apply rules the simplified pandas code omits; "
              "examples of disagreeing rows are in the JSON.", ""]
    return "\n".join(lines)


def write(report: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    # date and time: a second run on the same day (after a change) must not overwrite the first
    started = report["started_at"]
    stem = f"results-{started[:10]}T{started[11:16].replace(':', '')}-scale{report['scale']:g}"
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    text = markdown(report)
    md_path.write_text(text, encoding="utf-8")
    (out / "latest.md").write_text(f"<!-- copy of {md_path.name}; data in {json_path.name} -->\n" + text,
                                   encoding="utf-8")
    return [json_path, md_path, out / "latest.md"]
