"""The incremental transform again on a lake a benchmark kept (`--keep`): minutes instead of the whole run.

    python -m bench.redeliver --root bench/.data/runs/<run> --since 2026-11-29T04:36:00+00:00 --label after

Every raw row loaded after ``--since`` (the bench's new month) is delivered again unchanged: its load time moves to
now, in one transaction, as a re-delivery of the same files would. Then the `transform` job runs as in
bench.pipeline (its own process, split into dbt / checks / publish by step events) and its figures are written to
``--out``. Run it once with the code before a change and once with the code after (PYTHONPATH), on the same lake:
the two transforms see the same new rows, which is a fair comparison of the two (the lake itself grows by the
rewritten rows each time). It is not the bench's new month: the models hold the month already, so a month that
would have been appended is rebuilt as a corrected one.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import machine as machine_module
from bench import pipeline


def redeliver(since: str) -> dict[str, int]:
    from pipelines import settings as settings_module
    from pipelines.lake.connection import writer

    counts = {}
    with writer(settings_module.load(), purpose="bench re-delivery") as con:
        con.execute("BEGIN")
        raw = [name for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' "
            "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        for name in raw:
            [(n,)] = con.execute(f"UPDATE raw.{name} SET _loaded_at = now() WHERE _loaded_at > CAST(? AS TIMESTAMPTZ)",
                                 [since]).fetchall()
            if n:
                counts[name] = n
        con.execute("COMMIT")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="the kept root of a bench run")
    parser.add_argument("--since", required=True, help="raw rows loaded after this are delivered again")
    parser.add_argument("--label", required=True, help="names the result, e.g. before / after")
    parser.add_argument("--out", type=Path, default=pipeline.OUT)
    args = parser.parse_args(argv)
    pipeline._locate(args.root.resolve())
    started = time.perf_counter()
    counts = redeliver(args.since)
    result = {"label": args.label, "root": str(args.root), "since": args.since,
              "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "redelivered_rows": counts, "redelivery_s": round(time.perf_counter() - started, 1),
              "machine": machine_module.describe(), "python": platform.python_version(),
              "transform": pipeline.measure("bench.pipeline:stage_transform", label=f"redeliver-{args.label}")}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"redeliver-{datetime.now():%Y-%m-%dT%H%M}-{args.label}.json"
    path.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    t = result["transform"]
    print(f"{sum(counts.values()):,} rows delivered again; transform {t['measured'].get('wall_s')} s "
          f"({json.dumps(t.get('parts'))}); {path}")
    return 0 if t.get("ok") else 1


if __name__ == "__main__":
    raise SystemExit(main())
