"""A GB18030 file larger than 32 MB decodes exactly: no character corrupted at a buffer edge.

DuckDB 1.5.5's own gb18030 reader corrupts a character that straddles its buffer boundary; ingestion
decodes with Python's codec through pyarrow instead, and this test holds it to that on a large file.
"""

import random

from pipelines.contracts.model import all_contracts
from pipelines.ingest.readers import read_delivered

CONTRACT = all_contracts()["bank_loans"]
# Two-byte and four-byte GB18030 characters (the latter outside GBK), so that boundaries fall mid-character.
WORDS = ["流动资金贷款", "湖州银行", "绿色建筑", "㐀㐁", "𠀀", "长兴县", "安吉农商银行", "光伏", "€"]


def test_every_value_of_a_34_mb_file_survives(tmp_path):
    rng = random.Random(5)
    header = [c.source_name for c in CONTRACT.columns]
    product = header.index("贷款产品")
    expected, lines = [], [",".join(header)]
    size = 0
    while size < 34 * 1024 * 1024:
        value = "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12)))
        expected.append(value)
        row = ["x"] * len(header)
        row[product] = value
        line = ",".join(row)
        lines.append(line)
        size += len(line.encode("gb18030")) + 1
    path = tmp_path / "big.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    assert path.stat().st_size > 32 * 1024 * 1024

    table = read_delivered(path, CONTRACT)
    assert table.num_rows == len(expected)
    assert table.column("贷款产品").to_pylist() == expected
