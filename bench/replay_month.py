"""The bench's new month again, on a copy of a lake built through the history once: an A/B of a change to the
monthly run in ~3 minutes at scale 1, where `make bench` takes ~27.

    python -m bench.replay_month history --scale 1 --root /work/hist1          # once: the lake through 2025-11
    PYTHONPATH=<clone at commit A> python -m bench.replay_month month --scale 1 --root /work/hist1 --work /work/a
    PYTHONPATH=<clone at commit B> python -m bench.replay_month month --scale 1 --root /work/hist1 --work /work/b

`month` copies the kept root (the landing as hard links), points the copy's catalog at the copy's data, and first
runs the transform once without new data, reported apart as `settle`: `lakehouse/dbt_state/` belongs to one lake,
so the copy's first run reloads every seed and runs every test, and it is also the code's first run after a deploy
(a new not_null is added). Then it delivers the new month and measures it as bench.pipeline does (ingest, then
the transform split by step events). Both commits start from the same lake. The bench's own new month, on the lake
it built, came out 3-7 s above the settled replays at scale 1 (issue 9, benchmarks/README.md): compare replays with
replays.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench import pipeline

STAGES = ("ingest", "dbt", "checks", "publish", "catalog")
OUT = pipeline.RUNS.parent / "replays"  # git-ignored, beside the runs


def _sources(scale: float, history: list[str], new_month: str, kept: Path | None) -> Path:
    args = argparse.Namespace(scale=scale, seed=None, sources=kept)
    generated, gen = pipeline.sources(args, history, new_month)
    if gen.get("error"):
        raise SystemExit(f"replay_month: the sources could not be generated: {gen['error']}")
    return generated


def history(args, months: list[str], new_month: str) -> dict:
    root = args.root.resolve()
    if root.exists():
        raise SystemExit(f"replay_month: {root} exists; the history is built once into a new directory")
    root.mkdir(parents=True)
    generated = _sources(args.scale, months, new_month, args.sources)
    pipeline._locate(root)
    pipeline.link_files(generated, root / "landing", pipeline.source_files(generated, new_month)[0])
    return {"history": pipeline._phase("full", f"history {months[0]}..{months[-1]}")}


def copy_root(kept: Path, work: Path) -> None:
    """The kept root under ``work``: lake and Dagster history copied, the landing hard-linked, the catalog's data path
    set to the copy's (DuckLake keeps it in its metadata table)."""
    work.mkdir(parents=True)
    for entry in sorted(kept.iterdir()):
        subprocess.run(["cp", "-al" if entry.name == "landing" else "-a", str(entry), str(work / entry.name)],
                       check=True)
    pipeline._locate(work)
    from pipelines import settings as settings_module
    from pipelines.lake.connection import point_copied_catalog_at_its_data

    point_copied_catalog_at_its_data(settings_module.load())


def month(args, months: list[str], new_month: str) -> dict:
    work = args.work.resolve()
    if work.exists():
        raise SystemExit(f"replay_month: {work} exists; give a new --work directory")
    generated = _sources(args.scale, months, new_month, args.sources)
    copy_root(args.root.resolve(), work)
    settle = pipeline._phase("settle", "settle: the transform without new data", {})
    before = pipeline._partitions_by_dataset()
    pipeline.link_files(generated, work / "landing", pipeline.source_files(generated, new_month)[1])
    delivered = pipeline.new_partitions(before, pipeline._partitions_by_dataset())
    return {"settle": settle, "incremental": pipeline._phase("incremental", f"new month {new_month}", delivered)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["history", "month"])
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--months", default="2019-01..2025-11", help="the history, FIRST..LAST (default %(default)s)")
    parser.add_argument("--root", type=Path, required=True, help="the kept history root (history: created)")
    parser.add_argument("--work", type=Path, help="month: where the copy is made (a new directory)")
    parser.add_argument("--sources", type=Path, help="the generated sources, as bench.pipeline --sources")
    parser.add_argument("--out", type=Path, default=OUT, help="where the JSON goes (default %(default)s)")
    args = parser.parse_args(argv)
    months = pipeline._months(args.months)
    new_month = pipeline._next_month(months[-1])
    if args.step == "month" and args.work is None:
        parser.error("month needs --work")
    started = datetime.now(UTC)
    result = {"step": args.step, "scale": args.scale, "started_at": started.isoformat(timespec="seconds"),
              "root": str(args.root), "work": str(args.work) if args.work else None,
              "pythonpath": os.environ.get("PYTHONPATH"), "machine": pipeline.machine_module.machine(),
              **(history if args.step == "history" else month)(args, months, new_month)}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"replay-{args.step}-{started:%Y-%m-%dT%H%M%S}-scale{args.scale:g}.json"
    path.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    phases = {k: v for k, v in result.items() if k in ("history", "settle", "incremental")}
    for name, phase in phases.items():
        stages = {s: phase["stages"].get(s, {}).get("wall_s") for s in STAGES}
        print(f"{name}: {phase['wall_s']} s {json.dumps(stages)} ok={phase['ok']}")
    print(f"results: {path}")
    return 0 if all(p["ok"] for p in phases.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
