"""Demo loan-level monthly reports (贷款逐笔明细月报) of Huzhou banks, as they land in ``landing/bank_loans``.

Each bank holds a portfolio that lives across months: loans keep their id and attributes, amortise,
mature, prepay, fall overdue and are written off, and new loans replace them. Proportions follow the
Huzhou green-finance plan for 2020 (loans 5940 亿元, green 1080.5, enterprise credit loans 338.2, NPL
0.51%) closely enough for the marts to show plausible figures; they are not calibrated statistics.

Deterministic: every bank draws from its own ``random.Random`` seeded by (seed, bank code) as a string,
so the same arguments give byte-identical files and a bank's data does not depend on how many banks run.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import os
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipelines.demo import codes
from pipelines.demo.codes import WeightedChoice
from pipelines.demo.world import BANKS, Bank

ENCODING = "gb18030"
HEADER = (
    "报告期", "金融机构代码", "金融机构名称", "贷款编号", "借款人类型", "借款人证件号码", "行业代码",
    "区县代码", "贷款产品", "担保方式", "放款日期", "到期日期", "执行利率(%)", "贷款余额(元)", "五级分类",
    "逾期天数", "是否首贷", "是否无还本续贷", "是否绿色贷款", "绿色贷款用途分类", "绿色分类标准版本",
    "项目总投资(元)", "项目年碳减排量(吨)", "是否碳减排支持工具",
)  # fmt: skip
YES, NO = "是", "否"
CATEGORIES = ("正常", "关注", "次级", "可疑", "损失")  # index = severity

# The 2021 Green Bond Endorsed Projects Catalogue took effect on 2021-07-01; the carbon-emission-reduction
# facility was launched in November 2021.
GBEPC2021_FROM = dt.date(2021, 7, 1)
CRF_FROM = dt.date(2021, 11, 1)


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
    industry: WeightedChoice | str | None  # None: consumer loans carry no industry
    default_prob: float  # monthly probability that a performing loan falls overdue
    first_loan_prob: float


def _g(**weights: float) -> WeightedChoice:
    return WeightedChoice(weights)


# Tuned so that, by balance, enterprises hold ~80%, individual businesses ~8%, individuals ~10%, farmers
# ~2%; credit (unsecured) loans ~6%; green loans ~18%.
PROFILES = (
    Profile("企业", "流动资金贷款", 9, (12, 12, 12, 24, 36), False, 4e6, 0.8, 3e5, 1e8,
            _g(保证=0.45, 抵押=0.42, 质押=0.08, 信用=0.05), 0.10, (-20, 200), codes.ENTERPRISE_SECTIONS,
            0.003, 0.06),
    Profile("企业", "固定资产贷款", 3, (36, 48, 60, 84, 96, 120), True, 1.2e7, 0.7, 1e6, 1.5e8,
            _g(抵押=0.62, 保证=0.28, 质押=0.06, 信用=0.04), 0.25, (-30, 150), codes.ENTERPRISE_SECTIONS,
            0.002, 0.03),
    Profile("企业", "项目贷款", 1.2, (60, 96, 120, 180, 240), True, 3e7, 0.6, 5e6, 2e8,
            _g(抵押=0.45, 质押=0.30, 保证=0.21, 信用=0.04), 0.40, (-40, 100), codes.ENTERPRISE_SECTIONS,
            0.0015, 0.02),
    Profile("个体工商户", "个人经营贷款", 20, (12, 12, 24, 36, 60), False, 4e5, 0.8, 3e4, 5e6,
            _g(抵押=0.50, 保证=0.37, 信用=0.13), 0.03, (50, 350), codes.SMALL_BUSINESS_SECTIONS,
            0.004, 0.08),
    Profile("个人", "个人住房贷款", 19, (120, 180, 240, 300, 360), True, 7e5, 0.5, 1e5, 5e6,
            _g(抵押=1.0), 0.0, (40, 120), None, 0.001, 0.0),
    Profile("个人", "个人消费贷款", 14, (12, 24, 36, 60), True, 8e4, 0.7, 1e4, 1e6,
            _g(信用=0.85, 保证=0.15), 0.0, (100, 800), None, 0.003, 0.0),
    Profile("个人", "个人汽车贷款", 5, (12, 24, 36, 60), True, 1.2e5, 0.5, 3e4, 8e5,
            _g(抵押=0.9, 保证=0.1), 0.0, (100, 400), None, 0.002, 0.0),
    Profile("个人", "个人经营贷款", 6, (12, 24, 36, 60), False, 3e5, 0.8, 3e4, 3e6,
            _g(抵押=0.50, 保证=0.35, 信用=0.15), 0.0, (50, 350), codes.SMALL_BUSINESS_SECTIONS,
            0.004, 0.05),
    Profile("农户", "农户小额贷款", 14, (12, 24, 36), False, 1e5, 0.5, 1e4, 5e5,
            _g(信用=0.55, 保证=0.45), 0.04, (150, 450), "A", 0.003, 0.05),
    Profile("农户", "农户生产经营贷款", 6, (12, 24, 36, 60), False, 3e5, 0.6, 5e4, 2e6,
            _g(保证=0.50, 抵押=0.40, 信用=0.10), 0.06, (100, 350), "A", 0.003, 0.05),
)  # fmt: skip
# Loans outstanding are weighted by how long they live; new loans by how often they are granted.
STOCK_CHOICE = [p.stock_weight for p in PROFILES]
FLOW_CHOICE = [p.stock_weight / (sum(p.terms) / len(p.terms)) for p in PROFILES]
RENEWABLE_PRODUCTS = ("流动资金贷款", "个人经营贷款")

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
GREEN_RATE_DISCOUNT_BP = 15
# Green loans were 18.1% of Huzhou's loans at the end of 2020. A few large project loans would swing a
# small demo book far from that, so the odds of lending green are steered towards it as the book evolves.
GREEN_TARGET_SHARE = 0.181
CRF_SHARE = 0.6  # of eligible green loans, those the bank refinances with the facility
CRF_PRODUCTS = ("固定资产贷款", "项目贷款")  # the facility refinances loans to identified projects


@cache
def _lpr_of_month(year: int, month: int, long_term: bool) -> int:
    rate = (0, 43500, 49000)
    for entry in _LPR:
        if (year, month) >= entry[0]:
            rate = entry
    return rate[2] if long_term else rate[1]


def _lpr(day: dt.date, long_term: bool) -> int:
    return _lpr_of_month(day.year, day.month, long_term)


def _month_index(month: str) -> int:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValueError(f"not a YYYY-MM month: {month!r}")
    return int(month[:4]) * 12 + int(month[5:]) - 1


def _month_str(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@cache
def _month_end(index: int) -> dt.date:
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _fixed4(value: int) -> str:  # value in 1/10000 units
    return f"{value // 10000}.{value % 10000:04d}"


class _Loan:
    """One loan: what never changes is pre-formatted once, the rest moves month by month."""

    __slots__ = ("amortising", "balance", "cat", "days", "head", "maturity", "orig_cents", "orig_date",
                 "orig_index", "profile", "tail", "term")  # fmt: skip

    def __init__(self, profile: Profile, head: tuple[str, ...], tail: tuple[str, ...], orig_date: dt.date,
                 maturity: dt.date, term: int, orig_cents: int) -> None:  # fmt: skip
        self.profile = profile
        self.head = head  # loan id ... interest rate
        self.tail = tail  # first-loan flag ... facility flag
        self.orig_date = orig_date
        self.orig_index = orig_date.year * 12 + orig_date.month - 1
        self.maturity = maturity
        self.term = term
        self.amortising = profile.amortising
        self.orig_cents = orig_cents
        self.balance = orig_cents
        self.days = 0
        self.cat = 0

    def schedule(self, month: int) -> int:
        """Principal outstanding at the end of ``month`` if every instalment has been paid."""
        if not self.amortising:
            return self.orig_cents
        paid = month - self.orig_index
        return self.orig_cents - self.orig_cents * paid // self.term

    def row(self, prefix: tuple[str, ...]) -> tuple[str, ...]:
        return (*prefix, *self.head, _money(self.balance), CATEGORIES[self.cat], str(self.days), *self.tail)


def _floor_category(days: int) -> int:
    """Least severe category allowed for the days overdue (risk classification rule, 2023)."""
    if days > 360:
        return 4
    if days > 270:
        return 3
    if days > 90:
        return 2
    return 1 if days > 0 else 0


class _Portfolio:
    """A bank's book, simulated month by month with the bank's own random stream."""

    def __init__(self, bank: Bank, seed: int, size: int) -> None:
        self.bank = bank
        self.rng = random.Random(f"bank_loans:{seed}:{bank.code}")
        self.size = size
        self.seq = 0
        if bank.home_district:
            weights = {d: 0.2 * w for d, w in codes.DISTRICT_WEIGHTS.items()}
            weights[bank.home_district] += 0.8
        else:
            weights = dict(codes.DISTRICT_WEIGHTS)
        self.districts = WeightedChoice(weights)
        self.loans: list[_Loan] = []
        self.first_month = 0
        self.green_boost = 1.0

    # -- origination -----------------------------------------------------------------------------------
    def _amount_cents(self, p: Profile) -> int:
        yuan = min(max(p.median_yuan * self.rng.lognormvariate(0.0, p.sigma), p.min_yuan), p.max_yuan)
        step = 10_000 if yuan >= 1e6 else 1_000  # contracts are signed for round amounts
        return max(step, round(yuan / step) * step) * 100

    def _borrower_id(self, borrower_type: str, district: str) -> str:
        if borrower_type == "企业":
            return codes.make_uscc(self.rng, district, codes.USCC_ENTERPRISE)
        if borrower_type == "个体工商户":
            return codes.make_uscc(self.rng, district, codes.USCC_INDIVIDUAL_BUSINESS)
        return codes.masked_person_id(self.rng, district)

    def _green(self, p: Profile, orig: dt.date, cents: int) -> tuple[str, str, tuple[str, ...]]:
        """(category, industry, green tail columns) of a green loan."""
        rng = self.rng
        if p.borrower_type == "企业":
            category = codes.GREEN_CATEGORY_CHOICE(rng)
        else:  # farmers borrow green for ecological farming only
            category = "4.1.2" if p.borrower_type == "农户" else codes.SMALL_GREEN_CATEGORY_CHOICE(rng)
        industry = rng.choice(codes.GREEN_CATEGORIES[category][1])
        investment = -(-cents * 100 // rng.randint(30, 100))  # the loan finances 30-100% of the project
        investment = -(-investment // 1_000_000) * 1_000_000  # rounded up to 10,000 yuan
        intensity = codes.CO2E_T_PER_MILLION_YUAN[category[0]] * rng.lognormvariate(0.0, 0.5)
        co2e = max(1, round(investment / 1e8 * intensity * 10_000))  # 1/10000 t
        return category, industry, self._green_tail(p, category, orig, investment, co2e)

    def _green_tail(
        self, p: Profile, category: str, orig: dt.date, investment: int, co2e: int
    ) -> tuple[str, ...]:
        version = "GICG2019" if orig < GBEPC2021_FROM else "GBEPC2021"
        crf = (orig >= CRF_FROM and category[0] in codes.CRF_FIRST_LEVELS and p.product in CRF_PRODUCTS
               and self.rng.random() < CRF_SHARE)  # fmt: skip
        return (YES, category, version, _money(investment), _fixed4(co2e), YES if crf else NO)

    def _rate(self, p: Profile, orig: dt.date, term: int, green: bool, crf: bool) -> str:
        lpr = _lpr(orig, term > 60)
        if crf:  # the facility asks for rates close to the 1-year LPR
            return _fixed4(_lpr(orig, False) + self.rng.randrange(-10, 11, 5) * 100)
        spread = self.rng.randrange(p.spread_bp[0], p.spread_bp[1] + 1, 5)
        if green:
            spread -= GREEN_RATE_DISCOUNT_BP
        return _fixed4(max(lpr + spread * 100, 5000))

    def _new_loan(self, p: Profile, orig: dt.date, term: int) -> _Loan:
        rng = self.rng
        self.seq += 1
        loan_id = f"{self.bank.loan_prefix}{orig:%Y%m%d}{self.seq:08d}"
        district = self.districts(rng)
        cents = self._amount_cents(p)
        if rng.random() < p.green_prob * self.green_boost:
            category, industry, green_tail = self._green(p, orig, cents)
        else:
            category, industry = "", codes.pick_industry(rng, p.industry) if p.industry else ""
            green_tail = (NO, "", "", "", "", NO)
        guarantee = p.guarantees(rng)
        first = YES if rng.random() < p.first_loan_prob else NO
        rate = self._rate(p, orig, term, bool(category), green_tail[5] == YES)
        borrower_id = self._borrower_id(p.borrower_type, district)
        maturity = _add_months(orig, term)
        head = (loan_id, p.borrower_type, borrower_id, industry, district, p.product, guarantee,
                orig.isoformat(), maturity.isoformat(), rate)  # fmt: skip
        return _Loan(p, head, (first, NO, *green_tail), orig, maturity, term, cents)

    def _renewal(self, old: _Loan, orig: dt.date) -> _Loan:
        """Same borrower, amount and terms, re-granted on the old loan's maturity date."""
        self.seq += 1
        h, t = old.head, old.tail
        loan_id = f"{self.bank.loan_prefix}{orig:%Y%m%d}{self.seq:08d}"
        green_tail = t[2:]
        if green_tail[0] == YES:  # reclassified under the catalogue in force at renewal
            investment = int(green_tail[3].replace(".", ""))
            co2e = int(green_tail[4].replace(".", ""))
            green_tail = self._green_tail(old.profile, green_tail[1], orig, investment, co2e)
        rate = self._rate(old.profile, orig, old.term, green_tail[0] == YES, green_tail[5] == YES)
        maturity = _add_months(orig, old.term)
        head = (loan_id, *h[1:7], orig.isoformat(), maturity.isoformat(), rate)
        return _Loan(old.profile, head, (NO, YES, *green_tail), orig, maturity, old.term, old.orig_cents)

    def _steer_green(self, green_cents: int, total_cents: int) -> None:
        share = green_cents / total_cents if total_cents else GREEN_TARGET_SHARE
        self.green_boost = min(max(GREEN_TARGET_SHARE / max(share, 0.01), 0.2), 4.0)

    def _random_day(self, month: int) -> dt.date:
        end = _month_end(month)
        return end.replace(day=self.rng.randint(1, end.day))

    # -- simulation ------------------------------------------------------------------------------------
    def open(self, month: int) -> None:
        """The book at the end of ``month``: loans of every age, some already in arrears."""
        rng, end = self.rng, _month_end(month)
        profiles = rng.choices(PROFILES, weights=STOCK_CHOICE, k=self.size)
        green_cents = total_cents = 0
        for p in profiles:
            term = rng.choice(p.terms)
            age = rng.randrange(min(term, 180))  # whole months since the origination month
            orig = self._random_day(month - age)
            loan = self._new_loan(p, orig, term)
            renewable = p.product in RENEWABLE_PRODUCTS and p.borrower_type != "个人"
            if renewable and rng.random() < 0.06:
                loan.tail = (NO, YES, *loan.tail[2:])
            loan.balance = loan.schedule(month)
            total_cents += loan.balance
            green_cents += loan.balance if loan.tail[2] == YES else 0
            self._steer_green(green_cents, total_cents)
            # Start near the simulation's steady state: ~0.7% non-performing, ~0.6% in early arrears.
            draw = rng.random()
            if draw < 0.007:
                loan.days = rng.randint(91, 720)
            elif draw < 0.013:
                loan.days = rng.randint(1, 90)
            loan.days = min(loan.days, (end - orig).days)
            loan.cat = _floor_category(loan.days)
            if loan.days == 0 and draw > 0.99:
                loan.cat = 1
            self.loans.append(loan)

    def step(self, month: int) -> None:
        """Move the book from the end of the previous month to the end of ``month``."""
        rng, end = self.rng, _month_end(month)
        days_in_month = end.day
        green_cents = sum(loan.balance for loan in self.loans if loan.tail[2] == YES)
        self._steer_green(green_cents, sum(loan.balance for loan in self.loans))
        kept: list[_Loan] = []
        renewals: list[_Loan] = []
        for loan in self.loans:
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
            if loan.maturity <= end:  # repaid at maturity, sometimes renewed
                p = loan.profile
                if (p.product in RENEWABLE_PRODUCTS and p.borrower_type != "个人" and r < RENEW
                        and loan.maturity > _month_end(month - 1)):  # fmt: skip
                    renewals.append(self._renewal(loan, loan.maturity))
                continue
            if r < PREPAY:
                continue
            if r < PREPAY + loan.profile.default_prob:
                loan.days = rng.randint(1, days_in_month)
                loan.cat = 2 if rng.random() < 0.1 else max(loan.cat, 1)
            elif loan.cat == 1 and r > 1 - WATCH_RELEASE:
                loan.cat = 0
            elif loan.cat == 0 and r > 1 - WATCH_WITHOUT_ARREARS:
                loan.cat = 1
            if loan.days == 0:
                loan.balance = loan.schedule(month)
            kept.append(loan)
        kept.extend(renewals)
        # New lending keeps the number of loans roughly stable, growing about 0.5% a month.
        target = round(self.size * (1.005 ** (month - self.first_month)))
        target += rng.randint(-(target // 100), target // 100)
        new = max(0, target - len(kept))
        for p in rng.choices(PROFILES, weights=FLOW_CHOICE, k=new):
            kept.append(self._new_loan(p, self._random_day(month), rng.choice(p.terms)))
        self.loans = kept

    def run(self, first: int, last: int) -> Iterator[tuple[int, list[_Loan]]]:
        self.first_month = first
        self.open(first)
        yield first, self.loans
        for month in range(first + 1, last + 1):
            self.step(month)
            yield month, self.loans


def _write(path: Path, rows: Iterator[tuple[str, ...]]) -> int:
    """Write the report through a temporary name, so a file-drop sensor never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", encoding=ENCODING, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow(row)
            count += 1
    os.replace(tmp, path)
    return count


def generate_bank_loans(
    landing: Path,
    months: list[str],
    n_banks: int = 4,
    loans_per_bank: int = 300,
    seed: int = 20201231,
    *,
    on_file: Callable[[Path, int], None] | None = None,
) -> list[Path]:
    """Write ``landing/bank_loans/<YYYY-MM>/<bank code>.csv`` for every bank and month; return the paths.

    Months need not be consecutive: the books are simulated from the first to the last and only the
    requested months are written. ``on_file(path, rows)`` is called after each file.
    """
    if not 1 <= n_banks <= len(BANKS):
        raise ValueError(f"n_banks must be between 1 and {len(BANKS)}")
    if not months:
        return []
    wanted = sorted({_month_index(m) for m in months})
    paths: list[Path] = []
    for bank in BANKS[:n_banks]:
        portfolio = _Portfolio(bank, seed, loans_per_bank)
        for month, loans in portfolio.run(wanted[0], wanted[-1]):
            if month not in wanted:
                continue
            label = _month_str(month)
            path = Path(landing) / "bank_loans" / label / f"{bank.code}.csv"
            prefix = (label, bank.code, bank.name)
            count = _write(path, (loan.row(prefix) for loan in loans if loan.balance > 0))
            paths.append(path)
            if on_file:
                on_file(path, count)
    return sorted(paths)


# --- defects, for exercising validation and quarantine ------------------------------------------------
DEFECTS = ("negative_balance", "bad_uscc_check", "unknown_district", "bad_date", "duplicate_loan_id")


def inject_defects(path: Path, rate: float, seed: int) -> int:
    """Give a fraction ``rate`` of the file's rows one defect each (see DEFECTS); return how many."""
    with path.open(encoding=ENCODING, newline="") as f:
        header, *rows = list(csv.reader(f))
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
