"""Demo monthly returns of Huzhou's local financial organisations (地方金融组织), as they land in ``landing/``.

Each organisation of ``world.local_finance_orgs`` (小额贷款公司, 融资担保公司, 典当行, 民间融资服务中心) files
one XLSX workbook per month, as the provincial local-finance supervision system exports it: a title row
above the header row, Chinese headers, every value a text cell. Two sheets:

- ``主要指标``: one row, the organisation's balance sheet and business totals for the month
  (``local_finance_returns``);
- ``客户明细``: one row per contract outstanding at month end (loan, guarantee, pawn or registered private
  loan): client, related group, type, amounts, dates, rate, days overdue (``local_finance_exposures``).

The registry of organisations (``local_finance_registry``) is a snapshot workbook as of the last month
generated. Every supervision ratio in domain-methods.md ("Local financial organisations") can be computed
from the returns alone (:func:`breaches` does it), and the returns reconcile with their own client sheet.

Calibration: the plan gives only the number of organisations (83 at the end of 2020, in ``world``); sizes,
leverage, rates and client mixes below are assumptions, chosen so that most organisations comply with the
ratios and a few breach one for a few months (what supervision finds).

Deterministic: each organisation draws from ``random.Random`` seeded by (seed, organisation code), and its
book is always simulated from the start of the demo history (``sources.HISTORY``), so a month's workbook
does not depend on which other months or organisations are generated. Workbooks are written with fixed
timestamps, so the same arguments give byte-identical files. Money is integer cents throughout.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import openpyxl

from pipelines.demo import codes, world
from pipelines.demo.bank_loans import lpr_of_month
from pipelines.demo.codes import WeightedChoice
from pipelines.demo.months import add_months as _add_months
from pipelines.demo.months import month_end as _month_end
from pipelines.demo.months import month_index as _month_index
from pipelines.demo.months import month_str as _month_str
from pipelines.demo.sources import HISTORY
from pipelines.demo.world import Enterprise, LocalFinanceOrg

RETURNS_DIR = "local_finance_returns"
REGISTRY_DIR = "local_finance_registry"
REGISTRY_FILE = "local_finance_orgs.xlsx"
RETURN_SHEET, EXPOSURE_SHEET, REGISTRY_SHEET = "主要指标", "客户明细", "机构名录"
YES, NO = "是", "否"

# (column name in the lake, header as delivered); the contracts' properties follow the same order.
RETURN_COLUMNS = (
    ("report_month", "报告期"), ("org_code", "机构统一社会信用代码"), ("org_name", "机构名称"),
    ("org_type", "机构类型"), ("registered_capital", "注册资本(元)"), ("paid_in_capital", "实收资本(元)"),
    ("total_assets", "资产总额(元)"), ("total_liabilities", "负债总额(元)"), ("net_assets", "净资产(元)"),
    ("prior_year_end_net_assets", "上年末净资产(元)"), ("business_balance", "业务余额(元)"),
    ("small_micro_agri_balance", "其中：小微企业和涉农业务余额(元)"), ("green_balance", "其中：绿色业务余额(元)"),
    ("movable_pawn_balance", "其中：动产质押典当余额(元)"),
    ("property_rights_pawn_balance", "其中：财产权利质押典当余额(元)"),
    ("real_estate_pawn_balance", "其中：房地产抵押典当余额(元)"), ("client_count", "客户数(户)"),
    ("largest_client_balance", "最大单一客户余额(元)"), ("largest_group_balance", "最大关联集团客户余额(元)"),
    ("overdue_balance", "逾期余额(元)"), ("overdue_90d_balance", "逾期90天以上余额(元)"),
    ("compensation_ytd", "当年累计代偿额(元)"), ("bank_borrowing", "银行借款余额(元)"),
    ("other_nonstandard_borrowing", "股东及其他非标准化融资余额(元)"),
    ("bond_abs_financing", "债券及资产证券化融资余额(元)"), ("new_business", "当月新增业务额(元)"),
    ("weighted_avg_rate_pct", "加权平均年化利率(费率)(%)"),
)  # fmt: skip
EXPOSURE_COLUMNS = (
    ("report_month", "报告期"), ("org_code", "机构统一社会信用代码"), ("contract_id", "业务编号"),
    ("client_type", "客户类型"), ("client_id", "客户证件号码"), ("group_id", "关联集团代码"),
    ("industry_code", "行业代码"), ("district_code", "区县代码"), ("exposure_type", "业务品种"),
    ("is_small_micro_agri", "是否小微企业或涉农"), ("is_green", "是否绿色"), ("contract_amount", "合同金额(元)"),
    ("outstanding", "余额(元)"), ("start_date", "起始日期"), ("maturity_date", "到期日期"),
    ("rate_pct", "年化利率(费率)(%)"), ("days_overdue", "逾期天数"),
)  # fmt: skip
REGISTRY_COLUMNS = (
    ("org_code", "机构统一社会信用代码"), ("org_name", "机构名称"), ("org_type", "机构类型"),
    ("district_code", "区县代码"), ("registered_capital", "注册资本(元)"), ("licence_no", "经营许可证编号"),
    ("licence_date", "许可日期"), ("is_government_guarantor", "是否政府性融资担保机构"),
    ("status_date", "状态变更日期"), ("status", "经营状态"),
)  # fmt: skip
# Every sheet ends with a column that is never empty: an empty trailing cell is not written to the sheet.
STATUSES = ("正常经营", "暂停经营", "已退出")

# --- Supervision ratios (domain-methods.md, "Local financial organisations") -------------------------
# Financing guarantee companies (State Council Decree 683): guarantee liability <= 10x net assets, 15x when
# mainly serving small/micro firms and agriculture; single client <= 10% and related group <= 15% of net
# assets; paid-in capital >= RMB 20m. "Mainly" is read as more than half of the balance: an assumption [U].
GUARANTEE_LEVERAGE, GUARANTEE_LEVERAGE_SMALL_MICRO = 10, 15
SMALL_MICRO_MAIN_SHARE = 0.5
GUARANTEE_MIN_PAID_IN_CENTS = 20_000_000 * 100
# Small-loan companies (2025 interim rules): single borrower <= 10% and related group <= 15% of the prior
# year-end net assets; non-standard borrowing (banks, shareholders) <= 1x, bonds and ABS <= 4x net assets.
# Pawnshops (2005 measures): single client <= 25% of registered capital; property-rights pledges <= 50%;
# real-estate pawns <= registered capital.


def _over(value: int, limit_num: int, limit_den: int, base: int) -> bool:
    """value > base * num / den, exactly."""
    return value * limit_den > base * limit_num


def breaches(ret: dict[str, str | None]) -> list[str]:
    """The supervision ratios a return (``RETURN_COLUMNS`` names -> delivered strings) breaks."""
    c = {k: _cents(v) for k, v in ret.items() if k not in ("report_month", "org_code", "org_name", "org_type",
                                                               "client_count", "weighted_avg_rate_pct")}
    kind, found = ret["org_type"], []
    if kind == "融资担保公司":
        na = c["net_assets"]
        main = c["small_micro_agri_balance"] * 2 > c["business_balance"]  # share > SMALL_MICRO_MAIN_SHARE
        cap = GUARANTEE_LEVERAGE_SMALL_MICRO if main else GUARANTEE_LEVERAGE
        if _over(c["business_balance"], cap, 1, na):
            found.append("leverage")
        if _over(c["largest_client_balance"], 10, 100, na):
            found.append("single_client")
        if _over(c["largest_group_balance"], 15, 100, na):
            found.append("related_group")
        if c["paid_in_capital"] < GUARANTEE_MIN_PAID_IN_CENTS:
            found.append("paid_in_capital")
    elif kind == "小额贷款公司":
        base = c["prior_year_end_net_assets"]
        if _over(c["largest_client_balance"], 10, 100, base):
            found.append("single_client")
        if _over(c["largest_group_balance"], 15, 100, base):
            found.append("related_group")
        if _over(c["bank_borrowing"] + c["other_nonstandard_borrowing"], 1, 1, c["net_assets"]):
            found.append("nonstandard_borrowing")
        if _over(c["bond_abs_financing"], 4, 1, c["net_assets"]):
            found.append("bond_abs_financing")
    elif kind == "典当行":
        capital = c["registered_capital"]
        if _over(c["largest_client_balance"], 25, 100, capital):
            found.append("single_client")
        if _over(c["property_rights_pawn_balance"], 50, 100, capital):
            found.append("property_rights_pawn")
        if _over(c["real_estate_pawn_balance"], 1, 1, capital):
            found.append("real_estate_pawn")
    return found


# --- Business lines ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Line:
    """A business line (业务品种) and how its contracts are drawn."""

    exposure_type: str
    weight: float
    terms: tuple[int, ...]  # months, drawn uniformly
    median_yuan: float  # for an individual business; scaled by CLIENT_SIZE
    sigma: float
    clients: WeightedChoice
    rate_bp: tuple[int, int]  # annual rate or fee in 1/100 %, before the legal cap
    default_prob: float  # monthly, of a performing contract before maturity
    maturity_default_prob: float  # not repaid at maturity


@dataclass(frozen=True)
class OrgType:
    prefix: str  # contract ids: two letters, start date, serial
    report: str  # the report's title: 湖州市{report} YYYY年M月
    lines: tuple[Line, ...]
    lever: tuple[float, float]  # business balance per net assets (pawnshops: per registered capital)
    lever_max: float  # the drift never takes a compliant organisation beyond this
    na_per_capital: tuple[float, float]  # opening net assets per paid-in capital
    na_growth: tuple[float, float]  # monthly mean and spread of net-asset growth
    green_prob: float
    single_cap: float  # a compliant organisation keeps one client within this share of its base
    group_cap: float
    breach_kinds: WeightedChoice | None


def _w(**weights: float) -> WeightedChoice:
    return WeightedChoice(weights)


# All assumptions (the plan publishes no balances for these organisations): at scale 1 and 2020-12 they give
# about 90亿 of small loans at ~1x net assets with ~13% average rates and a few % overdue beyond 90 days,
# ~140亿 of financing guarantees at ~3.4x net assets (fees ~1.2%), ~9亿 of pawns (~0.8x registered
# capital, ~28% annualised fees and interest) and ~7亿 of registered private loans; ~25,000 contracts.
# Client size relative to an individual business (assumption).
CLIENT_SIZE = {"企业": 2.5, "个体工商户": 1.0, "个人": 0.5, "农户": 0.4}
ORG_TYPES = {
    "小额贷款公司": OrgType(
        "XD", "小额贷款公司", (
            Line("小额贷款", 1.0, (3, 6, 6, 12, 12, 12, 24), 4e5, 0.8,
                 _w(企业=0.40, 个体工商户=0.30, 个人=0.12, 农户=0.18), (900, 1800), 0.008, 0.08),
        ), (0.7, 1.3), 1.45, (1.00, 1.25), (0.004, 0.006), 0.06, 0.06, 0.12,
        _w(single_client=0.45, related_group=0.25, nonstandard_borrowing=0.30)),
    "融资担保公司": OrgType(
        "DB", "融资担保公司", (
            Line("借款类担保", 0.82, (12, 12, 12, 24, 36), 8e5, 0.7,
                 _w(企业=0.70, 个体工商户=0.18, 农户=0.12), (100, 250), 0.002, 0.01),
            Line("其他融资担保", 0.15, (6, 12), 6e5, 0.7, _w(企业=0.85, 个体工商户=0.15), (100, 200), 0.001, 0.005),
            Line("发行债券担保", 0.03, (36, 60), 1.2e7, 0.4, _w(企业=1.0), (80, 150), 0.0, 0.0),
        ), (1.5, 5.0), 7.0, (1.02, 1.15), (0.002, 0.004), 0.12, 0.06, 0.12,
        _w(leverage=0.40, single_client=0.40, related_group=0.20)),
    "典当行": OrgType(
        "DD", "典当行", (
            Line("动产质押典当", 0.45, (1, 2, 3, 3, 6), 8e4, 0.8, _w(个人=0.60, 个体工商户=0.30, 企业=0.10),
                 (2520, 5040), 0.006, 0.05),
            Line("财产权利质押典当", 0.15, (3, 6), 5e5, 0.7, _w(企业=0.50, 个体工商户=0.30, 个人=0.20),
                 (1440, 2880), 0.004, 0.04),
            Line("房地产抵押典当", 0.40, (3, 6, 6), 5e5, 0.6, _w(个人=0.45, 个体工商户=0.35, 企业=0.20),
                 (1620, 3240), 0.004, 0.04),
        ), (0.6, 1.1), 1.1, (1.00, 1.20), (0.003, 0.005), 0.0, 0.15, 0.15,
        _w(single_client=0.40, property_rights_pawn=0.30, real_estate_pawn=0.30)),
    "民间融资服务中心": OrgType(
        "MJ", "民间融资服务中心", (
            Line("民间借贷撮合", 1.0, (6, 12, 12, 24), 3e5, 0.8,
                 _w(企业=0.25, 个体工商户=0.40, 个人=0.20, 农户=0.15), (700, 1500), 0.004, 0.03),
        ), (3.0, 10.0), 12.0, (0.90, 1.10), (0.002, 0.005), 0.03, 0.05, 0.10, None),
}  # fmt: skip
EXPOSURE_TYPES = tuple(line.exposure_type for t in ORG_TYPES.values() for line in t.lines)
CLIENT_TYPES = ("企业", "个体工商户", "个人", "农户")

# Credit-quality transitions (monthly), as in the bank books but rougher: overdue contracts are cured,
# or after 90 days written off, sold, compensated (guarantees) or the pledge sold (pawns).
CURE_EARLY, CURE_LATE, RESOLVE_LATE = 0.30, 0.03, 0.12
PAY_DOWN = 0.08  # a performing contract is partly repaid in the month
BREACH_START = 0.01  # monthly odds that a compliant organisation drifts into a breach
BREACH_MONTHS = (2, 9)
BREACH_AT_OPENING = 0.05  # about the share in breach at any time, so the first months are not all clean
EXIT_SHARE, SUSPEND_SHARE = 0.08, 0.03  # organisations that leave the market, or are suspended, by 2025
GOVERNMENT_GUARANTOR_SHARE = 0.4  # 政府性融资担保机构 among guarantee companies (plan: 市县一体化体系)
# The Supreme People's Court's 2020 private-lending rules protect at most 4x the 1-year LPR (24% before
# 2020-08-20); applied to small loans and registered private loans alike (an assumption for small loans).
RATE_CAP_FROM = (2020, 9)


# --- calendar and money helpers ------------------------------------------------------------------------
def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _cents(text: str | None) -> int:
    if not text:
        return 0
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("-").partition(".")
    return sign * (int(whole) * 100 + int((frac + "00")[:2]))


def _pct4(value: int) -> str:  # value in 1/10000 %
    return f"{value // 10000}.{value % 10000:04d}"


def _scale(cents: int, factor: float, step: int = 1) -> int:
    """``cents * factor`` rounded to a multiple of ``step`` cents, as an integer."""
    return round(cents * factor / step) * step


# --- the client population -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Clients:
    small: dict[str, tuple[Enterprise, ...]]  # small and micro firms by district
    larger: dict[str, tuple[Enterprise, ...]]  # medium and large firms by district
    group_of: dict[str, str]  # member USCC -> the group's parent USCC
    members: dict[str, tuple[str, ...]]  # parent USCC -> members, the parent first
    by_uscc: dict[str, Enterprise]


@cache
def _clients(scale: float, seed: int) -> _Clients:
    """The city's firms as lending clients, with related groups: a medium or large parent and 1-4 small
    firms of its district controlled by it (an assumption; the registry has no group structure yet)."""
    firms = world.enterprises(scale, seed)
    rng = random.Random(f"{seed}:local_finance_groups")
    small: dict[str, list[Enterprise]] = {d: [] for d in codes.DISTRICTS}
    larger: dict[str, list[Enterprise]] = {d: [] for d in codes.DISTRICTS}
    for firm in firms:
        (small if firm.size in ("小型", "微型") else larger)[firm.district_code].append(firm)
    group_of: dict[str, str] = {}
    members: dict[str, tuple[str, ...]] = {}
    for district in codes.DISTRICTS:
        free = [f.uscc for f in small[district]]
        rng.shuffle(free)
        for parent in larger[district]:
            if rng.random() >= 0.2 or not free:
                continue
            group = [parent.uscc] + [free.pop() for _ in range(min(len(free), rng.randint(1, 4)))]
            members[parent.uscc] = tuple(group)
            for uscc in group:
                group_of[uscc] = parent.uscc
    return _Clients({d: tuple(v) for d, v in small.items()}, {d: tuple(v) for d, v in larger.items()},
                    group_of, members, {f.uscc: f for f in firms})


# --- one organisation's book ---------------------------------------------------------------------------
class _Contract:
    __slots__ = ("amount", "balance", "breach", "client_id", "client_type", "days", "district", "green",
                 "group_id", "id", "industry", "line", "maturity", "rate", "small", "start")  # fmt: skip

    def __init__(self, **values) -> None:
        self.days = 0
        self.breach = False
        for key, value in values.items():
            setattr(self, key, value)

    def key(self) -> str:
        return self.group_id or self.client_id


@dataclass(frozen=True)
class _Fate:
    exit_month: int | None  # first month without a return
    suspend_month: int | None  # no new business from this month
    government: bool  # a government-backed guarantor


def _fate(org: LocalFinanceOrg, seed: int) -> _Fate:
    rng = random.Random(f"local_finance:{seed}:{org.uscc}:fate")
    exit_month = suspend = None
    first, last = _month_index("2021-01"), _month_index(HISTORY[1])
    if rng.random() < EXIT_SHARE:
        exit_month = rng.randint(first, last)
    if rng.random() < SUSPEND_SHARE:
        suspend = rng.randint(_month_index("2020-01"), last - 6)
    return _Fate(exit_month, suspend, org.org_type == "融资担保公司" and rng.random() < GOVERNMENT_GUARANTOR_SHARE)


class _Book:
    """One organisation simulated month by month with its own random stream."""

    def __init__(self, org: LocalFinanceOrg, seed: int, scale: float) -> None:
        self.org = org
        self.kind = ORG_TYPES[org.org_type]
        self.fate = _fate(org, seed)
        self.rng = rng = random.Random(f"local_finance:{seed}:{org.uscc}")
        self.clients = _clients(scale, seed)
        self.capital = org.registered_capital_yuan * 100
        self.paid_in = self.capital
        if org.org_type != "小额贷款公司" and rng.random() < 0.12:  # capital subscribed in instalments
            self.paid_in = max(20_000_000 * 100, _scale(self.capital, rng.uniform(0.6, 0.9), 10**8))
            self.paid_in = min(self.paid_in, self.capital)
        self.na = _scale(self.paid_in, rng.uniform(*self.kind.na_per_capital))  # the underlying net assets
        self.na_reported = self.na
        self.prior_year_end = self.na
        self.lever = rng.uniform(*self.kind.lever)
        self.drift = rng.uniform(-0.05, 0.08) / 12
        self.bank_split = rng.uniform(0.5, 1.0)
        self.bonds_ratio = rng.uniform(0.3, 1.0) if org.org_type == "小额贷款公司" and rng.random() < 0.1 else 0.0
        self.reserve_ratio = rng.uniform(0.015, 0.03)
        self.other_liab_ratio = rng.uniform(0.01, 0.04)
        self.cash_ratio = rng.uniform(0.02, 0.08)
        self.green_prob = self.kind.green_prob * rng.uniform(0.5, 2.0)
        self.local = rng.uniform(0.6, 0.85)  # share of clients in the organisation's own district
        self.contracts: list[_Contract] = []
        self.seq = 0
        self.compensation_ytd = 0
        self.breach: tuple[str, int, float] | None = None  # kind, last month, factor

    # -- drawing contracts ------------------------------------------------------------------------------
    def _base(self) -> int:
        """What the single-client and group limits are measured against."""
        if self.org.org_type == "典当行":
            return self.capital
        if self.org.org_type == "小额贷款公司":
            return min(self.na, self.prior_year_end)
        return self.na

    def _firm(self, lines_small: bool, district: str) -> Enterprise | None:
        pools = self.clients.small if lines_small else self.clients.larger
        pool = pools[district] or pools[self.rng.choice(list(codes.DISTRICTS))]
        return self.rng.choice(pool) if pool else None

    def _client(self, line: Line, client_type: str, start: dt.date,
                taken: dict[str, int] | None = None) -> tuple | None:
        """(client id, group id, industry, district, small/micro-or-agriculture) of a new contract."""
        rng = self.rng
        district = self.org.district_code if rng.random() < self.local else rng.choice(list(codes.DISTRICTS))
        if client_type == "企业":
            if line.exposure_type == "发行债券担保":
                want_small = False
            elif self.org.org_type == "融资担保公司":
                want_small = rng.random() < (0.9 if self.fate.government else 0.55)
            else:
                want_small = rng.random() < 0.9
            for _ in range(6):
                firm = self._firm(want_small, district)
                if firm and firm.active_on(start) and firm.uscc not in (taken if taken is not None else self._taken()):
                    return (firm.uscc, self.clients.group_of.get(firm.uscc), firm.industry_code,
                            firm.district_code, self._small(firm))
            return None
        if client_type == "个体工商户":
            return (codes.make_uscc(rng, district, codes.USCC_INDIVIDUAL_BUSINESS), None,
                    codes.pick_industry(rng, codes.SMALL_BUSINESS_SECTIONS), district, True)
        if client_type == "农户":
            return codes.masked_person_id(rng, district), None, codes.pick_industry(rng, "A"), district, True
        return codes.masked_person_id(rng, district), None, None, district, False

    def _rate(self, line: Line, start: dt.date) -> int:
        """Annual rate or fee in 1/10000 %."""
        low, high = line.rate_bp
        bp = self.rng.randint(low, high)
        if self.org.org_type == "融资担保公司" and self.fate.government:
            bp = self.rng.randint(50, 100)  # government-backed guarantors charge at most 1%
        elif self.org.org_type in ("小额贷款公司", "民间融资服务中心"):
            cap = 2400 if (start.year, start.month) < RATE_CAP_FROM else 4 * lpr_of_month(
                start.year, start.month, False) // 100
            bp = min(bp, cap - self.rng.randint(0, 300))
        elif self.org.org_type == "典当行":  # monthly fees (art. 37) plus interest at the 1-year LPR
            bp += lpr_of_month(start.year, start.month, False) // 100
        return bp * 100

    def _amount(self, line: Line, client_type: str, limit: int) -> int:
        yuan = line.median_yuan * CLIENT_SIZE[client_type] * self.rng.lognormvariate(0.0, line.sigma)
        step = 10_000 if yuan >= 1e6 else 1_000
        cents = max(step, round(yuan / step) * step) * 100
        return min(cents, limit // (step * 100) * step * 100)

    def _new(self, line: Line, start: dt.date, amount: int, client: tuple, client_type: str) -> _Contract:
        self.seq += 1
        client_id, group_id, industry, district, small = client
        maturity = _add_months(start, self.rng.choice(line.terms))
        green = self.kind.green_prob > 0 and client_type != "个人" and self.rng.random() < self.green_prob
        return _Contract(id=f"{self.kind.prefix}{start:%Y%m%d}{self.seq:06d}", line=line, client_type=client_type,
                         client_id=client_id, group_id=group_id, industry=industry, district=district,
                         small=small, green=green, amount=amount, balance=amount, start=start,
                         maturity=maturity, rate=self._rate(line, start))

    def _totals(self) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        clients: dict[str, int] = {}
        groups: dict[str, int] = {}
        lines: dict[str, int] = {}
        for c in self.contracts:
            clients[c.client_id] = clients.get(c.client_id, 0) + c.balance
            groups[c.key()] = groups.get(c.key(), 0) + c.balance
            lines[c.line.exposure_type] = lines.get(c.line.exposure_type, 0) + c.balance
        return clients, groups, lines

    def _taken(self) -> set[str]:
        return {c.client_id for c in self.contracts}

    def _random_day(self, month: int) -> dt.date:
        end = _month_end(month)
        return end.replace(day=self.rng.randint(1, end.day))

    def _lend(self, month: int, target: int) -> None:
        """New business until the book reaches ``target``, every client within the compliant caps."""
        rng, kind = self.rng, self.kind
        total = sum(c.balance for c in self.contracts)
        clients, groups, lines = self._totals()
        base = self._base()
        single_cap, group_cap = _scale(base, kind.single_cap), _scale(base, kind.group_cap)
        weights = [line.weight for line in kind.lines]
        for _ in range(5000):
            if total >= target:
                break
            line = rng.choices(kind.lines, weights)[0]
            if line.exposure_type == "财产权利质押典当" and lines.get(line.exposure_type, 0) > self.capital * 0.40:
                line = kind.lines[0]
            if line.exposure_type == "房地产抵押典当" and lines.get(line.exposure_type, 0) > self.capital * 0.85:
                line = kind.lines[0]
            client_type = line.clients(rng)
            start = self._random_day(month)
            client = self._client(line, client_type, start, clients)
            if client is None:
                continue
            room = min(single_cap - clients.get(client[0], 0), group_cap - groups.get(client[1] or client[0], 0))
            amount = self._amount(line, client_type, room)
            if amount < 1_000_00:
                continue
            contract = self._new(line, start, amount, client, client_type)
            self.contracts.append(contract)
            total += amount
            clients[contract.client_id] = clients.get(contract.client_id, 0) + amount
            groups[contract.key()] = groups.get(contract.key(), 0) + amount
            lines[line.exposure_type] = lines.get(line.exposure_type, 0) + amount
            # a firm of a related group often brings a second member of its group
            if contract.group_id and rng.random() < 0.3:
                self._lend_to_member(contract, line, month, group_cap - groups[contract.key()], groups)

    def _lend_to_member(self, first: _Contract, line: Line, month: int, room: int, groups: dict[str, int]) -> None:
        others = [m for m in self.clients.members[first.group_id]
                  if m != first.client_id and not any(c.client_id == m for c in self.contracts)]
        if not others or room < 10_000_00:
            return
        firm = self.clients.by_uscc[self.rng.choice(others)]
        start = self._random_day(month)
        if not firm.active_on(start):
            return
        client = (firm.uscc, first.group_id, firm.industry_code, firm.district_code, self._small(firm))
        amount = self._amount(line, "企业", min(room, _scale(self._base(), self.kind.single_cap)))
        if amount >= 1_000_00:
            self.contracts.append(self._new(line, start, amount, client, "企业"))
            groups[first.group_id] += amount

    # -- breaches -------------------------------------------------------------------------------------
    def _start_breach(self, month: int) -> None:
        rng = self.rng
        kind = self.kind.breach_kinds(rng)
        last = month + rng.randint(*BREACH_MONTHS) - 1
        start = self._random_day(month)
        maturity = _month_end(last) + dt.timedelta(days=rng.randint(1, 20))  # repaid when the episode ends
        base = self._base()
        factor = 1.0
        if kind == "related_group":  # three firms of one group, each within the single-client limit
            free = [p for p, ms in self.clients.members.items()
                    if len(ms) >= 3 and not any(c.group_id == p for c in self.contracts)]
            if free:
                parent = free[rng.randrange(len(free))]
                for uscc in self.clients.members[parent][:3]:
                    firm = self.clients.by_uscc[uscc]
                    client = (uscc, parent, firm.industry_code, firm.district_code, self._small(firm))
                    amount = _scale(base, rng.uniform(0.065, 0.09), 10**6)
                    self._breach_contract(self.kind.lines[0], start, amount, client, "企业", maturity)
            else:
                kind = "single_client"
        if kind == "single_client":
            share = 0.25 if self.org.org_type == "典当行" else 0.10
            amount = _scale(base, share * rng.uniform(1.1, 1.6), 10**6)
            self._breach_contract(self.kind.lines[0], start, amount, *self._any_firm(start), maturity)
        elif kind in ("property_rights_pawn", "real_estate_pawn"):  # several clients, each within 25%
            name = "财产权利质押典当" if kind == "property_rights_pawn" else "房地产抵押典当"
            line = next(x for x in self.kind.lines if x.exposure_type == name)
            limit = self.capital // 2 if kind == "property_rights_pawn" else self.capital
            gap = limit - self._totals()[2].get(name, 0)
            while gap >= 0:
                amount = _scale(self.capital, rng.uniform(0.12, 0.2), 10**6)
                self._breach_contract(line, start, amount, *self._any_firm(start), maturity)
                gap -= amount
        elif kind == "leverage":  # net assets written down below the balance the cap allows
            factor = rng.uniform(1.05, 1.25)
        elif kind == "nonstandard_borrowing":  # shareholder and bank loans beyond net assets
            factor = rng.uniform(1.05, 1.4)
        self.breach = (kind, last, factor)

    @staticmethod
    def _small(firm: Enterprise) -> bool:
        return firm.size in ("小型", "微型") or firm.industry_code[0] == "A"

    def _any_firm(self, start: dt.date) -> tuple[tuple, str]:
        """A new client for a breaching contract: a firm of the city, else an individual business."""
        for _ in range(20):
            client = self._client(self.kind.lines[0], "企业", start)
            if client:
                return client, "企业"
        return self._client(self.kind.lines[0], "个体工商户", start), "个体工商户"

    def _breach_contract(self, line: Line, start: dt.date, amount: int, client: tuple, client_type: str,
                         maturity: dt.date) -> None:
        contract = self._new(line, start, amount, client, client_type)
        contract.maturity = maturity
        contract.breach = True
        self.contracts.append(contract)

    # -- the month --------------------------------------------------------------------------------------
    def open(self, month: int) -> None:
        self.step(month, opening=True)

    def step(self, month: int, opening: bool = False) -> None:
        rng, kind = self.rng, self.kind
        end = _month_end(month)
        if end.month == 1:
            self.compensation_ytd = 0
        if not opening:
            self._age(month, end)
        mu, sd = kind.na_growth
        self.na = max(_scale(self.na, 1 + rng.gauss(mu, sd)), _scale(self.paid_in, 0.85))
        self.lever = min(max(self.lever * (1 + self.drift + rng.gauss(0, 0.01)), kind.lever[0] * 0.7), kind.lever_max)
        if self.breach and month > self.breach[1]:
            self.breach = None
        elif self.breach is None and kind.breach_kinds and not opening and rng.random() < BREACH_START:
            self._start_breach(month)
        licensed = self.org.licensed_on.year * 12 + self.org.licensed_on.month - 1
        ramp = min(1.0, (month - licensed + 1) / 12)
        suspended = self.fate.suspend_month is not None and month >= self.fate.suspend_month
        if not suspended:
            base = self.capital if self.org.org_type == "典当行" else self.na
            target = _scale(base, self.lever * ramp)
            if opening:  # a book of every age: contracts started over the last months
                for age in range(12, -1, -1):
                    self._lend(month - age, _scale(target, (13 - age) / 13))
                for c in self.contracts:
                    if c.maturity <= end:  # matured before the first report: roll into this month
                        c.maturity = _add_months(end, 1 + rng.randrange(3))
            else:
                self._lend(month, target)
        if opening and kind.breach_kinds and rng.random() < BREACH_AT_OPENING:
            self._start_breach(month)
        self.na_reported = self.na
        if self.breach and self.breach[0] == "leverage":
            balance = sum(c.balance for c in self.contracts)
            small = sum(c.balance for c in self.contracts if c.small)
            cap = GUARANTEE_LEVERAGE_SMALL_MICRO if small * 2 > balance else GUARANTEE_LEVERAGE
            # losses on compensation payments have eaten into net assets until shareholders inject capital
            self.na_reported = min(self.na, _scale(balance, 1 / (cap * self.breach[2]), 100))

    def _age(self, month: int, end: dt.date) -> None:
        rng = self.rng
        days_in_month = end.day
        kept = []
        for c in self.contracts:
            r = rng.random()
            if c.breach:
                if c.maturity > end:
                    kept.append(c)
                continue
            if c.days > 0:
                if r < (CURE_EARLY if c.days <= 90 else CURE_LATE):
                    c.days = 0
                    if c.maturity <= end:  # cured by repaying
                        continue
                elif c.days > 90 and r > 1 - RESOLVE_LATE:
                    if self.org.org_type == "融资担保公司":
                        self.compensation_ytd += c.balance
                    continue
                else:
                    c.days += days_in_month
                kept.append(c)
                continue
            if c.maturity <= end:
                if r < c.line.maturity_default_prob:
                    c.days = max(1, (end - c.maturity).days)
                    kept.append(c)
                continue
            if r < c.line.default_prob:
                c.days = rng.randint(1, days_in_month)
            elif r > 1 - PAY_DOWN:
                c.balance -= _scale(c.balance, rng.uniform(0.1, 0.5), 10**4)
                if c.balance <= 0:
                    continue
            kept.append(c)
        self.contracts = kept

    def year_end(self, month: int) -> None:
        if _month_end(month).month == 12:
            self.prior_year_end = self.na_reported

    # -- the return -----------------------------------------------------------------------------------
    def return_row(self, label: str) -> tuple[str | None, ...]:
        org, kind_name = self.org, self.org.org_type
        month_start = dt.date(int(label[:4]), int(label[5:]), 1)
        balance = sum(c.balance for c in self.contracts)
        clients, groups, lines = self._totals()
        rate_num = sum(c.rate * c.balance for c in self.contracts)
        rate = (2 * rate_num + balance) // (2 * balance) if balance else 0  # rounded half up
        na = self.na_reported
        bank = other = bonds = 0
        lender = kind_name in ("小额贷款公司", "典当行")
        if kind_name == "融资担保公司":
            liabilities = _scale(balance, self.reserve_ratio) + _scale(na, self.other_liab_ratio)
        elif lender:
            bonds = _scale(na, self.bonds_ratio, 10**6)
            other_liab = _scale(na, self.other_liab_ratio)
            need = balance + _scale(na, self.cash_ratio) - na - bonds - other_liab
            if self.breach and self.breach[0] == "nonstandard_borrowing":
                need = max(need, _scale(na, self.breach[2]))
            if need > 0:
                need = -(-need // 10**6) * 10**6
                bank = _scale(need, self.bank_split, 10**6)
                other = need - bank
            liabilities = bank + other + bonds + other_liab
        else:
            liabilities = _scale(na, self.other_liab_ratio)
        pawn = kind_name == "典当行"

        def pawn_line(name: str) -> str | None:
            return _money(lines.get(name, 0)) if pawn else None

        values = {
            "report_month": label, "org_code": org.uscc, "org_name": org.name, "org_type": kind_name,
            "registered_capital": _money(self.capital), "paid_in_capital": _money(self.paid_in),
            "total_assets": _money(na + liabilities), "total_liabilities": _money(liabilities),
            "net_assets": _money(na), "prior_year_end_net_assets": _money(self.prior_year_end),
            "business_balance": _money(balance),
            "small_micro_agri_balance": _money(sum(c.balance for c in self.contracts if c.small)),
            "green_balance": _money(sum(c.balance for c in self.contracts if c.green)),
            "movable_pawn_balance": pawn_line("动产质押典当"),
            "property_rights_pawn_balance": pawn_line("财产权利质押典当"),
            "real_estate_pawn_balance": pawn_line("房地产抵押典当"),
            "client_count": str(len(clients)),
            "largest_client_balance": _money(max(clients.values(), default=0)),
            "largest_group_balance": _money(max(groups.values(), default=0)),
            "overdue_balance": _money(sum(c.balance for c in self.contracts if c.days > 0)),
            "overdue_90d_balance": _money(sum(c.balance for c in self.contracts if c.days > 90)),
            "compensation_ytd": _money(self.compensation_ytd) if kind_name == "融资担保公司" else None,
            "bank_borrowing": _money(bank), "other_nonstandard_borrowing": _money(other),
            "bond_abs_financing": _money(bonds),
            "new_business": _money(sum(c.amount for c in self.contracts if c.start >= month_start)),
            "weighted_avg_rate_pct": _pct4(rate),
        }
        return tuple(values[name] for name, _ in RETURN_COLUMNS)

    def exposure_rows(self, label: str) -> list[tuple[str | None, ...]]:
        head = (label, self.org.uscc)
        return [(*head, c.id, c.client_type, c.client_id, c.group_id, c.industry, c.district,
                 c.line.exposure_type, YES if c.small else NO, YES if c.green else NO, _money(c.amount),
                 _money(c.balance), c.start.isoformat(), c.maturity.isoformat(), _pct4(c.rate), str(c.days))
                for c in sorted(self.contracts, key=lambda c: c.id)]


@dataclass(frozen=True)
class MonthlyReturn:
    org: LocalFinanceOrg
    month: str
    values: tuple[str | None, ...]  # RETURN_COLUMNS
    exposures: list[tuple[str | None, ...]]  # EXPOSURE_COLUMNS

    def as_dict(self) -> dict[str, str | None]:
        return dict(zip((name for name, _ in RETURN_COLUMNS), self.values, strict=True))


def simulate(scale: float, seed: int, months: Sequence[str]) -> Iterator[MonthlyReturn]:
    """Every return filed for ``months``, organisation by organisation, month by month."""
    wanted = sorted({_month_index(m) for m in months})
    if not wanted:
        return
    first = min(_month_index(HISTORY[0]), wanted[0])
    for org in world.local_finance_orgs(scale, seed):
        book = _Book(org, seed, scale)
        licensed = org.licensed_on.year * 12 + org.licensed_on.month - 1
        start = max(first, licensed)
        book.prior_year_end = book.na
        for month in range(start, wanted[-1] + 1):
            if book.fate.exit_month is not None and month >= book.fate.exit_month:
                break
            if month == start:
                book.open(month)
            else:
                book.step(month)
            if month in wanted:
                label = _month_str(month)
                yield MonthlyReturn(org, label, book.return_row(label), book.exposure_rows(label))
            book.year_end(month)


def registry_rows(scale: float, seed: int, month: str) -> list[tuple[str | None, ...]]:
    """The registry of organisations as it stands at the end of ``month``."""
    index = _month_index(month)
    rows = []
    serials: dict[str, int] = {}
    for org in world.local_finance_orgs(scale, seed):
        licensed = org.licensed_on.year * 12 + org.licensed_on.month - 1
        fate = _fate(org, seed)
        serials[org.org_type] = serials.get(org.org_type, 0) + 1
        if licensed > index:
            continue
        status, since = STATUSES[0], None
        if fate.exit_month is not None and fate.exit_month <= index:
            status, since = STATUSES[2], dt.date(fate.exit_month // 12, fate.exit_month % 12 + 1, 1)
        elif fate.suspend_month is not None and fate.suspend_month <= index:
            status, since = STATUSES[1], dt.date(fate.suspend_month // 12, fate.suspend_month % 12 + 1, 1)
        # Licence numbers: 浙 + the type's abbreviation + the district + a serial (format an assumption).
        licence = f"浙{LICENCE_ABBR[org.org_type]}{org.district_code}{serials[org.org_type]:04d}"
        government = (YES if fate.government else NO) if org.org_type == "融资担保公司" else None
        rows.append((org.uscc, org.name, org.org_type, org.district_code, _money(org.registered_capital_yuan * 100),
                     licence, org.licensed_on.isoformat(), government, since.isoformat() if since else None,
                     status))
    return rows


LICENCE_ABBR = {"小额贷款公司": "小贷", "融资担保公司": "融担", "典当行": "典当", "民间融资服务中心": "民融"}


# --- writing workbooks ---------------------------------------------------------------------------------
def _title_date(label: str) -> str:
    return f"{int(label[:4])}年{int(label[5:])}月"


def _save(wb: openpyxl.Workbook, path: Path, stamp: dt.datetime) -> None:
    """Save with fixed document and zip timestamps, through a temporary name: same content, same bytes."""
    wb.properties.creator = "浙江省地方金融监管信息系统"
    wb.properties.created = wb.properties.modified = stamp
    buffer = io.BytesIO()
    wb.save(buffer)
    when = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":  # openpyxl stamps the save time as modified
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + when, data)
            info = zipfile.ZipInfo(item.filename, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, data)
    tmp.replace(path)


def _sheet(wb: openpyxl.Workbook, title: str, heading: str, columns, rows) -> None:
    ws = wb.create_sheet(title)
    ws.append([heading])
    ws.append([header for _, header in columns])
    for row in rows:
        ws.append(list(row))


def _stamp(label: str) -> dt.datetime:
    """When the return was filed: the 5th of the following month, 09:30 (fixed, for identical bytes)."""
    end = _month_end(_month_index(label))
    return dt.datetime.combine(end + dt.timedelta(days=5), dt.time(9, 30))


def write_return(path: Path, ret: MonthlyReturn) -> int:
    wb = openpyxl.Workbook(write_only=True)
    kind = ORG_TYPES[ret.org.org_type]
    _sheet(wb, RETURN_SHEET, f"湖州市{kind.report}月度监管报表 {_title_date(ret.month)}", RETURN_COLUMNS, [ret.values])
    _sheet(wb, EXPOSURE_SHEET, f"湖州市{kind.report}客户明细表 {_title_date(ret.month)}", EXPOSURE_COLUMNS,
           ret.exposures)
    _save(wb, path, _stamp(ret.month))
    return 1 + len(ret.exposures)


def write_registry(path: Path, rows: list, month: str) -> int:
    wb = openpyxl.Workbook(write_only=True)
    _sheet(wb, REGISTRY_SHEET, f"湖州市地方金融组织名录（截至{_title_date(month)}末）", REGISTRY_COLUMNS, rows)
    _save(wb, path, _stamp(month))
    return len(rows)


def generate(landing: Path, *, scale: float, seed: int, months: Sequence[str],
             on_file: Callable[[Path, int], None] | None = None) -> list[Path]:
    """``local_finance_returns/<YYYY-MM>/<organisation code>.xlsx`` for every organisation and month it
    files, and the registry ``local_finance_registry/local_finance_orgs.xlsx`` as of the last month."""
    if not months:
        return []
    landing = Path(landing)
    paths = []
    for ret in simulate(scale, seed, months):
        path = landing / RETURNS_DIR / ret.month / f"{ret.org.uscc}.xlsx"
        rows = write_return(path, ret)
        paths.append(path)
        if on_file:
            on_file(path, rows)
    last = max(months, key=_month_index)
    path = landing / REGISTRY_DIR / REGISTRY_FILE
    rows = write_registry(path, registry_rows(scale, seed, last), last)
    paths.append(path)
    if on_file:
        on_file(path, rows)
    return sorted(paths)


# --- defects, for exercising validation and quarantine ------------------------------------------------
DEFECTS = ("wrong_type", "negative_amount", "value_outside_list", "duplicate_key")
# sheet -> defect -> (header, how the value is spoiled)
_SPOIL = {
    EXPOSURE_SHEET: {
        "wrong_type": ("合同金额(元)", lambda v, prev: f"{_cents(v) / 1_000_000:.1f}万"),
        "negative_amount": ("余额(元)", lambda v, prev: "-" + v),
        "value_outside_list": ("业务品种", lambda v, prev: "融资租赁"),
        "duplicate_key": ("业务编号", lambda v, prev: prev),
    },
    REGISTRY_SHEET: {
        "wrong_type": ("许可日期", lambda v, prev: v.replace("-", "年", 1).replace("-", "月", 1) + "日"),
        "negative_amount": ("注册资本(元)", lambda v, prev: "-" + v),
        "value_outside_list": ("机构类型", lambda v, prev: "融资租赁公司"),
        "duplicate_key": ("机构统一社会信用代码", lambda v, prev: prev),
    },
}


def inject_defects(path: Path, rate: float, seed: int) -> int:
    """Give about ``rate`` of the rows of the client sheet (or of the registry) one defect each, cycling
    through DEFECTS; return how many rows were changed. The 主要指标 sheet is left as it was."""
    wb = openpyxl.load_workbook(path)
    sheet = EXPOSURE_SHEET if EXPOSURE_SHEET in wb.sheetnames else REGISTRY_SHEET
    ws = wb[sheet]
    header = [cell.value for cell in ws[2]]
    rows = list(ws.iter_rows(min_row=3))
    rng = random.Random(f"defects:{seed}:{path.parent.name}/{path.name}")
    n = min(len(rows), max(1 if rate > 0 else 0, round(rate * len(rows))))
    chosen = sorted(rng.sample(range(len(rows)), n))
    for k, i in enumerate(chosen):
        defect = DEFECTS[k % len(DEFECTS)]
        if defect == "duplicate_key" and i == 0:
            defect = "value_outside_list"
        column, spoil = _SPOIL[sheet][defect]
        col = header.index(column)
        previous = rows[i - 1][col].value if i else None
        rows[i][col].value = spoil(rows[i][col].value, previous)
    stamp = wb.properties.created or dt.datetime(2020, 1, 1)
    _save(wb, path, stamp)
    return n
