"""Demo loan-level monthly reports (贷款逐笔明细月报) of Huzhou banks, as they land in ``landing/bank_loans``.

Each bank holds a portfolio that lives across months: loans keep their id and attributes, amortise,
mature, prepay, fall overdue and are written off, and new loans replace them. Enterprise borrowers are
the demo city's enterprises (``world.enterprises``), so every enterprise loan joins to the enterprise
registry by its unified social credit code; individual businesses (个体工商户) keep their own codes.

Two entry points:

- ``generate(landing, scale=, seed=, months=)``, the source-family interface: the city's 12 reporting
  banks, calibrated. At ``scale`` 1 they report about 1.2 million loans a month and every month-end
  figure of ``data/calibration_targets.csv`` (total, green, NPL ratio, green NPL ratio, small and micro,
  manufacturing, medium/long-term and enterprise credit loans; their definitions are in that file) is
  the plan's figure up to rounding to the fen; at scale s every balance figure is s times the plan's, so
  the shares stay and the counts shrink.
- ``generate_bank_loans(landing, months, n_banks, loans_per_bank, seed)``: a given number of loans per
  bank, each bank simulated on its own (a bank's files do not depend on how many banks run); the mix is
  steered towards the targets' shares but the amounts are not calibrated.

How ``generate`` calibrates, month by month (all banks together):

1. Targets: the year-end figures of ``calibration_targets.csv``, interpolated geometrically in between.
2. Steering: the odds of lending green, on credit, for more than a year, to small firms and to
   manufacturers, and the size of new loans, are multiplied by factors that adapt each month, so new
   lending has the mix and the volume the targets need.
3. Problem loans are downgraded, written off or partly recovered so the non-performing balance (and
   the green one) is near its target.
4. Where the old loans alone exceed a segment's target, some borrowers prepay part of a loan; a
   segment that got far too much new lending loses its largest new loans, one that got far too little
   gets more; then the new loans' amounts are raked (iterative proportional fitting over the overlapping
   segments) so the book meets every target. In the first month the whole book is raked so.
5. A last raking gives each cell (a combination of segments) a factor that multiplies the reported
   balances so every figure is met exactly. Thanks to steps 2-4 these factors stay within a few tenths
   of a percent of 1 (from scale 0.005 up), so a loan's balance moves as its schedule says; they are
   bounded to 0.8-1.25, so at tiny scales (a few thousand loans) a figure can miss by a few percent.

Deterministic: every bank draws from its own ``random.Random`` seeded by (seed, bank code) as a string,
the calibration from (seed, "calibration"); the same arguments give byte-identical files. A month's
files depend on the first month generated, since the books are simulated from there.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import accumulate
from pathlib import Path

from pipelines.demo import codes, world
from pipelines.demo.codes import WeightedChoice
from pipelines.demo.files import read_csv, write_csv
from pipelines.demo.months import add_months as _add_months
from pipelines.demo.months import month_end as _month_end
from pipelines.demo.months import month_index as _month_index
from pipelines.demo.months import month_str as _month_str
from pipelines.demo.world import BANKS, Bank, Enterprise

__all__ = ["BANKS", "DEFECTS", "HEADER", "generate", "generate_bank_loans", "inject_defects", "plan_targets"]

ENCODING = "gb18030"
HEADER = (
    "报告期", "金融机构代码", "金融机构名称", "贷款编号", "借款人类型", "借款人证件号码", "行业代码",
    "区县代码", "贷款产品", "担保方式", "放款日期", "到期日期", "执行利率(%)", "贷款余额(元)", "五级分类",
    "逾期天数", "是否首贷", "是否无还本续贷", "是否绿色贷款", "绿色贷款用途分类", "绿色分类标准版本",
    "项目总投资(元)", "项目年碳减排量(吨)", "是否碳减排支持工具",
)  # fmt: skip
YES, NO = "是", "否"
CATEGORIES = ("正常", "关注", "次级", "可疑", "损失")  # index = severity

# Green loans are classified under the Green Industry Guidance Catalogue (2019), the basis of the PBoC's
# green-loan statistics; the 2021 Green Bond Endorsed Projects Catalogue is for bonds. The Green Finance
# Endorsed Project Catalogue (GFEPC2025) applies to loans from 2025-10-01; the demo does not reclassify its
# last quarter's loans under it (its item codes are not in our reference data yet).
LOAN_TAXONOMY = "GICG2019"
# The carbon-emission-reduction facility was launched in November 2021.
CRF_FROM = dt.date(2021, 11, 1)


# --- months ------------------------------------------------------------------------------------------------
def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _fixed4(value: int) -> str:  # value in 1/10000 units
    return f"{value // 10000}.{value % 10000:04d}"


# --- calibration targets --------------------------------------------------------------------------------
TARGETS_FILE = "data/calibration_targets.csv"
# Segment bits of a loan; a loan's cell is the combination of its bits (plus NPL_BIT while non-performing).
GREEN, SMALL_MICRO, MANUFACTURING, MEDIUM_LONG, CREDIT = 1, 2, 4, 8, 16
NPL_BIT = 32
CELLS = 64
SEGMENTS = {
    GREEN: "green_loans",
    SMALL_MICRO: "small_micro_loans",
    MANUFACTURING: "manufacturing_loans",
    MEDIUM_LONG: "medium_long_term_loans",
    CREDIT: "enterprise_credit_loans",
}
INDICATORS = ("loans_total", *SEGMENTS.values(), "npl_ratio_pct", "green_npl_ratio_pct")
FEN_PER_100M_YUAN = 10**10  # the CSV's amounts are in 亿元 (10^8 yuan); balances are in fen


@cache
def _anchors() -> dict[str, tuple[tuple[int, float], ...]]:
    """indicator -> ((month index, value), ...) from the year-end rows of the targets file."""
    text = resources.files(__package__).joinpath(TARGETS_FILE).read_text("utf-8")
    points: dict[str, list[tuple[int, float]]] = {name: [] for name in INDICATORS}
    for row in csv.DictReader(text.splitlines()):
        if row["indicator"] in points and re.fullmatch(r"\d{4}-\d{2}", row["period"]):
            points[row["indicator"]].append((_month_index(row["period"]), float(row["value_100m_yuan_or_pct"])))
    return {name: tuple(sorted(p)) for name, p in points.items()}


def _interpolate(points: tuple[tuple[int, float], ...], month: int) -> float:
    """Geometric interpolation between the anchors; beyond them, the nearest interval's growth goes on."""
    i = min(max(bisect(points, (month, float("inf"))), 1), len(points) - 1)
    (a, va), (b, vb) = points[i - 1], points[i]
    if month in (a, b):
        return va if month == a else vb
    return va * (vb / va) ** ((month - a) / (b - a))


def plan_targets(month: str) -> dict[str, float]:
    """Each indicator's target at the end of ``month`` (YYYY-MM) at scale 1: 亿元, or percent for ratios."""
    index = _month_index(month)
    return {name: _interpolate(points, index) for name, points in _anchors().items()}


@dataclass(frozen=True)
class _Targets:
    """A month's targets in fen at the generation's scale."""

    total: float
    segments: dict[int, float]
    npl: float
    green_npl: float

    def share(self, bit: int) -> float:
        return self.segments[bit] / self.total


@cache
def _targets(month: int, scale: float) -> _Targets:
    t = plan_targets(_month_str(month))
    fen = FEN_PER_100M_YUAN * scale
    total = t["loans_total"] * fen
    segments = {bit: t[name] * fen for bit, name in SEGMENTS.items()}
    return _Targets(total, segments, total * t["npl_ratio_pct"] / 100,
                    segments[GREEN] * t["green_npl_ratio_pct"] / 100)  # fmt: skip


# --- the city's loan book -------------------------------------------------------------------------------
# Loans reported per month by the 12 banks at scale 1 at the end of 2020, and the growth of that count
# per month (about 1.15 million in 2019-01, 1.36 million in 2025-12). Assumptions of the demo.
ROWS_AT_SCALE_1 = 1_200_000
ROWS_ANCHOR = 2020 * 12 + 11  # 2020-12
ROWS_GROWTH = 1.002
# Loan sizes at origination grow with incomes and prices (assumption); the calibration does the rest.
AMOUNT_GROWTH = 1.07  # per year, from the end of 2020
# Each bank's share of the city's loans (count and balance): an assumption, largest banks first.
BANK_SHARES = {
    "C1331330500001": 0.11, "C1030330500001": 0.13, "C1020330500001": 0.13, "C1050330500001": 0.11,
    "C1402330502001": 0.07, "C1402330523001": 0.07, "C1040330500001": 0.08, "C1402330521001": 0.07,
    "C1402330522001": 0.07, "C1402330503001": 0.06, "C1301330500001": 0.05, "C1316330500001": 0.05,
}  # fmt: skip


def _bank_rows(bank: Bank, month: int, scale: float) -> float:
    share = BANK_SHARES.get(bank.code, 1 / len(BANKS))
    return ROWS_AT_SCALE_1 * scale * share * ROWS_GROWTH ** (month - ROWS_ANCHOR)


@dataclass(frozen=True)
class Profile:
    """A kind of loan: who borrows, what for, how much, how long, how secured and priced."""

    borrower_type: str
    product: str
    stock_weight: float  # share of outstanding loans by count
    terms: tuple[int, ...]  # months, drawn uniformly
    amortising: bool  # equal principal instalments; otherwise repaid at maturity
    median_yuan: float
    sigma: float
    min_yuan: float
    max_yuan: float
    guarantees: WeightedChoice
    green_prob: float
    spread_bp: tuple[int, int]  # over the LPR of the term (1-year up to 5 years, 5-year beyond)
    industry: WeightedChoice | str | None  # None: consumer loans carry no industry; enterprises: the registry's
    default_prob: float  # monthly probability that a performing loan falls overdue
    first_loan_prob: float


def _g(**weights: float) -> WeightedChoice:
    return WeightedChoice(weights)


# By balance, about: enterprises 58%, individual businesses 8%, individuals 31% (housing 22%), farmers 3%,
# close to the loan structure of a Zhejiang prefecture city; the calibration fixes the segments exactly.
PROFILES = (
    Profile("企业", "流动资金贷款", 7, (12, 12, 12, 12, 24, 36), False, 1.5e6, 0.8, 1e5, 1e8,
            _g(保证=0.44, 抵押=0.41, 质押=0.08, 信用=0.07), 0.10, (-20, 200), None, 0.003, 0.06),
    Profile("企业", "固定资产贷款", 1.6, (36, 48, 60, 84, 96, 120), True, 5e6, 0.7, 5e5, 1.5e8,
            _g(抵押=0.62, 保证=0.28, 质押=0.06, 信用=0.04), 0.30, (-30, 150), None, 0.002, 0.03),
    Profile("企业", "项目贷款", 0.6, (60, 96, 120, 180, 240), True, 1.5e7, 0.6, 3e6, 3e8,
            _g(抵押=0.45, 质押=0.30, 保证=0.21, 信用=0.04), 0.50, (-40, 100), None, 0.0015, 0.02),
    Profile("个体工商户", "个人经营贷款", 18, (12, 12, 24, 36, 60), False, 1.7e5, 0.8, 3e4, 5e6,
            _g(抵押=0.50, 保证=0.37, 信用=0.13), 0.03, (50, 350), codes.SMALL_BUSINESS_SECTIONS,
            0.004, 0.08),
    Profile("个人", "个人住房贷款", 20, (120, 180, 240, 300, 360), True, 1e6, 0.45, 2e5, 6e6,
            _g(抵押=1.0), 0.0, (40, 120), None, 0.001, 0.0),
    Profile("个人", "个人消费贷款", 16, (12, 24, 36, 60), True, 1e5, 0.7, 1e4, 1e6,
            _g(信用=0.85, 保证=0.15), 0.0, (100, 800), None, 0.003, 0.0),
    Profile("个人", "个人汽车贷款", 5, (12, 24, 36, 60), True, 1.6e5, 0.5, 3e4, 8e5,
            _g(抵押=0.9, 保证=0.1), 0.0, (100, 400), None, 0.002, 0.0),
    Profile("个人", "个人经营贷款", 8, (12, 24, 36, 60), False, 2.5e5, 0.8, 3e4, 3e6,
            _g(抵押=0.50, 保证=0.35, 信用=0.15), 0.0, (50, 350), codes.SMALL_BUSINESS_SECTIONS,
            0.004, 0.05),
    Profile("农户", "农户小额贷款", 16, (12, 24, 36), False, 4.5e4, 0.5, 1e4, 3e5,
            _g(信用=0.55, 保证=0.45), 0.04, (150, 450), "A", 0.003, 0.05),
    Profile("农户", "农户生产经营贷款", 7, (12, 24, 36, 60), False, 1.5e5, 0.6, 5e4, 2e6,
            _g(保证=0.50, 抵押=0.40, 信用=0.10), 0.06, (100, 350), "A", 0.003, 0.05),
)  # fmt: skip
SMALL_BUSINESS_PROFILE = PROFILES[3]  # an enterprise loan with no registry firm to lend to becomes one of these
RENEWABLE_PRODUCTS = ("流动资金贷款", "个人经营贷款")

# Enterprise borrowers by registry size class: the odds that a firm of the class takes a given loan and the
# multiple of the profile's typical amount it borrows (larger firms borrow more and more often), and the
# odds of an unsecured (信用) loan. Assumptions of the demo.
SIZE_ODDS = {"大型": 15.0, "中型": 6.0, "小型": 1.6, "微型": 0.8}
SIZE_AMOUNT = {"大型": 3.0, "中型": 1.5, "小型": 0.8, "微型": 0.4}
# 42% of the registry's firms are manufacturers, but manufacturing took 14.8% of Huzhou's loans in 2020.
MANUFACTURING_ODDS = 0.45
SIZE_CREDIT_ODDS = {"大型": 3.0, "中型": 1.5, "小型": 0.7, "微型": 0.5}
SMALL_FIRMS = ("小型", "微型")
# Odds of green lending by the borrower's industry section (power, environment and water lend green most).
SECTION_GREEN_ODDS = {"D": 3.0, "N": 3.0, "E": 1.5, "A": 1.5, "G": 1.2, "C": 1.0}
OTHER_SECTION_GREEN_ODDS = 0.4
# County rural commercial banks lend more to small firms and farmers; the Agricultural Bank to farmers.
RURAL_SMALL_FIRM_TILT = 1.5
FARMER_TILT = {"rural": 2.5, "农业银行湖州分行": 1.5, "other": 0.4}

# Loan prime rates (LPR, in 1/10000 %) from their effective month; before the August 2019 reform the
# benchmark rates 4.35% (1 year) and 4.90% (over 5 years) applied.
_LPR = (
    ((2019, 8), 42500, 48500), ((2019, 9), 42000, 48500), ((2019, 11), 41500, 48000),
    ((2020, 2), 40500, 47500), ((2020, 4), 38500, 46500), ((2021, 12), 38000, 46500),
    ((2022, 1), 37000, 46000), ((2022, 5), 37000, 44500), ((2022, 8), 36500, 43000),
    ((2023, 6), 35500, 42000), ((2023, 8), 34500, 42000), ((2024, 2), 34500, 39500),
    ((2024, 7), 33500, 38500), ((2024, 10), 31000, 36000), ((2025, 5), 30000, 35000),
)  # fmt: skip

# Monthly transition probabilities of the credit-quality simulation; with them NPL sits near 0.5-1%.
CURE_EARLY = 0.35  # an overdue loan (<= 90 days) is brought current
CURE_LATE = 0.03
RESOLVE_NPL = 0.10  # a non-performing loan is written off, sold or recovered and leaves the book
PREPAY = 0.004
WATCH_WITHOUT_ARREARS = 0.001  # a performing loan is put on the watch list (关注) without being overdue
WATCH_RELEASE = 0.25
RENEW = 0.2  # a maturing working-capital loan is renewed without principal repayment (无还本续贷)
GREEN_DEFAULT_FACTOR = 0.02  # green loans fall overdue far less often (green NPL 0.005% in 2020)
GREEN_RATE_DISCOUNT_BP = 15
CRF_SHARE = 0.6  # of eligible green loans, those the bank refinances with the facility
CRF_PRODUCTS = ("固定资产贷款", "项目贷款")  # the facility refinances loans to identified projects
# Tolerance of the non-performing controls before the last raking makes the figures exact.
NPL_BAND = (0.985, 1.015)
GREEN_NPL_BAND = (0.85, 1.15)
# Bounds of the last raking's factors. Within them at every scale the tests use (the factors stay within a
# few percent of 1); at tiny scales (a few hundred loans) they bind, and the figures are only near target.
# The upper bound keeps a green loan's balance under its project's investment (the loan finances <= 80%).
FACTOR_BAND = (0.8, 1.25)


@cache
def lpr_of_month(year: int, month: int, long_term: bool) -> int:
    rate = (0, 43500, 49000)
    for entry in _LPR:
        if (year, month) >= entry[0]:
            rate = entry
    return rate[2] if long_term else rate[1]


def _lpr(day: dt.date, long_term: bool) -> int:
    return lpr_of_month(day.year, day.month, long_term)


@cache
def _amount_trend(month: int) -> float:
    return AMOUNT_GROWTH ** ((month - ROWS_ANCHOR) / 12)


def _round_amount(cents: float) -> int:
    """Contracts are signed for round amounts: 10,000 yuan from a million, 1,000 below."""
    step = 1_000_000 if cents >= 100_000_000 else 100_000
    return max(step, round(cents / step) * step)


@cache
def _term_split(profile: Profile) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return tuple(t for t in profile.terms if t <= 12), tuple(t for t in profile.terms if t > 12)


@cache
def _credit_split(profile: Profile) -> tuple[float, WeightedChoice | None]:
    """(weight of 信用 among the profile's guarantees, a choice among the others)."""
    choice = profile.guarantees
    previous = [0.0, *choice.cum[:-1]]
    weights = {v: c - p for v, p, c in zip(choice.values, previous, choice.cum, strict=True)}
    credit = weights.pop("信用", 0.0) / choice.total
    return credit, (WeightedChoice(weights) if weights else None)


@cache
def _green_choice(section: str) -> WeightedChoice:
    """Green uses a firm of the section typically borrows for (retrofits and green buildings for any)."""
    weights = {code: w for code, (w, industries) in codes.GREEN_CATEGORIES.items()
               if any(i[0] == section for i in industries)}  # fmt: skip
    return WeightedChoice(weights or {"1.5.1": 1.0, "5.1.2": 1.0})


def _can_lend_into(p: Profile, bit: int) -> bool:
    """Whether a loan of profile ``p`` can fall in the segment ``bit``."""
    if bit == GREEN:
        return p.green_prob > 0
    if bit == CREDIT:
        return p.borrower_type == "企业"
    if bit == SMALL_MICRO:
        return p.borrower_type in ("企业", "个体工商户")
    if bit == MANUFACTURING:
        return p.borrower_type == "企业" or p.industry is codes.SMALL_BUSINESS_SECTIONS
    return any(term > 12 for term in p.terms)


class _Loan:
    """One loan: what never changes is pre-formatted once, the rest moves month by month."""

    __slots__ = ("amortising", "balance", "cat", "days", "green", "head", "mask", "maturity", "orig_cents",
                 "orig_index", "profile", "tail", "term", "until")  # fmt: skip

    def __init__(self, profile: Profile, head: tuple[str, ...], tail: tuple[str, ...], orig_date: dt.date,
                 maturity: dt.date, term: int, orig_cents: int, mask: int, until: dt.date | None,
                 green: tuple | None) -> None:  # fmt: skip
        self.profile = profile
        self.head = head  # loan id ... interest rate
        self.tail = tail  # first-loan flag ... facility flag (only the first two until finish())
        self.orig_index = orig_date.year * 12 + orig_date.month - 1
        self.maturity = maturity
        self.term = term
        self.amortising = profile.amortising
        self.orig_cents = orig_cents
        self.balance = orig_cents
        self.days = 0
        self.cat = 0
        self.mask = mask  # segment bits
        self.until = until  # the borrower's deregistration: the loan is settled before it
        self.green = green  # (category, taxonomy version, facility?, loan % of project, t CO2e per million yuan)

    def schedule(self, month: int) -> int:
        """Principal outstanding at the end of ``month`` if every instalment has been paid."""
        if not self.amortising:
            return self.orig_cents
        paid = month - self.orig_index
        return self.orig_cents - self.orig_cents * paid // self.term

    def finish(self) -> None:
        """Format the green columns once the amount is final (the project's size follows from it)."""
        if self.green is None:
            self.tail = (*self.tail[:2], NO, "", "", "", "", NO)
            return
        category, version, crf, percent, intensity = self.green
        investment = -(-self.orig_cents * 100 // percent)  # the loan finances `percent` of the project
        investment = -(-investment // 1_000_000) * 1_000_000  # rounded up to 10,000 yuan
        co2e = max(1, round(investment / 1e8 * intensity * 10_000))  # 1/10000 t
        self.tail = (*self.tail[:2], YES, category, version, _money(investment), _fixed4(co2e), YES if crf else NO)

    def cell(self) -> int:
        return self.mask | NPL_BIT if self.cat >= 2 else self.mask

    def row(self, prefix: tuple[str, ...], cents: int) -> tuple[str, ...]:
        return (*prefix, *self.head, _money(cents), CATEGORIES[self.cat], str(self.days), *self.tail)


def _floor_category(days: int) -> int:
    """Least severe category allowed for the days overdue (risk classification rule, 2023)."""
    if days > 360:
        return 4
    if days > 270:
        return 3
    if days > 90:
        return 2
    return 1 if days > 0 else 0


class _Registry:
    """The world's enterprises, grouped by district and then by (size class, manufacturing or not)."""

    def __init__(self, firms: Sequence[Enterprise]) -> None:
        self.firms = tuple(firms)
        self.groups: dict[str, dict[tuple[str, bool], list[Enterprise]]] = {d: {} for d in codes.DISTRICTS}
        for firm in self.firms:
            key = (firm.size, firm.industry_code[0] == "C")
            self.groups.setdefault(firm.district_code, {}).setdefault(key, []).append(firm)


class _Steering:
    """Multipliers on the odds of lending into each segment, adapted so new lending has the mix needed."""

    def __init__(self) -> None:
        self.boost = dict.fromkeys(SEGMENTS, 1.0)
        self.level = 1.0  # multiplies new loans' amounts, so new lending has the volume the targets need
        self.version = 0
        # While opening books: the target shares and the running balance by segment so far.
        self.open_shares: dict[int, float] | None = None
        self.open_every = 200
        self._seen = 0
        self._sums = dict.fromkeys(SEGMENTS, 0.0)
        self._total = 0.0

    def adjust(self, wanted: dict[int, float], got: dict[int, float], gain: float) -> None:
        """Move each boost by (wanted share / share got) ** gain."""
        for bit, share in wanted.items():
            ratio = share / got[bit] if got[bit] > 0 else 4.0
            self.boost[bit] = min(max(self.boost[bit] * ratio**gain, 0.05), 20.0)
        self.version += 1

    def observe(self, loan: _Loan) -> None:
        """Opening a book: steer towards the target shares by the balance drawn so far."""
        if self.open_shares is None:
            return
        self._total += loan.balance
        for bit in SEGMENTS:
            if loan.mask & bit:
                self._sums[bit] += loan.balance
        self._seen += 1
        if self._seen % self.open_every == 0 and self._total > 0:
            self.adjust(self.open_shares, {b: s / self._total for b, s in self._sums.items()}, 0.3)


class _Portfolio:
    """A bank's book, simulated month by month with the bank's own random stream."""

    def __init__(self, bank: Bank, seed: int, registry: _Registry, steering: _Steering) -> None:
        self.bank = bank
        self.rng = random.Random(f"bank_loans:{seed}:{bank.code}")
        self.registry = registry
        self.steering = steering
        self.seq = 0
        if bank.home_district:
            weights = {d: 0.2 * w for d, w in codes.DISTRICT_WEIGHTS.items()}
            weights[bank.home_district] += 0.8
        else:
            weights = dict(codes.DISTRICT_WEIGHTS)
        self.districts = WeightedChoice(weights)
        rural = bank.name.endswith("农商银行")
        self.small_firm_tilt = RURAL_SMALL_FIRM_TILT if rural else 1.0
        farm = FARMER_TILT["rural"] if rural else FARMER_TILT.get(bank.name, FARMER_TILT["other"])
        stock = [p.stock_weight * (farm if p.borrower_type == "农户" else 1.0) for p in PROFILES]
        self.stock_cum = list(accumulate(stock))
        # New loans are weighted by how often they are granted: stock weight over the average term.
        flow = [w * len(p.terms) / sum(p.terms) for w, p in zip(stock, PROFILES, strict=True)]
        self.flow_cum = list(accumulate(flow))
        # The same, restricted to the profiles that can lend into each segment (see lend_into).
        self.segment_flow_cum = {
            bit: list(accumulate(w if _can_lend_into(p, bit) else 0.0 for w, p in zip(flow, PROFILES, strict=True)))
            for bit in SEGMENTS
        }
        self.loans: list[_Loan] = []
        self._choices: dict[str, WeightedChoice] = {}
        self._choices_version = -1

    # -- origination -----------------------------------------------------------------------------------
    def _firm_choices(self) -> dict[str, WeightedChoice]:
        steering = self.steering
        if self._choices_version != steering.version:
            boost = steering.boost
            self._choices = {}
            for district, groups in self.registry.groups.items():
                weights = {}
                for key, firms in groups.items():
                    size, manufacturing = key
                    weight = len(firms) * SIZE_ODDS[size]
                    if manufacturing:
                        weight *= MANUFACTURING_ODDS * boost[MANUFACTURING]
                    if size in SMALL_FIRMS:
                        weight *= self.small_firm_tilt * boost[SMALL_MICRO]
                    weights[key] = weight
                if weights:
                    self._choices[district] = WeightedChoice(weights)
            self._choices_version = steering.version
        return self._choices

    def _pick_firm(self, district: str, orig: dt.date, horizon: dt.date) -> Enterprise | None:
        """A registry firm of ``district`` active on ``orig`` and still registered at ``horizon``."""
        rng = self.rng
        choice = self._firm_choices().get(district)
        if choice is not None:
            groups = self.registry.groups[district]
            for _ in range(12):
                firms = groups[choice(rng)]
                firm = firms[int(rng.random() * len(firms))]
                if firm.established <= orig and (firm.deregistered is None or firm.deregistered > horizon):
                    return firm
        # Rarely (small scales, early dates): any firm registered by the horizon, from a random start.
        firms = self.registry.firms
        start = int(rng.random() * len(firms))
        for i in range(len(firms)):
            firm = firms[(start + i) % len(firms)]
            if firm.established <= horizon and (firm.deregistered is None or firm.deregistered > horizon):
                return firm
        return None

    def _term(self, p: Profile) -> int:
        rng = self.rng
        short, long = _term_split(p)
        if not short or not long:
            return rng.choice(p.terms)
        long_odds = len(long) * self.steering.boost[MEDIUM_LONG]
        return rng.choice(long if rng.random() * (long_odds + len(short)) < long_odds else short)

    def _guarantee(self, p: Profile, firm: Enterprise | None) -> str:
        if firm is None:
            return p.guarantees(self.rng)
        credit, others = _credit_split(p)
        odds = credit * self.steering.boost[CREDIT] * SIZE_CREDIT_ODDS[firm.size]
        if others is None or self.rng.random() * (odds + 1 - credit) < odds:
            return "信用"
        return others(self.rng)

    def _amount_cents(self, p: Profile, orig: dt.date, firm: Enterprise | None) -> int:
        size = SIZE_AMOUNT[firm.size] if firm else 1.0
        trend = _amount_trend(orig.year * 12 + orig.month - 1) * self.steering.level
        yuan = min(max(p.median_yuan * size * trend * self.rng.lognormvariate(0.0, p.sigma), p.min_yuan),
                   p.max_yuan)  # fmt: skip
        return _round_amount(yuan * 100)

    def _green(self, p: Profile, orig: dt.date, firm: Enterprise | None) -> tuple[tuple, str]:
        """(green parameters, industry) of a green loan."""
        rng = self.rng
        if firm is not None:
            category = _green_choice(firm.industry_code[0])(rng)
            industry = firm.industry_code
        else:  # farmers borrow green for ecological farming only
            category = "4.1.2" if p.borrower_type == "农户" else codes.SMALL_GREEN_CATEGORY_CHOICE(rng)
            industry = rng.choice(codes.GREEN_CATEGORIES[category][1])
        version = LOAN_TAXONOMY
        crf = (orig >= CRF_FROM and category[0] in codes.CRF_FIRST_LEVELS and p.product in CRF_PRODUCTS
               and rng.random() < CRF_SHARE)  # fmt: skip
        # The loan finances 30-80% of the project; the project's annual reduction per million yuan invested.
        intensity = codes.CO2E_T_PER_MILLION_YUAN[category[0]] * rng.lognormvariate(0.0, 0.5)
        return (category, version, crf, rng.randint(30, 80), intensity), industry

    def _rate(self, p: Profile, orig: dt.date, term: int, green: bool, crf: bool) -> str:
        lpr = _lpr(orig, term > 60)
        if crf:  # the facility asks for rates close to the 1-year LPR
            return _fixed4(_lpr(orig, False) + self.rng.randrange(-10, 11, 5) * 100)
        spread = self.rng.randrange(p.spread_bp[0], p.spread_bp[1] + 1, 5)
        if green:
            spread -= GREEN_RATE_DISCOUNT_BP
        return _fixed4(max(lpr + spread * 100, 5000))

    def _new_loan(self, p: Profile, orig: dt.date, horizon: dt.date, term: int | None = None) -> _Loan:
        """A loan granted on ``orig`` that is still on the book at ``horizon`` (a month end)."""
        rng = self.rng
        district = self.districts(rng)
        firm = None
        if p.borrower_type == "企业":
            firm = self._pick_firm(district, orig, horizon)
            if firm is None:
                p = SMALL_BUSINESS_PROFILE
            else:
                district, orig = firm.district_code, max(orig, firm.established)
        term = self._term(p) if term is None else term
        self.seq += 1
        loan_id = f"{self.bank.loan_prefix}{orig:%Y%m%d}{self.seq:08d}"
        cents = self._amount_cents(p, orig, firm)
        section_odds = SECTION_GREEN_ODDS.get(firm.industry_code[0], OTHER_SECTION_GREEN_ODDS) if firm else 1.0
        green = None
        if rng.random() < p.green_prob * self.steering.boost[GREEN] * section_odds:
            green, industry = self._green(p, orig, firm)
        elif firm is not None:
            industry = firm.industry_code
        else:
            industry = codes.pick_industry(rng, p.industry) if p.industry else ""
        guarantee = self._guarantee(p, firm)
        first = YES if rng.random() < p.first_loan_prob else NO
        rate = self._rate(p, orig, term, green is not None, bool(green and green[2]))
        if firm is not None:
            borrower_id = firm.uscc
        elif p.borrower_type == "个体工商户":
            borrower_id = codes.make_uscc(rng, district, codes.USCC_INDIVIDUAL_BUSINESS)
        else:
            borrower_id = codes.masked_person_id(rng, district)
        maturity = _add_months(orig, term)
        head = (loan_id, p.borrower_type, borrower_id, industry, district, p.product, guarantee,
                orig.isoformat(), maturity.isoformat(), rate)  # fmt: skip
        mask = ((GREEN if green else 0)
                | (SMALL_MICRO if p.borrower_type == "个体工商户" or (firm and firm.size in SMALL_FIRMS) else 0)
                | (MANUFACTURING if industry[:1] == "C" else 0)
                | (MEDIUM_LONG if term > 12 else 0)
                | (CREDIT if firm and guarantee == "信用" else 0))  # fmt: skip
        until = firm.deregistered if firm else None
        return _Loan(p, head, (first, NO), orig, maturity, term, cents, mask, until, green)

    def _renewal(self, old: _Loan, orig: dt.date) -> _Loan:
        """Same borrower, amount and terms, re-granted on the old loan's maturity date."""
        self.seq += 1
        h, t = old.head, old.tail
        loan_id = f"{self.bank.loan_prefix}{orig:%Y%m%d}{self.seq:08d}"
        green_tail = t[2:]
        crf = False
        if green_tail[0] == YES:
            category = green_tail[1]
            version = LOAN_TAXONOMY
            crf = (orig >= CRF_FROM and category[0] in codes.CRF_FIRST_LEVELS and old.profile.product in CRF_PRODUCTS
                   and self.rng.random() < CRF_SHARE)  # fmt: skip
            green_tail = (YES, category, version, green_tail[3], green_tail[4], YES if crf else NO)
        rate = self._rate(old.profile, orig, old.term, green_tail[0] == YES, crf)
        maturity = _add_months(orig, old.term)
        head = (loan_id, *h[1:7], orig.isoformat(), maturity.isoformat(), rate)
        loan = _Loan(old.profile, head, (NO, YES, *green_tail), orig, maturity, old.term, old.orig_cents,
                     old.mask, old.until, old.green)  # fmt: skip
        return loan

    def _random_day(self, month: int) -> dt.date:
        end = _month_end(month)
        return end.replace(day=self.rng.randint(1, end.day))

    # -- simulation ------------------------------------------------------------------------------------
    def open(self, month: int, size: int) -> None:
        """The book at the end of ``month``: ``size`` loans of every age, some already in arrears."""
        rng, end = self.rng, _month_end(month)
        for p in rng.choices(PROFILES, cum_weights=self.stock_cum, k=size):
            term = self._term(p)
            age = rng.randrange(min(term, 180))  # whole months since the origination month
            loan = self._new_loan(p, self._random_day(month - age), end, term)
            renewable = loan.profile.product in RENEWABLE_PRODUCTS and loan.profile.borrower_type != "个人"
            if renewable and rng.random() < 0.06:
                loan.tail = (NO, YES)
            loan.balance = loan.schedule(month)
            # Start near the simulation's steady state: ~0.7% non-performing, ~0.6% in early arrears;
            # green loans perform.
            draw = rng.random()
            if loan.green is None and draw < 0.007:
                loan.days = rng.randint(91, 720)
            elif loan.green is None and draw < 0.013:
                loan.days = rng.randint(1, 90)
            loan.days = min(loan.days, (end - dt.date.fromisoformat(loan.head[7])).days)
            loan.cat = _floor_category(loan.days)
            if loan.days == 0 and draw > 0.99:
                loan.cat = 1
            self.loans.append(loan)
            self.steering.observe(loan)

    def age(self, month: int) -> None:
        """Move the book from the end of the previous month to the end of ``month``, before new lending."""
        rng, end = self.rng, _month_end(month)
        days_in_month = end.day
        previous_end = _month_end(month - 1)
        kept: list[_Loan] = []
        renewals: list[_Loan] = []
        for loan in self.loans:
            if loan.until is not None and loan.until <= end:
                continue  # settled before the borrower was deregistered
            r = rng.random()
            if loan.days > 0:
                if r < (CURE_EARLY if loan.days <= 90 else CURE_LATE):
                    loan.days, loan.cat = 0, 1  # cured, but watched for a while
                    loan.balance = min(loan.balance, loan.schedule(month))
                elif loan.days > 90 and r > 1 - RESOLVE_NPL:
                    continue  # written off or recovered
                else:
                    loan.days += days_in_month
                    loan.cat = max(loan.cat, _floor_category(loan.days))
                kept.append(loan)
                continue
            if loan.maturity <= end and loan.cat >= 2:  # a non-performing loan is not repaid at maturity
                loan.days = max(1, (end - loan.maturity).days)
                loan.cat = max(loan.cat, _floor_category(loan.days))
                kept.append(loan)
                continue
            if loan.maturity <= end:  # repaid at maturity, sometimes renewed
                p = loan.profile
                if (p.product in RENEWABLE_PRODUCTS and p.borrower_type != "个人" and r < RENEW
                        and loan.maturity > previous_end):  # fmt: skip
                    renewals.append(self._renewal(loan, loan.maturity))
                continue
            if r < PREPAY:
                continue
            default = loan.profile.default_prob * (GREEN_DEFAULT_FACTOR if loan.mask & GREEN else 1.0)
            if r < PREPAY + default:
                loan.days = rng.randint(1, days_in_month)
                loan.cat = 2 if rng.random() < 0.1 else max(loan.cat, 1)
            elif loan.cat == 1 and r > 1 - WATCH_RELEASE:
                loan.cat = 0
            elif loan.cat == 0 and r > 1 - WATCH_WITHOUT_ARREARS:
                loan.cat = 1
            if loan.days == 0:  # an instalment paid (a loan prepaid ahead of its schedule stays lower)
                loan.balance = min(loan.balance, loan.schedule(month))
            kept.append(loan)
        kept.extend(renewals)
        self.loans = kept

    def lend(self, month: int, target: float) -> list[_Loan]:
        """New loans of ``month`` that bring the book to about ``target`` loans; they are returned unfinished."""
        rng, end = self.rng, _month_end(month)
        wanted = round(target * (1 + rng.uniform(-0.01, 0.01)))
        profiles = rng.choices(PROFILES, cum_weights=self.flow_cum, k=max(0, wanted - len(self.loans)))
        new = [self._new_loan(p, self._random_day(month), end) for p in profiles]
        self.loans.extend(new)
        return new

    def lend_into(self, month: int, bit: int) -> _Loan | None:
        """One more new loan of ``month`` in the segment ``bit`` (drawn until one falls in it)."""
        rng, end = self.rng, _month_end(month)
        cum = self.segment_flow_cum[bit]
        for _ in range(200):
            loan = self._new_loan(rng.choices(PROFILES, cum_weights=cum)[0], self._random_day(month), end)
            if loan.mask & bit:
                self.loans.append(loan)
                return loan
        return None


# --- calibration ------------------------------------------------------------------------------------------
def _cell_sums(loans: Iterable[_Loan]) -> list[float]:
    sums = [0.0] * CELLS
    for loan in loans:
        sums[loan.mask | NPL_BIT if loan.cat >= 2 else loan.mask] += loan.balance
    return sums


Margin = tuple[list[int], float, list[int], float]  # cells in, their target, cells out, theirs


def _rake(sums: list[float], margins: list[Margin], rounds: int = 1000) -> list[float]:
    """Iterative proportional fitting: a factor per cell so that each margin's cells sum to its targets."""
    factors = [1.0] * len(sums)
    for _ in range(rounds):
        worst = 0.0
        for cells_in, target_in, cells_out, target_out in margins:
            for cells, target in ((cells_in, target_in), (cells_out, target_out)):
                if not cells:
                    continue
                ratio = target / sum(factors[c] * sums[c] for c in cells)
                worst = max(worst, abs(ratio - 1))
                for c in cells:
                    factors[c] *= ratio
        if worst < 1e-13:
            break
    return factors


def _binary(cells: list[int], bit: int, target: float, total: float) -> Margin | None:
    cells_in = [c for c in cells if c & bit]
    cells_out = [c for c in cells if not c & bit]
    if not cells_in or not cells_out or not 0 < target < total:
        return None  # nothing to scale (a tiny book), or a target no book can meet
    return cells_in, target, cells_out, total - target


def _book_margins(sums: list[float], t: _Targets) -> list[Margin]:
    """Every target as a margin over the cells present: total, segments, NPL, green NPL (within green)."""
    cells = [c for c in range(CELLS) if sums[c] > 0]
    margins = [(cells, t.total, [], 0.0)]
    for bit, target in (*t.segments.items(), (NPL_BIT, t.npl)):
        margins.append(_binary(cells, bit, target, t.total))
    green = [c for c in cells if c & GREEN]
    green_npl = sum(sums[c] for c in green if c & NPL_BIT)
    if green_npl > 0:
        # Green NPL is a handful of loans: met within a band around what the book holds, not at any price.
        raw = green_npl / sum(sums[c] for c in green) * t.segments[GREEN]
        target = min(max(t.green_npl, GREEN_NPL_BAND[0] * raw), GREEN_NPL_BAND[1] * raw)
        margins.append(_binary(green, NPL_BIT, target, t.segments[GREEN]))
    return [m for m in margins if m is not None]


def _control_npl(books: list[_Portfolio], t: _Targets, rng: random.Random) -> None:
    """Downgrade problem loans, or write off or partly recover bad ones, until green NPL, then NPL, are
    near their targets."""
    removed: set[int] = set()
    for green in (True, False):
        loans = [loan for book in books for loan in book.loans if id(loan) not in removed]
        if not loans:
            return
        low, high = (bound * (t.green_npl if green else t.npl) for bound in (GREEN_NPL_BAND if green else NPL_BAND))
        bad = [loan for loan in loans if loan.cat >= 2 and (not green or loan.mask & GREEN)]
        current = sum(loan.balance for loan in bad)
        bad = [loan for loan in bad if green or not loan.mask & GREEN]  # green ones only in the green pass
        if current > high:  # write off or sell the longest overdue first
            for loan in sorted(bad, key=lambda x: (-x.days, x.head[0])):
                if current <= high:
                    break
                if loan.balance <= current - low:
                    removed.add(id(loan))
                    current -= loan.balance
            # then recover part of the largest (collateral sold, a guarantor pays)
            for loan in sorted((x for x in bad if id(x) not in removed), key=lambda x: (-x.balance, x.head[0])):
                if current <= high:
                    break
                cut = min(round(current - (low + high) / 2), loan.balance * 9 // 10)
                loan.balance -= cut
                current -= cut
            continue
        # Downgrade loans in arrears first, then those on the watch list, then (a judgment-based
        # downgrade) any performing loan, never overshooting the band.
        candidates = [loan for loan in loans if loan.cat < 2 and bool(loan.mask & GREEN) == green
                      and (loan.days > 0 or loan.cat == 1)]  # fmt: skip
        rng.shuffle(candidates)
        candidates.sort(key=lambda x: x.days > 0)  # popped from the end: in arrears first
        while current < low and candidates:
            loan = candidates.pop()
            if loan.balance <= high - current:
                loan.cat = 2
                current += loan.balance
        for _ in range(2000):
            if current >= low:
                break
            loan = loans[int(rng.random() * len(loans))]
            if loan.cat == 0 and bool(loan.mask & GREEN) == green and loan.balance <= high - current:
                loan.cat = 2
                current += loan.balance
    if removed:
        for book in books:
            book.loans = [loan for loan in book.loans if id(loan) not in removed]


def _prepay(kept_loans: list[_Loan], kept: list[float], t: _Targets) -> None:
    """Where the old loans alone exceed a segment's target, some borrowers repay part of a loan early."""
    for bit, target in t.segments.items():
        surplus = sum(kept[c] for c in range(CELLS) if c & bit) - 0.98 * target
        if surplus <= 0:
            continue
        performing = [loan for loan in kept_loans if loan.mask & bit and loan.cat < 2 and loan.days == 0]
        for loan in sorted(performing, key=lambda x: (-x.balance, x.head[0])):
            if surplus <= 0:
                break
            cut = min(round(surplus), loan.balance * 3 // 10)
            loan.balance -= cut
            kept[loan.mask] -= cut
            surplus -= cut


def _fit_new_loans(books: list[_Portfolio], new: list[_Loan], kept: list[float], t: _Targets, month: int,
                   steering: _Steering, rng: random.Random) -> None:  # fmt: skip
    """Shape the month's new lending so the book meets its targets, and steer next month's lending.

    A segment that got far more new volume than it needs loses its largest new loans (not granted after
    all); one that got far too little gets more new loans; then the amounts are raked to the targets.
    """
    kept_total = sum(kept)
    kept_in = {bit: sum(kept[c] for c in range(CELLS) if c & bit) for bit in SEGMENTS}
    want = {bit: target - kept_in[bit] for bit, target in t.segments.items()}
    volume = sum(loan.orig_cents for loan in new)
    if volume <= 0:
        return
    gap = min(max(t.total - kept_total, volume / 3), 3 * volume)
    got = {bit: sum(loan.orig_cents for loan in new if loan.mask & bit) / volume for bit in SEGMENTS}
    steering.adjust({bit: min(max(w / gap, 0.005), 0.995) for bit, w in want.items()}, got, 0.5)
    steering.level = min(max(steering.level * (gap / volume) ** 0.5, 0.2), 5.0)

    dropped: set[int] = set()
    for bit in SEGMENTS:
        have = sum(loan.orig_cents for loan in new if loan.mask & bit and id(loan) not in dropped)
        for loan in sorted((x for x in new if x.mask & bit), key=lambda x: (-x.orig_cents, x.head[0])):
            if have <= 2 * max(want[bit], 0.0):
                break
            if id(loan) not in dropped:
                dropped.add(id(loan))
                have -= loan.orig_cents
    if dropped:
        new[:] = [loan for loan in new if id(loan) not in dropped]
        for book in books:
            book.loans = [loan for loan in book.loans if id(loan) not in dropped]
    shares = list(accumulate(BANK_SHARES.get(book.bank.code, 1 / len(BANKS)) for book in books))
    for bit in SEGMENTS:
        have = sum(loan.orig_cents for loan in new if loan.mask & bit)
        for _ in range(max(10, len(new) // 5)):
            if 2 * have >= want[bit]:
                break
            book = books[bisect(shares, rng.random() * shares[-1])]
            loan = book.lend_into(month, bit)
            if loan is None:
                break
            new.append(loan)
            have += loan.orig_cents

    natural = [0.0] * CELLS
    for loan in new:
        natural[loan.mask] += loan.orig_cents
    volume = sum(natural)
    gap = min(max(t.total - kept_total, volume / 3), 3 * volume)
    cells = [c for c in range(CELLS) if natural[c] > 0]
    margins: list[Margin] = [(cells, gap, [], 0.0)]
    for bit in SEGMENTS:
        have = sum(natural[c] for c in cells if c & bit)
        margin = _binary(cells, bit, min(max(want[bit], have / 3, 0.005 * gap), 3 * have, 0.995 * gap), gap)
        if margin:
            margins.append(margin)
    factors = [min(max(f, 1 / 3), 3.0) for f in _rake(natural, margins, rounds=200)]
    for loan in new:
        loan.orig_cents = loan.balance = _round_amount(loan.orig_cents * factors[loan.mask])


def _simulate(scale: float, seed: int, first: int, last: int) -> Iterator[tuple[int, list[_Portfolio], list[float]]]:
    """The city's books month by month, with the factors that make the month's reported figures exact."""
    registry = _Registry(world.enterprises(scale, seed))
    steering = _Steering()
    rng = random.Random(f"bank_loans:{seed}:calibration")
    books = [_Portfolio(bank, seed, registry, steering) for bank in BANKS]
    for month in range(first, last + 1):
        t = _targets(month, scale)
        if month == first:
            steering.open_shares = {bit: t.share(bit) for bit in SEGMENTS}
            steering.open_every = max(20, round(ROWS_AT_SCALE_1 * scale / 500))
            for book in books:
                book.open(month, max(1, round(_bank_rows(book.bank, month, scale))))
            steering.open_shares = None
            _control_npl(books, t, rng)
            loans = [loan for book in books for loan in book.loans]
            sums = _cell_sums(loans)
            factors = _rake(sums, _book_margins(sums, t))
            for loan in loans:
                loan.orig_cents = _round_amount(loan.orig_cents * min(max(factors[loan.cell()], 0.2), 5.0))
                loan.balance = loan.schedule(month)
                loan.finish()
        else:
            for book in books:
                book.age(month)
            _control_npl(books, t, rng)
            kept_loans = [loan for book in books for loan in book.loans]
            kept = _cell_sums(kept_loans)
            kept = [kept[c] + kept[c | NPL_BIT] for c in range(NPL_BIT)] + [0.0] * NPL_BIT
            _prepay(kept_loans, kept, t)
            new = [loan for book in books for loan in book.lend(month, _bank_rows(book.bank, month, scale))]
            _fit_new_loans(books, new, kept, t, month, steering, rng)
            for loan in new:
                loan.finish()
        sums = _cell_sums(loan for book in books for loan in book.loans)
        factors = [min(max(f, FACTOR_BAND[0]), FACTOR_BAND[1]) for f in _rake(sums, _book_margins(sums, t))]
        yield month, books, factors


# --- files ------------------------------------------------------------------------------------------------
def _write(path: Path, rows: Iterator[tuple[str, ...]]) -> int:
    return write_csv(path, HEADER, rows, ENCODING)


def _report_rows(loans: list[_Loan], prefix: tuple[str, ...], factors: list[float] | None) -> Iterator[tuple]:
    for loan in loans:
        cents = loan.balance if factors is None else round(loan.balance * factors[loan.cell()])
        if cents > 0:
            yield loan.row(prefix, cents)


def generate(
    landing: Path,
    *,
    scale: float,
    seed: int,
    months: Sequence[str],
    on_file: Callable[[Path, int], None] | None = None,
) -> list[Path]:
    """Write ``landing/bank_loans/<YYYY-MM>/<bank code>.csv`` for the 12 banks and every month, calibrated.

    The books are simulated from the first to the last month requested; only the requested months are
    written. ``on_file(path, rows)`` is called after each file. Returns the paths, sorted.
    """
    if not months:
        return []
    wanted = {_month_index(m) for m in months}
    paths: list[Path] = []
    for month, books, factors in _simulate(scale, seed, min(wanted), max(wanted)):
        if month not in wanted:
            continue
        label = _month_str(month)
        for book in books:
            path = Path(landing) / "bank_loans" / label / f"{book.bank.code}.csv"
            count = _write(path, _report_rows(book.loans, (label, book.bank.code, book.bank.name), factors))
            paths.append(path)
            if on_file:
                on_file(path, count)
    return sorted(paths)


def _run_alone(book: _Portfolio, first: int, last: int, size: int) -> Iterator[int]:
    """One bank's book of about ``size`` loans growing 0.5% a month, its mix steered to the targets' shares."""
    steering = book.steering
    t = _targets(first, 1.0)
    steering.open_shares = {bit: t.share(bit) for bit in SEGMENTS}
    book.open(first, size)
    steering.open_shares = None
    for loan in book.loans:
        loan.finish()
    yield first
    for month in range(first + 1, last + 1):
        t = _targets(month, 1.0)
        book.age(month)
        kept = sum(loan.balance for loan in book.loans)
        kept_by = {bit: sum(loan.balance for loan in book.loans if loan.mask & bit) for bit in SEGMENTS}
        new = book.lend(month, size * 1.005 ** (month - first))
        volume = sum(loan.orig_cents for loan in new)
        if volume > 0:
            total = kept + volume
            wanted = {bit: min(max(t.share(bit) * total - kept_by[bit], 0.005 * volume), 0.995 * volume) / volume
                      for bit in SEGMENTS}  # fmt: skip
            got = {bit: sum(loan.orig_cents for loan in new if loan.mask & bit) / volume for bit in SEGMENTS}
            steering.adjust(wanted, got, 0.5)
        for loan in new:
            loan.finish()
        yield month


def generate_bank_loans(
    landing: Path,
    months: list[str],
    n_banks: int = 4,
    loans_per_bank: int = 300,
    seed: int = world.DEFAULT_SEED,
    *,
    on_file: Callable[[Path, int], None] | None = None,
) -> list[Path]:
    """Write ``landing/bank_loans/<YYYY-MM>/<bank code>.csv`` for the first ``n_banks`` banks; return the paths.

    Each bank starts with ``loans_per_bank`` loans and is simulated on its own; enterprise borrowers come
    from the world's registry at the scale of a city of 12 such banks. Months need not be consecutive:
    the books are simulated from the first to the last and only the requested months are written.
    ``on_file(path, rows)`` is called after each file.
    """
    if not 1 <= n_banks <= len(BANKS):
        raise ValueError(f"n_banks must be between 1 and {len(BANKS)}")
    if not months:
        return []
    wanted = sorted({_month_index(m) for m in months})
    registry = _Registry(world.enterprises(loans_per_bank * len(BANKS) / ROWS_AT_SCALE_1, seed))
    paths: list[Path] = []
    for bank in BANKS[:n_banks]:
        book = _Portfolio(bank, seed, registry, _Steering())
        for month in _run_alone(book, wanted[0], wanted[-1], loans_per_bank):
            if month not in wanted:
                continue
            label = _month_str(month)
            path = Path(landing) / "bank_loans" / label / f"{bank.code}.csv"
            count = _write(path, _report_rows(book.loans, (label, bank.code, bank.name), None))
            paths.append(path)
            if on_file:
                on_file(path, count)
    return sorted(paths)


# --- defects, for exercising validation and quarantine ------------------------------------------------
DEFECTS = ("negative_balance", "bad_uscc_check", "unknown_district", "bad_date", "duplicate_loan_id")


def inject_defects(path: Path, rate: float, seed: int) -> int:
    """Give a fraction ``rate`` of the file's rows one defect each (see DEFECTS); return how many."""
    header, rows = read_csv(path, ENCODING)
    col = {name: i for i, name in enumerate(header)}
    rng = random.Random(f"defects:{seed}:{path.parent.name}/{path.name}")
    chosen = sorted(rng.sample(range(len(rows)), min(len(rows), round(rate * len(rows)))))
    for n, i in enumerate(chosen):
        row = rows[i]
        defect = DEFECTS[n % len(DEFECTS)]
        if defect == "bad_uscc_check" and row[col["借款人类型"]] not in ("企业", "个体工商户"):
            defect = "negative_balance"
        if defect == "duplicate_loan_id" and i == 0:  # it repeats the id of the row before
            defect = "unknown_district"
        if defect == "negative_balance":
            row[col["贷款余额(元)"]] = "-" + row[col["贷款余额(元)"]]
        elif defect == "bad_uscc_check":
            uscc = row[col["借款人证件号码"]]
            wrong = codes.USCC_ALPHABET[(codes.USCC_ALPHABET.index(uscc[17]) + 1) % 31]
            row[col["借款人证件号码"]] = uscc[:17] + wrong
        elif defect == "unknown_district":
            row[col["区县代码"]] = "330599"
        elif defect == "bad_date":
            row[col["放款日期"]] = row[col["放款日期"]][:5] + "02-30"
        else:
            row[col["贷款编号"]] = rows[i - 1][col["贷款编号"]]
    _write(path, iter(rows))
    return len(chosen)
