"""Write demo source data into the landing area.

Examples:
  python -m pipelines.demo --scale 0.01                       # every family, 2019-01..2025-12
  python -m pipelines.demo --families bank_loans --months 2020-12 --scale 1   # one city-scale month of loans
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipelines.demo.sources import FAMILIES, HISTORY, family, generate_all, parse_months
from pipelines.demo.world import DEFAULT_SEED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.demo", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--landing", type=Path, help="landing directory (default: the settings' landing)")
    parser.add_argument("--months", type=parse_months, default=":".join(HISTORY),
                        help="YYYY-MM:YYYY-MM or a comma-separated list (default %(default)s)")
    parser.add_argument("--scale", type=float, default=0.01, help="1 = the whole city (default %(default)s)")
    parser.add_argument("--families", type=lambda s: s.split(","), default=list(FAMILIES),
                        help=f"comma-separated, from: {', '.join(FAMILIES)} (default: all)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--defect-rate", type=float, default=0.0,
                        help="fraction of rows given one defect each (for tests)")
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
    defects = 0
    for name in args.families:
        paths = generate_all(landing, scale=args.scale, seed=args.seed, months=args.months, families=[name],
                             on_file=report)
        if args.defect_rate:
            defects += sum(family(name).inject_defects(p, args.defect_rate, args.seed) for p in paths)
    elapsed = time.perf_counter() - started
    print(f"{total_rows:,} rows, {total_bytes:,} bytes in {elapsed:.1f} s"
          + (f"; {defects:,} rows made defective" if defects else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
