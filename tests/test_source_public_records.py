"""Public records (environmental penalties, tax credit ratings, dishonest debtors, green behaviours): the demo
generator's determinism and realism, and the four contracts' ingestion of its files, clean and with defects."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from pipelines.contracts.model import parse
from pipelines.demo import codes, world
from pipelines.demo import public_records as pr
from pipelines.settings import PROJECT_ROOT

SCALE = 0.005
SEED = 11
MONTHS = ["2020-04", "2020-05"]  # April 2020 brings the 2019 tax credit ratings
CONTRACTS = {name: parse(PROJECT_ROOT / "data_contracts" / f"{name}.odcs.yaml") for name in pr.DATASETS}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_xlsx(path: Path) -> list[dict[str, object]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(book[pr.RATING_SHEET].iter_rows(values_only=True))
    finally:
        book.close()
    assert rows[0][0].startswith("湖州市") and rows[0][0].endswith("年度纳税信用评价结果")
    assert tuple(rows[1]) == pr.RATING_HEADER
    return [dict(zip(rows[1], r, strict=True)) for r in rows[2:]]


def files_of(paths: list[Path], dataset: str) -> list[Path]:
    return [p for p in paths if dataset in p.parts]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, list[Path]]:
    landing = tmp_path_factory.mktemp("public_records") / "landing"
    return landing, pr.generate(landing, scale=SCALE, seed=SEED, months=MONTHS)


# --- the generator -------------------------------------------------------------------------------------------
def test_files_and_layout(generated):
    landing, paths = generated
    names = sorted(str(p.relative_to(landing)) for p in paths)
    assert names == sorted([
        *(f"public_environmental_penalties/{m}/environmental_penalties_{m}.csv" for m in MONTHS),
        "public_tax_credit_ratings/2019/tax_credit_ratings_2019.xlsx",
        "public_dishonest_debtors/dishonest_debtors.csv",
        *(f"public_green_behaviours/{m}/{p.code.lower()}_{m}.csv" for m in MONTHS for p in pr.PLATFORMS),
    ])
    assert not list(landing.rglob("*.tmp"))


def test_same_seed_same_bytes_other_seed_other_data(generated, tmp_path):
    landing, paths = generated
    again = pr.generate(tmp_path / "again", scale=SCALE, seed=SEED, months=MONTHS)
    assert [p.relative_to(tmp_path / "again") for p in again] == [p.relative_to(landing) for p in paths]
    for first, second in zip(paths, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
    other = pr.generate(tmp_path / "other", scale=SCALE, seed=SEED + 1, months=MONTHS)
    assert any(a.read_bytes() != b.read_bytes() for a, b in zip(paths, other, strict=True))


def test_a_month_does_not_depend_on_the_other_months(generated, tmp_path):
    landing, _ = generated
    alone = pr.generate(tmp_path, scale=SCALE, seed=SEED, months=["2020-05"])
    for path in alone:
        relative = path.relative_to(tmp_path)
        if "2020-05" in relative.parts:
            assert path.read_bytes() == (landing / relative).read_bytes(), relative


def test_enterprise_records_name_firms_of_the_demo_world(generated):
    _, paths = generated
    firms = {e.uscc: e for e in world.enterprises(SCALE, SEED)}
    seen = 0
    for path in files_of(paths, pr.PENALTIES) + files_of(paths, pr.DEBTORS):
        for row in read_csv(path):
            code = row["统一社会信用代码"]
            if code:
                assert codes.uscc_is_valid(code) and code in firms, code
                assert row.get("行政相对人名称", row.get("被执行人姓名/名称")) == firms[code].name
                seen += 1
    for row in read_xlsx(files_of(paths, pr.RATINGS)[0]):
        firm = firms[row["纳税人识别号"]]
        assert codes.uscc_is_valid(firm.uscc) and row["纳税人名称"] == firm.name
        assert row["主管税务机关"] == pr.TAX_AUTHORITIES[firm.district_code]
        seen += 1
    assert seen > 100


# --- realism ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [0.05, 0.2])
def test_penalties_calibrated_to_the_yearly_count_and_heavier_industries(scale):
    rows = [r for month in pr.penalties_of_year(scale, SEED, 2020).values() for r in month]
    assert len(rows) == world.count(pr.PENALTIES_PER_YEAR[2020], scale)  # the stated assumption, exactly
    header = {name: i for i, name in enumerate(pr.PENALTY_HEADER)}
    firms = {e.uscc: e for e in world.enterprises(scale, SEED)}
    numbers = [r[header["行政处罚决定书文号"]] for r in rows]
    assert len(set(numbers)) == len(numbers)
    for row in rows:
        kind, basis, day = row[header["违法行为类型"]], row[header["处罚依据"]], dt.date.fromisoformat(row[7])
        assert kind in pr.VIOLATIONS
        laws = [law for since, *law in pr.VIOLATIONS[kind][1] if since <= day]
        assert basis == laws[-1][0]  # the article in force on the decision day
        cents = int(row[header["罚款金额(元)"]].replace(".", ""))
        assert cents % 100_000 == 0 and cents > 0  # round thousands of yuan
        assert laws[-1][1] * 100 <= cents <= laws[-1][2] * 100, (kind, cents)  # the statutory range
        disclosed = dt.date.fromisoformat(row[header["公示日期"]])
        assert 1 <= (disclosed - day).days <= 20 and day.weekday() < 5  # 7 working days
        office = row[header["处罚机关"]]
        assert office == pr.CITY_BUREAU or office == pr.AUTHORITIES[firms[row[2]].district_code][0]
    if scale >= 0.2:  # heavily polluting divisions are penalised several times as often per firm
        heavy = {u for u, e in firms.items()
                 if e.industry_code[0] == "C" and e.industry_code[1:3] in pr.HEAVY_DIVISIONS}
        services = {u for u, e in firms.items() if e.industry_code[0] in "FHIKLMOPQR"}
        rate = {name: sum(r[2] in group for r in rows) / len(group) for name, group in
                (("heavy", heavy), ("services", services))}
        assert rate["heavy"] > 5 * rate["services"], rate


def test_tax_ratings_distribution_and_scores():
    scale = 0.1
    rows = pr._ratings_of_year(scale, SEED, 2020)
    firms = {e.uscc: e for e in world.enterprises(scale, SEED)}
    old = [r for r in rows if firms[r[1]].established < dt.date(2020, 1, 1)]
    levels = Counter(r[3] for r in old)
    for level, share in pr.RATING_SHARES.items():
        assert levels[level] / len(old) == pytest.approx(share, abs=0.01), (level, levels)
    assert levels["D"] / len(old) < 0.05  # D is rare
    assert all(r[3] == "M" for r in rows if firms[r[1]].established >= dt.date(2020, 1, 1))
    published = pr.rating_publish_date(2020, SEED)
    assert published.month == 4 and published.year == 2021 and published.weekday() < 5
    for _, code, _, level, score, _, day in rows:
        assert day == published and firms[code].active_on(published)
        if score is None:
            assert level == "D"
        else:
            low, high = pr.RATING_SCORES[level]
            assert low / 10 <= score <= high / 10
    # the compliance shared across datasets: A-rated firms are rarely dishonest debtors
    debtors = {row[3] for row in pr.debtor_rows(scale, SEED, dt.date(2020, 12, 31)) if row[3]}
    a_rated = {r[1] for r in rows if r[3] == "A"}
    assert len(debtors & a_rated) <= 0.02 * len(debtors)


def test_ratings_are_published_in_april_of_the_next_year():
    assert pr.rating_years(["2020-03"], SEED) == []
    assert pr.rating_years(["2020-01", "2020-12", "2021-05"], SEED) == [2019, 2020]
    assert pr.rating_years(["2014-06"], SEED) == []  # the first evaluation year is 2014


def test_dishonest_debtor_list_snapshot():
    scale = 0.02
    as_of = dt.date(2022, 6, 30)
    rows = [dict(zip(pr.DEBTOR_HEADER, r, strict=True)) for r in pr.debtor_rows(scale, SEED, as_of)]
    kinds = Counter(r["被执行人类型"] for r in rows)
    assert kinds[pr.PERSON] > kinds[pr.FIRM] > 0
    assert len({(r["案号"], r["被执行人姓名/名称"]) for r in rows}) == len(rows)
    pattern = re.compile(r"\((\d{4})\)浙(05\d*)执恢?\d+号")
    for r in rows:
        match = pattern.fullmatch(r["案号"])
        assert match and match.group(2) == pr.COURTS[r["执行法院"]], r["案号"]
        assert match.group(1) == r["立案日期"][:4]
        assert r["立案日期"] <= r["发布日期"] <= as_of.isoformat() and r["发布日期"] >= "2013-10-01"
        assert not r["移除日期"] or r["发布日期"] <= r["移除日期"] <= as_of.isoformat()
        if r["被执行人的履行情况"] == "已全部履行":
            assert r["移除日期"]
        if r["被执行人类型"] == pr.PERSON:
            assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", r["身份证号码"]) and r["身份证号码"][:6] in codes.DISTRICTS
            assert not r["统一社会信用代码"] and 2 <= len(r["被执行人姓名/名称"]) <= 3
        else:
            assert codes.uscc_is_valid(r["统一社会信用代码"]) and not r["身份证号码"]
    removed = sum(bool(r["移除日期"]) for r in rows) / len(rows)
    assert 0.3 < removed < 0.8
    # a later snapshot keeps every entry, with what happened since
    later = {(r[0], r[1]): r for r in pr.debtor_rows(scale, SEED, dt.date(2023, 6, 30))}
    assert all((r["案号"], r["被执行人姓名/名称"]) in later for r in rows)


def test_green_behaviours_calibrated_to_200k_records_a_month_in_2020():
    scale = 0.005
    total = 0
    for month in range(1, 13):
        by_platform = pr._behaviour_rows(scale, SEED, 2020, month)
        total += sum(len(rows) for rows in by_platform.values())
    target = pr.RECORDS_PER_MONTH_2020 * scale
    assert total / 12 == pytest.approx(target, rel=0.01)


def test_green_behaviour_records(generated):
    _, paths = generated
    factors = {b.kind: b for b in pr.BEHAVIOUR_KINDS}
    people = set()
    for path in files_of(paths, pr.BEHAVIOURS):
        rows = read_csv(path)
        month = path.parent.name
        assert len({r["记录编号"] for r in rows}) == len(rows)
        walked = Counter((r["用户标识"], r["行为日期"]) for r in rows if r["行为类型"] == "步行")
        assert not walked or max(walked.values()) == 1
        for r in rows:
            b = factors[r["行为类型"]]
            assert r["统计月份"] == month and r["行为日期"][:7] == month
            assert re.fullmatch(r"[0-9a-f]{32}", r["用户标识"]) and r["区县代码"] in codes.DISTRICTS
            assert r["计量单位"] == b.unit and r["来源平台"] == b.platform.name
            quanta = int(r["数量"].replace(".", ""))
            grams = int(r["减排量(千克)"].replace(".", ""))
            assert b.low <= quanta <= b.high
            assert any(grams == round(quanta * g) for g, _ in b.grams_per_quantum), r
            people.add(r["用户标识"])
    assert people <= set(pr._users(SCALE, SEED).ids)
    assert pr.pseudonym(SEED, 0) == pr._users(SCALE, SEED).ids[0] != pr.pseudonym(SEED + 1, 0)


# --- ingestion ----------------------------------------------------------------------------------------------
def partition_key(dataset: str, path: Path) -> str | None:
    return None if dataset == pr.DEBTORS else path.parent.name


def rows_in(path: Path) -> int:
    return len(read_xlsx(path)) if path.suffix == ".xlsx" else len(read_csv(path))


def test_every_generated_file_loads_clean(generated, lake):
    from pipelines.ingest.load import load_partition
    from pipelines.lake.connection import reader

    landing, paths = generated
    shutil.copytree(landing, lake.landing, dirs_exist_ok=True)
    for dataset in pr.DATASETS:
        contract = CONTRACTS[dataset]
        files = files_of(paths, dataset)
        for key in sorted({partition_key(dataset, p) for p in files}, key=str):
            result = load_partition(contract, key, lake, log=lambda *_: None)
            delivered = sum(rows_in(p) for p in files if partition_key(dataset, p) == key)
            assert not result.rejected, [f.rejected for f in result.rejected]
            assert result.rows_read == delivered == result.rows_loaded + result.rows_quarantined
            assert result.rows_quarantined == 0 and result.rows_warned == 0, (dataset, key)
    with reader(lake) as con:
        for dataset in pr.DATASETS:
            table = CONTRACTS[dataset].raw_table
            loaded = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert loaded == sum(rows_in(p) for p in files_of(paths, dataset)), table
        # decimals arrive exactly: the lake's total equals the files' total in integer grams
        grams = sum(int(r["减排量(千克)"].replace(".", ""))
                    for p in files_of(paths, pr.BEHAVIOURS) for r in read_csv(p))
        total = con.execute("SELECT sum(carbon_reduction_kg) FROM raw.public__green_behaviours").fetchone()[0]
        assert total * 1000 == grams


# Bigger scales where a month at SCALE has too few rows to carry every kind of defect.
DEFECT_CASES = [(pr.PENALTIES, 1.0, "2020-05"), (pr.RATINGS, 0.01, "2019"), (pr.DEBTORS, SCALE, None),
                (pr.BEHAVIOURS, SCALE, "2020-05")]


@pytest.mark.parametrize(("dataset", "scale", "key"), DEFECT_CASES, ids=[c[0] for c in DEFECT_CASES])
def test_injected_defects_are_quarantined_under_their_rule(lake, dataset, scale, key):
    from pipelines.ingest.load import load_partition
    from pipelines.lake.connection import reader

    maker = {pr.PENALTIES: pr.generate_penalties, pr.RATINGS: pr.generate_ratings, pr.DEBTORS: pr.generate_debtors,
             pr.BEHAVIOURS: pr.generate_behaviours}[dataset]
    paths = maker(lake.landing, scale=scale, seed=SEED, months=["2020-05"])
    if dataset == pr.BEHAVIOURS:  # one platform's file is enough
        for extra in paths[1:]:
            extra.unlink()
        paths = paths[:1]
    injected = sum(pr.inject_defects(p, 0.2, seed=3) for p in paths)
    assert injected >= len(pr.DEFECTS[dataset])
    result = load_partition(CONTRACTS[dataset], key, lake, log=lambda *_: None)
    assert not result.rejected
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    assert result.rows_quarantined == injected
    table = CONTRACTS[dataset].quarantine_table
    with reader(lake) as con:
        found = con.execute(f"SELECT source_row, column_name, rule FROM {table} WHERE severity = 'error'").fetchall()
    by_row: dict[int, set[tuple[str | None, str]]] = {}
    for row, column, rule in found:
        by_row.setdefault(row, set()).add((column, rule))
    assert len(by_row) == injected
    expected = set(pr.DEFECTS[dataset].values())
    assert all(rules & expected for rules in by_row.values()), by_row
    assert expected <= set().union(*by_row.values())
