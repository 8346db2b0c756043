"""The calibrated bank loan-level reports: the plan's figures, the registry's borrowers, clean loads, defects."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from test_demo_generator import read_report, row_violations

from pipelines.contracts.model import all_contracts
from pipelines.demo import bank_loans, codes, world
from pipelines.demo.bank_loans import BANKS, DEFECTS, generate, inject_defects, plan_targets
from pipelines.ingest.load import load_partition
from pipelines.lake.connection import reader

SEED = world.DEFAULT_SEED
SCALE = 0.005
YEAR_2020 = [f"2020-{m:02d}" for m in range(1, 13)]
CONTRACT = all_contracts()["bank_loans"]
NPL = ("次级", "可疑", "损失")
# The plan's figures for the end of 2020 (亿元, %): Huzhou green finance plan 2021-2025, indicator tables.
PLAN_2020 = {
    "loans_total": 5940.01, "green_loans": 1080.55, "small_micro_loans": 1511.58, "manufacturing_loans": 878.04,
    "medium_long_term_loans": 3304.27, "enterprise_credit_loans": 338.18, "npl_ratio_pct": 0.51,
}  # fmt: skip
AMOUNTS = ("loans_total", "green_loans", "small_micro_loans", "manufacturing_loans", "medium_long_term_loans",
           "enterprise_credit_loans")  # fmt: skip


def _cents(value: str) -> int:
    return int(Decimal(value) * 100)


def _longer_than_a_year(origination: str, maturity: str) -> bool:
    """maturity − origination > 12 months, as the targets file defines medium/long-term."""
    start = dt.date.fromisoformat(origination)
    end = dt.date.fromisoformat(maturity)
    months = (end.year - start.year) * 12 + end.month - start.month
    return months > 12 or (months == 12 and end.day > start.day)


def figures(paths: list[Path], scale: float, seed: int = SEED) -> dict[str, dict[str, float]]:
    """Each month's indicators from the files, per calibration_targets.csv, divided by ``scale``."""
    size = {firm.uscc: firm.size for firm in world.enterprises(scale, seed)}
    sums: dict[str, Counter] = defaultdict(Counter)
    for path in paths:
        s = sums[path.parent.name]
        for row in read_report(path):
            cents = _cents(row["贷款余额(元)"])
            kind, green, bad = row["借款人类型"], row["是否绿色贷款"] == "是", row["五级分类"] in NPL
            s["loans_total"] += cents
            s["green_loans"] += cents * green
            s["npl"] += cents * bad
            s["green_npl"] += cents * (green and bad)
            small = kind == "个体工商户" or (kind == "企业" and size[row["借款人证件号码"]] in ("小型", "微型"))
            s["small_micro_loans"] += cents * small
            s["manufacturing_loans"] += cents * row["行业代码"].startswith("C")
            s["medium_long_term_loans"] += cents * _longer_than_a_year(row["放款日期"], row["到期日期"])
            s["enterprise_credit_loans"] += cents * (kind == "企业" and row["担保方式"] == "信用")
            s["rows"] += 1
    out = {}
    for month, s in sums.items():
        f = {name: s[name] / 1e10 / scale for name in AMOUNTS}  # fen -> 亿元, then per unit of scale
        f["npl_ratio_pct"] = s["npl"] / s["loans_total"] * 100
        f["green_npl_ratio_pct"] = s["green_npl"] / s["green_loans"] * 100
        f["rows"] = s["rows"]
        out[month] = f
    return out


@pytest.fixture(scope="module")
def year_2020(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], float]:
    started = time.perf_counter()
    paths = generate(tmp_path_factory.mktemp("landing"), scale=SCALE, seed=SEED, months=YEAR_2020)
    return paths, time.perf_counter() - started


@pytest.fixture(scope="module")
def year_2020_figures(year_2020: tuple[list[Path], float]) -> dict[str, dict[str, float]]:
    return figures(year_2020[0], SCALE)


# --- the targets --------------------------------------------------------------------------------------
def test_targets_file_holds_the_plans_figures_and_says_where_each_comes_from() -> None:
    path = Path(bank_loans.__file__).parent / bank_loans.TARGETS_FILE
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) == {"indicator", "period", "value_100m_yuan_or_pct", "definition", "source"}
    assert all(r["definition"] and r["source"] for r in rows)
    value = {(r["indicator"], r["period"]): float(r["value_100m_yuan_or_pct"]) for r in rows}
    for name, figure in PLAN_2020.items():
        assert value[(name, "2020-12")] == figure
    for name in bank_loans.INDICATORS:
        assert {p for i, p in value if i == name} >= {f"{y}-12" for y in range(2018, 2026)}, name
    for name in AMOUNTS:  # before 2020, the plan's 2015-2020 average growth taken backwards
        growth = 1 + value[(f"{name}_growth_pct", "2015/2020")] / 100
        assert value[(name, "2019-12")] == pytest.approx(PLAN_2020[name] / growth, abs=0.006)
        assert value[(name, "2018-12")] == pytest.approx(PLAN_2020[name] / growth**2, abs=0.006)
    assert value[("green_loans", "2025-12")] / value[("loans_total", "2025-12")] == pytest.approx(0.23, abs=1e-4)
    assert all(0.5 <= value[("npl_ratio_pct", f"{y}-12")] <= 0.7 for y in range(2019, 2026))  # plan: below 1%
    assert value[("green_npl_ratio_pct", "2020-12")] == 0.005


def test_monthly_targets_interpolate_geometrically() -> None:
    dec_2019, jun_2020, dec_2020 = (plan_targets(m) for m in ("2019-12", "2020-06", "2020-12"))
    assert dec_2020["loans_total"] == 5940.01 and dec_2020["npl_ratio_pct"] == 0.51
    for name in AMOUNTS:
        assert jun_2020[name] == pytest.approx((dec_2019[name] * dec_2020[name]) ** 0.5, rel=1e-12)
    # 2019-01 lies on the same growth path: 23 months of 43%/yr before 2020-12 for green loans
    assert plan_targets("2019-01")["green_loans"] == pytest.approx(1080.55 / 1.43 ** (23 / 12), rel=1e-3)
    totals = [plan_targets(f"{y}-{m:02d}")["loans_total"] for y in range(2019, 2026) for m in range(1, 13)]
    assert all(b > a for a, b in itertools.pairwise(totals))
    assert plan_targets("2025-12")["loans_total"] == pytest.approx(5940.01 * 1.1**5, rel=1e-5)


# --- calibration ------------------------------------------------------------------------------------------
def test_every_2020_month_meets_its_targets_and_december_the_plan(
    year_2020_figures: dict[str, dict[str, float]],
) -> None:
    for month, f in year_2020_figures.items():
        target = plan_targets(month)
        for name in (*AMOUNTS, "npl_ratio_pct"):
            assert f[name] == pytest.approx(target[name], rel=1e-4), (month, name)
    december = year_2020_figures["2020-12"]
    for name, figure in PLAN_2020.items():
        assert december[name] == pytest.approx(figure, rel=0.01), name  # the issue: within 1%
    assert december["green_loans"] / december["loans_total"] == pytest.approx(0.181, abs=0.001)


def test_green_npl_is_tiny(year_2020_figures: dict[str, dict[str, float]]) -> None:
    # 0.005% at the end of 2020: at this scale a single small green loan, or none, is non-performing
    assert all(f["green_npl_ratio_pct"] <= 0.05 for f in year_2020_figures.values())


def test_rows_follow_the_scale(year_2020_figures: dict[str, dict[str, float]]) -> None:
    rows = year_2020_figures["2020-12"]["rows"]
    assert rows == pytest.approx(bank_loans.ROWS_AT_SCALE_1 * SCALE, rel=0.05)


def test_shares_hold_at_another_scale(tmp_path: Path, year_2020_figures: dict[str, dict[str, float]]) -> None:
    other = figures(generate(tmp_path, scale=0.002, seed=SEED, months=["2020-12"]), 0.002)["2020-12"]
    here = year_2020_figures["2020-12"]
    for name in (*AMOUNTS, "npl_ratio_pct"):
        assert other[name] == pytest.approx(here[name], rel=1e-3), name
    assert other["rows"] == pytest.approx(here["rows"] * 0.4, rel=0.05)


def test_history_follows_the_trajectory(tmp_path: Path) -> None:
    """2019-01..2025-12 at a small scale: every December within 1% of target, green 23% and NPL under 1% in 2025."""
    scale = 0.002
    decembers = [f"{y}-12" for y in range(2019, 2026)]
    started = time.perf_counter()
    paths = generate(tmp_path, scale=scale, seed=SEED, months=["2019-01", *decembers])
    elapsed = time.perf_counter() - started
    got = figures(paths, scale)
    for month in ["2019-01", *decembers]:
        target = plan_targets(month)
        for name in (*AMOUNTS, "npl_ratio_pct"):
            assert got[month][name] == pytest.approx(target[name], rel=0.01), (month, name)
    last = got["2025-12"]
    assert last["green_loans"] / last["loans_total"] == pytest.approx(0.23, rel=0.01)
    assert 0.5 <= last["npl_ratio_pct"] < 1
    assert elapsed < 30  # 84 simulated months of ~2,500 loans: a few seconds


def test_balances_evolve_plausibly(year_2020: tuple[list[Path], float]) -> None:
    """Calibration moves a loan's balance by a fraction of a percent a month: no loan doubles or halves."""
    by_month: dict[str, dict[str, tuple[int, dict[str, str]]]] = defaultdict(dict)
    for path in year_2020[0]:
        for row in read_report(path):
            by_month[path.parent.name][row["贷款编号"]] = (_cents(row["贷款余额(元)"]), row)
    static = [c for c in read_report(year_2020[0][0])[0] if c not in ("报告期", "贷款余额(元)", "五级分类", "逾期天数")]
    ratios = []
    for prev, cur in itertools.pairwise(YEAR_2020):
        before, after = by_month[prev], by_month[cur]
        kept = before.keys() & after.keys()
        assert len(kept) >= 0.85 * len(before)
        for loan_id in kept:
            (a, row_a), (b, row_b) = before[loan_id], after[loan_id]
            assert all(row_a[c] == row_b[c] for c in static), loan_id
            ratios.append(b / a)
    ratios.sort()
    assert ratios[-1] <= 1.2  # the largest rise in a month (a green loan turning non-performing)
    assert ratios[int(0.99 * len(ratios))] <= 1.02
    assert ratios[len(ratios) // 2] <= 1.0  # the typical loan amortises or stays


# --- the rows ----------------------------------------------------------------------------------------------
def test_deterministic(tmp_path: Path) -> None:
    months = ["2020-11", "2020-12"]
    first = generate(tmp_path / "a", scale=0.002, seed=SEED, months=months)
    again = generate(tmp_path / "b", scale=0.002, seed=SEED, months=months)
    assert len(first) == 2 * len(BANKS)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    other = generate(tmp_path / "c", scale=0.002, seed=SEED + 1, months=months)
    assert other[0].read_bytes() != first[0].read_bytes()


def test_every_row_passes_every_rule(year_2020: tuple[list[Path], float]) -> None:
    failures: Counter = Counter()
    for path in year_2020[0]:
        seen: set[str] = set()
        for row in read_report(path):
            assert row["金融机构代码"] == path.stem
            failures.update(row_violations(row, path.parent.name, seen))
    assert failures == Counter()


def test_enterprise_borrowers_come_from_the_registry(year_2020: tuple[list[Path], float]) -> None:
    registry = {firm.uscc: firm for firm in world.enterprises(SCALE, SEED)}
    balance_by_size: dict[str, list[int]] = defaultdict(list)
    loans_by_firm: Counter = Counter()
    individual_businesses = 0
    for path in year_2020[0]:
        month_end = bank_loans._month_end(bank_loans._month_index(path.parent.name))
        for row in read_report(path):
            if row["借款人类型"] == "企业":
                firm = registry[row["借款人证件号码"]]
                assert (row["区县代码"], row["行业代码"]) == (firm.district_code, firm.industry_code)
                assert firm.active_on(dt.date.fromisoformat(row["放款日期"]))
                assert firm.deregistered is None or firm.deregistered > month_end
                if path.parent.name == "2020-12":
                    balance_by_size[firm.size].append(_cents(row["贷款余额(元)"]))
                    loans_by_firm[firm.size, firm.uscc] += 1
            elif row["借款人类型"] == "个体工商户":
                individual_businesses += 1
                assert row["借款人证件号码"][:2] == "92" and row["借款人证件号码"] not in registry
    assert individual_businesses > 0
    mean = {size: sum(v) / len(v) for size, v in balance_by_size.items()}
    assert mean["大型"] > mean["中型"] > mean["小型"] > mean["微型"]  # larger firms borrow more ...
    per_firm = {size: sum(n for (s, _), n in loans_by_firm.items() if s == size)
                / sum(1 for firm in registry.values() if firm.size == size) for size in world.SIZES}  # fmt: skip
    assert per_firm["大型"] > per_firm["中型"] > per_firm["小型"] > per_firm["微型"]  # ... and more often
    assert len({uscc for _, uscc in loans_by_firm}) >= 0.5 * len(registry)


def test_code_lists(year_2020: tuple[list[Path], float]) -> None:
    rows = [row for path in year_2020[0] if path.parent.name == "2020-12" for row in read_report(path)]
    assert {r["区县代码"] for r in rows} == set(codes.DISTRICTS)  # the five districts and counties
    assert {r["借款人类型"] for r in rows} == {"企业", "个体工商户", "个人", "农户"}
    assert {r["五级分类"] for r in rows} >= {"正常", "关注", "次级"}
    assert {r["绿色贷款用途分类"][0] for r in rows if r["绿色贷款用途分类"]} >= {"1", "2", "3", "4", "5"}
    assert all(codes.uscc_is_valid(r["借款人证件号码"]) for r in rows if r["借款人类型"] in ("企业", "个体工商户"))


# --- through the loader ----------------------------------------------------------------------------------
SQL_FIGURES = """
SELECT sum(balance) / 1e8,
       sum(balance) FILTER (WHERE is_green) / 1e8,
       sum(balance) FILTER (WHERE industry_code LIKE 'C%') / 1e8,
       sum(balance) FILTER (WHERE maturity_date > origination_date + INTERVAL 12 MONTH) / 1e8,
       sum(balance) FILTER (WHERE borrower_type = '企业' AND guarantee_type = '信用') / 1e8,
       sum(balance) FILTER (WHERE five_category IN ('次级', '可疑', '损失')) / sum(balance) * 100,
       count(*)
FROM raw.bank__loans WHERE report_month = DATE '2020-12-01'
"""


def test_generated_months_load_clean_and_the_lake_shows_the_plans_figures(lake) -> None:
    generate(lake.landing, scale=0.002, seed=SEED, months=["2020-11", "2020-12"])
    for month in ("2020-11", "2020-12"):
        result = load_partition(CONTRACT, month, lake, log=lambda _: None)
        assert len(result.files) == len(BANKS) and not result.rejected
        assert result.rows_quarantined == 0 and result.rows_warned == 0
        assert result.rows_read == result.rows_loaded + result.rows_quarantined > 0
    with reader(lake) as con:
        *amounts, npl, rows = con.execute(SQL_FIGURES).fetchone()
    names = ("loans_total", "green_loans", "manufacturing_loans", "medium_long_term_loans", "enterprise_credit_loans")
    for name, value in zip(names, amounts, strict=True):
        assert float(value) / 0.002 == pytest.approx(PLAN_2020[name], rel=0.01), name
    assert float(npl) == pytest.approx(0.51, rel=0.01)
    assert rows == pytest.approx(bank_loans.ROWS_AT_SCALE_1 * 0.002, rel=0.05)


EXPECTED_RULE = {  # the defect -> the rule that quarantines it
    "negative_balance": "minimum", "bad_uscc_check": "unified_credit_code_valid",
    "unknown_district": "validValues", "bad_date": "type:DATE", "duplicate_loan_id": "primaryKey",
}  # fmt: skip


def _defect(before: list[str], after: list[str], header: list[str]) -> str:
    col = {name: i for i, name in enumerate(header)}
    changed = [name for name, i in col.items() if before[i] != after[i]]
    assert len(changed) == 1, changed
    return {"贷款余额(元)": "negative_balance", "借款人证件号码": "bad_uscc_check", "区县代码": "unknown_district",
            "放款日期": "bad_date", "贷款编号": "duplicate_loan_id"}[changed[0]]  # fmt: skip


def test_injected_defects_are_quarantined_under_the_rule_that_names_them(lake) -> None:
    path = generate(lake.landing, scale=0.002, seed=SEED, months=["2020-06"])[0]
    with path.open(encoding=bank_loans.ENCODING, newline="") as f:
        header, *clean = list(csv.reader(f))
    count = inject_defects(path, 0.1, seed=3)
    with path.open(encoding=bank_loans.ENCODING, newline="") as f:
        damaged = list(csv.reader(f))[1:]
    changed = {i + 1: _defect(a, b, header) for i, (a, b) in enumerate(zip(clean, damaged, strict=True)) if a != b}
    assert len(changed) == count == round(0.1 * len(clean))
    assert set(changed.values()) == set(DEFECTS)
    result = load_partition(CONTRACT, "2020-06", lake, log=lambda _: None)
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    with reader(lake) as con:
        found = con.execute("SELECT source_row, rule FROM quarantine.bank__loans WHERE source_file = ?",
                            [str(path)]).fetchall()  # fmt: skip
    rules: dict[int, set[str]] = defaultdict(set)
    for row, rule in found:
        rules[row].add(rule)
    for row, defect in changed.items():
        assert EXPECTED_RULE[defect] in rules[row], (row, defect, rules[row])
    # only the damaged rows, and the clean rows whose id a duplicate copied, are quarantined
    ids = [r[3] for r in damaged]
    copied = {i + 1 for i, loan_id in enumerate(ids) if ids.count(loan_id) > 1}
    assert set(rules) == set(changed) | copied
    assert result.rows_quarantined == len(set(changed) | copied)
