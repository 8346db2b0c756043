"""The demo bank-loan generator: identifiers, determinism, file format and the contract's row rules."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import random
import re
import time
from collections import defaultdict
from pathlib import Path

import pytest

from pipelines.demo import codes
from pipelines.demo.bank_loans import BANKS, HEADER, generate_bank_loans, inject_defects

MONTHS = [f"2020-{m:02d}" for m in range(1, 13)]
LATER_MONTHS = ["2021-06", "2021-07", "2021-12", "2022-12", "2023-12"]  # taxonomy switch, facility launch
NPL = ("次级", "可疑", "损失")


def read_report(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("gb18030")  # strict: fails on anything GB18030 cannot decode
    header, *rows = list(csv.reader(text.splitlines()))
    assert tuple(header) == HEADER
    return [dict(zip(header, row, strict=True)) for row in rows]


def _date(value: str) -> dt.date:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), value
    return dt.date.fromisoformat(value)


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, 1)


def row_violations(row: dict[str, str], month: str, seen_ids: set[str]) -> list[str]:
    """Every rule of data_contracts/bank_loans.odcs.yaml (and the generator's own promises) a row breaks."""
    bad = []

    def check(name: str, ok: bool) -> None:
        if not ok:
            bad.append(name)

    check("report_month", row["报告期"] == month)
    check("bank_code", re.fullmatch(r"[A-Z][0-9]{4}[0-9]{6}[0-9]{3}", row["金融机构代码"]) is not None)
    check("bank_name", row["金融机构名称"] != "")
    loan_id = row["贷款编号"]
    check("loan_id", re.fullmatch(r"[0-9A-Z]{6,32}", loan_id) is not None)
    check("loan_id_unique", loan_id not in seen_ids)
    seen_ids.add(loan_id)

    kind, borrower = row["借款人类型"], row["借款人证件号码"]
    industry, district = row["行业代码"], row["区县代码"]
    check("borrower_type", kind in ("企业", "个体工商户", "个人", "农户"))
    check("district", district in codes.DISTRICTS)
    if kind in ("企业", "个体工商户"):
        check("uscc_valid", codes.uscc_is_valid(borrower))
        check("uscc_prefix", borrower[:2] == ("91" if kind == "企业" else "92"))
        check("uscc_district", borrower[2:8] == district)
        check("enterprise_has_industry", industry != "")
    else:
        check("id_masked", re.fullmatch(r"[0-9]{6}[*]{8}[0-9]{3}[0-9X]", borrower) is not None)
        check("id_district", borrower[:6] == district)
    if industry:
        check("industry", re.fullmatch(r"[A-T][0-9]{4}", industry) is not None)
        check("industry_known", industry[1:] in codes.industry_classes().get(industry[0], ()))
    if kind == "农户":
        check("farmer_industry", industry.startswith("A"))
    check("product", row["贷款产品"] != "")
    check("guarantee", row["担保方式"] in ("信用", "保证", "抵押", "质押"))

    month_end = _add_months(dt.date.fromisoformat(month + "-01"), 1) - dt.timedelta(days=1)
    try:
        orig, maturity = _date(row["放款日期"]), _date(row["到期日期"])
    except (AssertionError, ValueError):
        return [*bad, "date"]
    check("originated_by_report_month", orig <= month_end)
    check("maturity_after_origination", maturity >= orig)
    check("term_1_to_30_years", 365 <= (maturity - orig).days <= 30 * 366)
    check("date_range", dt.date(1990, 1, 1) <= orig <= dt.date(2035, 12, 31))
    check("date_range", maturity <= dt.date(2080, 12, 31))

    check("rate_format", re.fullmatch(r"\d+\.\d{4}", row["执行利率(%)"]) is not None)
    check("rate_range", 0 <= float(row["执行利率(%)"]) <= 36)
    balance = row["贷款余额(元)"]
    check("balance_format", re.fullmatch(r"\d+\.\d{2}", balance) is not None)
    check("balance_positive", float(balance) > 0)

    category, days = row["五级分类"], row["逾期天数"]
    check("five_category", category in ("正常", "关注", *NPL))
    check("days_format", re.fullmatch(r"\d+", days) is not None and int(days) <= 20000)
    overdue = int(days) if days.isdigit() else 0
    if overdue > 360:
        check("overdue_classification", category == "损失")
    elif overdue > 270:
        check("overdue_classification", category in ("可疑", "损失"))
    elif overdue > 90:
        check("overdue_classification", category in NPL)
    elif overdue > 0:
        check("overdue_classification", category != "正常")

    for flag in ("是否首贷", "是否无还本续贷", "是否绿色贷款", "是否碳减排支持工具"):
        check("boolean", row[flag] in ("是", "否"))
    green = row["是否绿色贷款"] == "是"
    green_columns = ("绿色贷款用途分类", "绿色分类标准版本", "项目总投资(元)", "项目年碳减排量(吨)")
    if green:
        category_code = row["绿色贷款用途分类"]
        check("green_category", re.fullmatch(r"[1-6](\.[0-9]{1,2}){0,2}", category_code) is not None)
        check("taxonomy_version", row["绿色分类标准版本"] == "GICG2019")  # the green-loan statistics' basis
        investment, co2e = row["项目总投资(元)"], row["项目年碳减排量(吨)"]
        check("investment", re.fullmatch(r"\d+\.\d{2}", investment) is not None)
        check("investment_covers_loan", float(investment) >= float(balance))
        check("co2e", re.fullmatch(r"\d+(\.\d{1,4})?", co2e) is not None and float(co2e) > 0)
    else:
        check("non_green_empty", all(row[c] == "" for c in green_columns))
    if row["是否碳减排支持工具"] == "是":
        check("facility_loans_are_green", green)
        check("facility_category", row["绿色贷款用途分类"][:1] in ("1", "3"))
        check("facility_date", orig >= dt.date(2021, 11, 1))
    return bad


@pytest.fixture(scope="module")
def year_2020(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], float]:
    started = time.perf_counter()
    paths = generate_bank_loans(tmp_path_factory.mktemp("landing"), MONTHS)
    return paths, time.perf_counter() - started


@pytest.fixture(scope="module")
def later_years(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate_bank_loans(tmp_path_factory.mktemp("later"), LATER_MONTHS, loans_per_bank=500, seed=7)


# --- identifiers ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "code",
    [
        "91110000600037341L",  # python-stdnum / stdnum-js test vector
        "91110108551385082Q",  # 小米科技有限责任公司, the uscc-utils README example
    ],
)
def test_published_uscc_codes_validate(code: str) -> None:
    assert codes.uscc_is_valid(code)
    assert codes.uscc_check_char(code[:17]) == code[17]


def test_uscc_rejects_malformed() -> None:
    assert not codes.uscc_is_valid("91110000600037342L")  # stdnum-js: invalid checksum
    assert not codes.uscc_is_valid("9111000060003734")
    assert not codes.uscc_is_valid("91110000600037341I")  # I is not in the alphabet


def test_generated_uscc_valid_and_any_single_change_invalidates() -> None:
    rng = random.Random(1)
    for district in codes.DISTRICTS:
        for prefix in (codes.USCC_ENTERPRISE, codes.USCC_INDIVIDUAL_BUSINESS):
            code = codes.make_uscc(rng, district, prefix)
            assert re.fullmatch(r"9[12]\d{6}[0-9A-HJ-NP-RTUWXY]{10}", code)
            assert code[:8] == prefix + district
            assert codes.uscc_is_valid(code)
            for pos in range(18):
                for ch in codes.USCC_ALPHABET.replace(code[pos], ""):
                    assert not codes.uscc_is_valid(code[:pos] + ch + code[pos + 1 :]), (code, pos, ch)


def test_resident_id_check_char_on_published_numbers() -> None:
    for number in ("360426199101010071", "120103198806018241"):  # stdnum-js cn/ric test vectors
        assert codes.resident_id_check_char(number[:17]) == number[17]
    assert codes.resident_id_check_char("36042619910101007") != "2"


def test_masked_person_id_format() -> None:
    rng = random.Random(2)
    ids = [codes.masked_person_id(rng, district) for district in codes.DISTRICTS for _ in range(200)]
    assert all(re.fullmatch(r"[0-9]{6}[*]{8}[0-9]{3}[0-9X]", i) for i in ids)
    assert {i[:6] for i in ids} == set(codes.DISTRICTS)
    assert any(i.endswith("X") for i in ids)  # check characters are genuine, so X occurs (~1 in 11)


def test_industry_classes_and_green_catalogue() -> None:
    classes = codes.industry_classes()
    assert sum(len(v) for v in classes.values()) == 1380  # GB/T 4754-2017 before its 2019 amendment
    assert set(classes) == set("ABCDEFGHIJKLMNOPQRST")
    assert "4411" in classes["D"] and "3011" in classes["C"]
    for code, (_, industries) in codes.GREEN_CATEGORIES.items():
        assert re.fullmatch(r"[1-6](\.[0-9]{1,2}){0,2}", code)
        assert all(i[1:] in classes[i[0]] for i in industries), code
    rng = random.Random(3)
    picked = [codes.pick_industry(rng, codes.ENTERPRISE_SECTIONS) for _ in range(99)]
    assert all(re.fullmatch(r"[A-T]\d{4}", code) for code in picked)


# --- files ------------------------------------------------------------------------------------------------
def test_layout_and_speed(year_2020: tuple[list[Path], float]) -> None:
    paths, elapsed = year_2020
    assert len(paths) == 4 * 12
    assert {p.parent.name for p in paths} == set(MONTHS)
    assert {p.stem for p in paths} == {b.code for b in BANKS[:4]}
    assert all(p.parent.parent.name == "bank_loans" for p in paths)
    assert elapsed < 20  # about 0.3 s here; generous for a loaded CI machine, still catches a quadratic loop


def test_deterministic(tmp_path: Path, year_2020: tuple[list[Path], float]) -> None:
    first, _ = year_2020
    again = generate_bank_loans(tmp_path / "again", MONTHS)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in first]
    other = generate_bank_loans(tmp_path / "other", MONTHS[:1], seed=1)
    assert other[0].read_bytes() != first[0].read_bytes()


def test_bank_data_independent_of_bank_count(tmp_path: Path, year_2020: tuple[list[Path], float]) -> None:
    two = generate_bank_loans(tmp_path, MONTHS[:2], n_banks=2)
    by_name = {(p.parent.name, p.name): p for p in year_2020[0]}
    assert all(p.read_bytes() == by_name[(p.parent.name, p.name)].read_bytes() for p in two)


def test_gb18030_with_chinese_header(year_2020: tuple[list[Path], float]) -> None:
    raw = year_2020[0][0].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really GB18030, not UTF-8
    first_line = raw.decode("gb18030").splitlines()[0]
    assert first_line == ",".join(HEADER)
    assert first_line.startswith("报告期,金融机构代码,金融机构名称,贷款编号")


@pytest.mark.parametrize("dataset", ["year_2020", "later_years"])
def test_every_row_passes_every_rule(dataset: str, request: pytest.FixtureRequest) -> None:
    paths = request.getfixturevalue(dataset)
    paths = paths[0] if isinstance(paths, tuple) else paths
    failures: dict[str, int] = defaultdict(int)
    rows = 0
    for path in paths:
        seen: set[str] = set()
        for row in read_report(path):
            rows += 1
            assert row["金融机构代码"] == path.stem
            for rule in row_violations(row, path.parent.name, seen):
                failures[rule] += 1
    assert rows > 0
    assert dict(failures) == {}


def _shares(paths: list[Path]) -> dict[str, dict[str, float]]:
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for path in paths:
        s = sums[path.parent.name]
        for row in read_report(path):
            balance = float(row["贷款余额(元)"])
            s["total"] += balance
            s["green"] += balance if row["是否绿色贷款"] == "是" else 0
            s["npl"] += balance if row["五级分类"] in NPL else 0
            s["credit"] += balance if row["担保方式"] == "信用" else 0
            s["enterprise_credit"] += balance if row["担保方式"] == "信用" and row["借款人类型"] == "企业" else 0
            s[row["借款人类型"]] += balance
    return {m: {k: v / s["total"] for k, v in s.items()} for m, s in sums.items()}


def test_portfolio_proportions(year_2020: tuple[list[Path], float]) -> None:
    shares = _shares(year_2020[0])
    for month, s in shares.items():
        assert 0.12 <= s["green"] <= 0.25, (month, s["green"])
        assert 0.45 <= s["企业"] <= 0.75, (month, s["企业"])  # about 58% in a Zhejiang prefecture city
        assert 0.05 <= s["credit"] <= 0.20, (month, s["credit"])  # consumer and farm loans are mostly unsecured
        assert 0.01 <= s["enterprise_credit"] <= 0.15, (month, s["enterprise_credit"])  # a few large loans
    npl = sum(s["npl"] for s in shares.values()) / len(shares)
    assert 0.001 <= npl <= 0.02


def test_later_months_keep_the_loan_taxonomy_and_use_the_facility(later_years: list[Path]) -> None:
    rows = [row for p in later_years for row in read_report(p)]
    assert {r["绿色分类标准版本"] for r in rows if r["是否绿色贷款"] == "是"} == {"GICG2019"}
    assert any(r["是否碳减排支持工具"] == "是" for r in rows)


def test_loans_persist_across_months(year_2020: tuple[list[Path], float]) -> None:
    static = [c for c in HEADER if c not in ("报告期", "贷款余额(元)", "五级分类", "逾期天数")]
    by_bank: dict[str, dict[str, dict[str, dict[str, str]]]] = defaultdict(dict)
    for path in year_2020[0]:
        by_bank[path.stem][path.parent.name] = {r["贷款编号"]: r for r in read_report(path)}
    for months in by_bank.values():
        counts = [len(months[m]) for m in MONTHS]
        assert max(counts) <= 1.2 * min(counts)  # roughly stable
        for prev, cur in itertools.pairwise(MONTHS):
            before, after = months[prev], months[cur]
            kept = before.keys() & after.keys()
            assert len(kept) >= 0.8 * len(before)
            assert after.keys() - before.keys()  # new lending
            assert before.keys() - after.keys()  # repaid or written off
            for loan_id in kept:
                a, b = before[loan_id], after[loan_id]
                assert all(a[c] == b[c] for c in static), loan_id
                assert float(b["贷款余额(元)"]) <= float(a["贷款余额(元)"])


def test_inject_defects(tmp_path: Path) -> None:
    path = generate_bank_loans(tmp_path, ["2020-06"], n_banks=1, loans_per_bank=400)[0]
    clean = read_report(path)
    count = inject_defects(path, 0.1, seed=5)
    assert count == round(0.1 * len(clean))
    rows = read_report(path)
    assert len(rows) == len(clean)
    seen: set[str] = set()
    broken = sum(1 for row in rows if row_violations(row, "2020-06", seen))
    assert broken == count


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipelines.demo.__main__ import main
    from pipelines.demo.sources import parse_months

    assert parse_months("2020-11:2021-02") == ["2020-11", "2020-12", "2021-01", "2021-02"]
    assert parse_months("2020-01,2020-06") == ["2020-01", "2020-06"]
    args = ["--landing", str(tmp_path), "--months", "2020-01:2020-02", "--families", "bank_loans", "--scale", "0.001"]
    assert main(args) == 0
    files = sorted((tmp_path / "bank_loans").glob("*/*.csv"))
    assert len(files) == 2 * len(BANKS)
    rows = sum(len(read_report(p)) for p in files)
    assert f"{rows:,} rows" in capsys.readouterr().out
