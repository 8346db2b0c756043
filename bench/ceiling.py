"""The ceiling: DuckDB alone on one month's loan files, nothing else.

Transcode the banks' GB18030 CSV files to UTF-8 (Python's codec, streamed: DuckDB 1.5.5's read_csv with
encoding='gb18030' corrupts characters that straddle its buffer edges), convert them to Parquet in one COPY, then
compute the green-loan balance mart (fct_green_loan_balance_monthly: per report month, district and bank, the
loan count, green loan count, total and green balance and green share) in a single query over the Parquet.
No contract validation, no quarantine, no lineage columns, no catalog, no transactions: what the hardware can do.
"""

from __future__ import annotations

import codecs
import time
from pathlib import Path

MART = """
select
    "报告期" as report_month, "区县代码" as district_code, "金融机构代码" as bank_code,
    max("金融机构名称") as bank_name,
    count(*) as loan_count,
    count(*) filter (where "是否绿色贷款" = '是') as green_loan_count,
    cast(sum(cast("贷款余额(元)" as decimal(18, 2))) as decimal(20, 2)) as total_loan_balance_yuan,
    cast(coalesce(sum(cast("贷款余额(元)" as decimal(18, 2))) filter (where "是否绿色贷款" = '是'), 0)
         as decimal(20, 2)) as green_loan_balance_yuan,
    cast(round(green_loan_balance_yuan / nullif(total_loan_balance_yuan, 0), 6) as decimal(9, 6)) as green_share
from read_parquet('{parquet}')
group by all
"""


def transcode(source: Path, target: Path, chunk: int = 1 << 22) -> None:
    decoder = codecs.getincrementaldecoder("gb18030")()
    with source.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while block := src.read(chunk):
            dst.write(decoder.decode(block))
        dst.write(decoder.decode(b"", final=True))


def run(files: list[str], workdir: str, threads: int | None = None) -> dict:
    import duckdb

    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    utf8 = []
    for i, name in enumerate(files):
        target = work / f"{i:05d}.csv"
        transcode(Path(name), target)
        utf8.append(str(target))
    transcoded = time.perf_counter()
    parquet = work / "loans.parquet"
    con = duckdb.connect()
    if threads:
        con.execute(f"set threads = {int(threads)}")
    # every column as delivered, as text: the conversion, not a typed staging layer
    con.execute(f"copy (select * from read_csv({utf8!r}, header = true, all_varchar = true)) to '{parquet}' "
                "(format parquet)")
    converted = time.perf_counter()
    rows = con.execute(f"select count(*) from read_parquet('{parquet}')").fetchone()[0]
    counted = time.perf_counter()
    mart = con.execute(MART.format(parquet=parquet)).fetchall()
    done = time.perf_counter()
    for p in utf8:
        Path(p).unlink()
    return {"rows": rows, "files": len(files), "mart_rows": len(mart),
            "transcode_s": transcoded - started, "to_parquet_s": converted - transcoded, "mart_s": done - counted,
            "seconds": (done - started) - (counted - converted),
            "mart_sample": [[str(v) for v in row] for row in sorted(mart)[:3]]}
