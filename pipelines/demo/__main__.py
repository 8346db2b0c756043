"""Write demo bank loan reports into the landing area.

Example: python -m pipelines.demo --landing landing --months 2020-01:2020-12 --banks 4 --loans 300
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from pipelines.demo.bank_loans import BANKS, generate_bank_loans, inject_defects


def parse_months(spec: str) -> list[str]:
    """``2020-01:2020-12`` (inclusive range) or ``2020-01,2020-06`` (list) -> ['2020-01', ...]."""
    parts = [m.strip() for m in spec.replace(":", ",").split(",") if m.strip()]
    for month in parts:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise argparse.ArgumentTypeError(f"not a YYYY-MM month: {month!r}")
    if ":" not in spec:
        return parts
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"a range is FIRST:LAST, got {spec!r}")
    start, end = (int(m[:4]) * 12 + int(m[5:]) - 1 for m in parts)
    if end < start:
        raise argparse.ArgumentTypeError(f"empty month range: {spec}")
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(start, end + 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, help="landing directory (default: the settings' landing)")
    parser.add_argument(
        "--months",
        type=parse_months,
        default=parse_months("2020-01:2020-12"),
        help="YYYY-MM:YYYY-MM or a comma-separated list (default 2020-01:2020-12)",
    )
    parser.add_argument("--banks", type=int, default=4, help=f"number of banks, 1-{len(BANKS)}")
    parser.add_argument("--loans", type=int, default=300, help="loans per bank in the first month")
    parser.add_argument("--seed", type=int, default=20201231)
    parser.add_argument(
        "--defect-rate", type=float, default=0.0, help="fraction of rows given one defect each (for tests)"
    )
    args = parser.parse_args(argv)

    landing = args.landing
    if landing is None:
        from pipelines import settings  # only when needed: the generator itself has no settings

        landing = settings.load().landing
    total_rows = total_bytes = 0

    def report(path: Path, rows: int) -> None:
        nonlocal total_rows, total_bytes
        size = path.stat().st_size
        total_rows, total_bytes = total_rows + rows, total_bytes + size
        print(f"{path}  {rows:>9,} rows  {size:>12,} bytes")

    started = time.perf_counter()
    paths = generate_bank_loans(landing, args.months, args.banks, args.loans, args.seed, on_file=report)
    defects = sum(inject_defects(p, args.defect_rate, args.seed) for p in paths) if args.defect_rate else 0
    elapsed = time.perf_counter() - started
    print(f"{len(paths)} files, {total_rows:,} rows, {total_bytes:,} bytes in {elapsed:.1f} s"
          + (f"; {defects:,} rows made defective" if defects else ""))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
