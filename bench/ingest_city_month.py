"""Benchmark: one month of city-scale loan data (about 1.2 million rows) read, validated and committed.

Target (issue 3): at most 20 s on 2 cores. Each measurement runs in its own process so that its peak
memory is its own; the baseline (only decoding and parsing the same files, no validation, no commit) runs
in the same invocation, so the ratio load ÷ parse compares like with like on whatever machine this is.

    make bench                      # generates the month once into bench/.data (about 2 minutes), then measures
    python bench/ingest_city_month.py --landing DIR --month 2020-12
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "results.md"
TARGET_S = 20.0


def _parse_only(landing: str, month: str, queue) -> None:
    from pipelines.contracts.model import all_contracts
    from pipelines.ingest.load import partition_files
    from pipelines.ingest.readers import read_delivered

    contract = all_contracts()["bank_loans"]
    started = time.perf_counter()
    rows = sum(read_delivered(p, contract).num_rows for p in partition_files(contract, Path(landing), month))
    queue.put({"rows": rows, "seconds": time.perf_counter() - started,
               "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _load(landing: str, month: str, queue) -> None:
    from pipelines import settings as settings_module
    from pipelines.contracts.model import all_contracts
    from pipelines.ingest.load import load_partition
    from pipelines.lake import meta

    with tempfile.TemporaryDirectory(prefix="lakehouse-bench-") as root:
        os.environ.update(LAKEHOUSE_ROOT=root, LAKEHOUSE_LANDING=landing)
        settings = settings_module.load()
        meta.bootstrap(settings)
        contract = all_contracts()["bank_loans"]
        started = time.perf_counter()
        result = load_partition(contract, month, settings, log=lambda _: None)
        seconds = time.perf_counter() - started
    queue.put({"rows": result.rows_read, "loaded": result.rows_loaded, "quarantined": result.rows_quarantined,
               "files": len(result.files), "seconds": seconds,
               "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def measure(target, landing: Path, month: str) -> dict:
    queue = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(target=target, args=(str(landing), month, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GiB, {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}"


def ensure_data(month: str) -> Path:
    from pipelines.demo.sources import family

    landing = DATA / "landing"
    if not any((landing / "bank_loans" / month).glob("*.csv")):
        print(f"generating one city-scale month ({month}) of loan reports into {landing} …", flush=True)
        started = time.perf_counter()
        family("bank_loans").generate(landing, scale=1.0, seed=20201231, months=[month])
        print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return landing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, help="a landing directory holding bank_loans/MONTH/*.csv")
    parser.add_argument("--month", default="2020-12")
    parser.add_argument("--no-record", action="store_true", help=f"do not append the result to {RESULTS.name}")
    args = parser.parse_args(argv)
    landing = args.landing or ensure_data(args.month)

    parse = measure(_parse_only, landing, args.month)
    load = measure(_load, landing, args.month)
    size_mb = sum(p.stat().st_size for p in (landing / "bank_loans" / args.month).glob("*.csv")) / 2**20
    report = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(), "month": args.month,
        "files": load["files"], "rows": load["rows"], "mb": round(size_mb), "load_s": round(load["seconds"], 1),
        "rows_per_s": round(load["rows"] / load["seconds"]), "load_peak_mb": round(load["peak_mb"]),
        "parse_s": round(parse["seconds"], 1), "load_over_parse": round(load["seconds"] / parse["seconds"], 2),
        "target_s": TARGET_S, "within_target": load["seconds"] <= TARGET_S,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if not args.no_record:
        if not RESULTS.exists():
            RESULTS.write_text("# Benchmark results\n\nAppended by `make bench` (bench/ingest_city_month.py); "
                               "each line is one run on the machine it names.\n\n"
                               "| when | machine | rows | MB | load s | rows/s | peak MB | parse-only s | "
                               "load ÷ parse | ≤ 20 s |\n|---|---|---|---|---|---|---|---|---|---|\n")
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write(f"| {report['when']} | {report['machine']} | {report['rows']:,} | {report['mb']} | "
                    f"{report['load_s']} | {report['rows_per_s']:,} | {report['load_peak_mb']:,} | "
                    f"{report['parse_s']} | {report['load_over_parse']} | "
                    f"{'yes' if report['within_target'] else 'NO'} |\n")
    return 0 if report["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
