"""Listed and IPO-reserve companies: listing status, month-end market data, direct financing, share pledges.

Calibration (the plan, 2020 figures, at ``scale`` 1; smaller scales keep the totals proportional):
- 39 listed companies at the end of 2020 (world.py), their total market capitalisation at the 2020-12
  close 3910.9 亿元, nine of them above 100 亿元. Caps at that close follow a rank shape fixed below;
  every other month moves with a simulated market and the firm's own returns (not calibrated).
- Direct financing (company, enterprise and interbank bonds, IPOs and refinancing): 3995.4 亿元 over
  2016-2020 and 5000 亿元 over 2021-2025 (the plan's target); the split by year below is an assumption
  that keeps 2020 at about 800 亿元, the five-year average. Each year's events are scaled to its total.
- Green bonds are not drawn here: they are the issues of the bank_green_bonds dataset (the authoritative record
  of green bond issuance: 29 in 2020 at scale 1, the plan) whose issuer is an enterprise, taken from its own
  generator (``bank_reports.bond_year``) with the same bond code, issue date, amount, issuer, term and coupon.
  They count towards each year's total; the other events are scaled to the rest. bank_green_bonds scales bond
  counts but not amounts, so at a scale so small that a year's green bonds alone exceed its total (about 0.005
  and below, in some years) the year overshoots; the other events then share a tenth of the total.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from functools import cache

from pipelines.demo import bank_reports, world
from pipelines.demo.enterprise_common import (
    fixed,
    index_of,
    last_weekday,
    money,
    month_end,
    month_index,
    month_str,
    random_day,
    rng_for,
    round_to,
)
from pipelines.demo.world import Enterprise

MARKET_CAP_2020_YUAN = 3910.9e8  # 上市公司总市值 at the end of 2020, the plan
ANCHOR = month_index("2020-12")
# Cap of the i-th largest firm at the anchor close is proportional to 1/(i+1) + CAP_FLOOR: with 39 firms the
# largest is ~756 亿, nine are above 100 亿 (the plan), the smallest ~39 亿.
CAP_FLOOR = 0.02715
# Firms listing after the anchor come to market at about this cap (median, yuan; log-normal spread).
NEW_LISTING_CAP_YUAN = (35e8, 0.6)
ORIGIN = month_index("1999-12")  # the simulated market starts here
HORIZON = month_index("2030-12")
# Market drift per month by year (log), shaped on the Shanghai composite's broad moves; volatility below.
MARKET_DRIFT = {2019: 0.015, 2020: 0.010, 2021: 0.002, 2022: -0.012, 2023: -0.006, 2024: 0.008, 2025: 0.010}
MARKET_VOL, IDIO_VOL = 0.035, 0.06
# CNY per unit (millionths), about each year-end's central parity; one rate per year is the demo's simplification.
FX_MICRO = {
    "HKD": {2019: 895_780, 2020: 841_640, 2021: 817_600, 2022: 893_270, 2023: 906_220, 2024: 926_040, 2025: 915_000},
    "USD": {2019: 6_976_200, 2020: 6_524_900, 2021: 6_375_700, 2022: 6_964_600, 2023: 7_082_700, 2024: 7_188_400,
            2025: 7_100_000},
}  # fmt: skip
BOARDS = ("主板", "创业板", "科创板", "北交所", "港股", "境外")
CHINEXT_FROM, STAR_FROM, BSE_FROM = dt.date(2009, 10, 30), dt.date(2019, 7, 22), dt.date(2021, 11, 15)
STAGES = ("后备", "辅导", "申报", "过会", "上市")

# Direct financing by year, 亿元 at scale 1 (the plan's five-year totals split by year: an assumption).
DIRECT_FINANCING_YI = {2016: 650.0, 2017: 750.0, 2018: 845.4, 2019: 950.0, 2020: 800.0,
                       2021: 900.0, 2022: 950.0, 2023: 1000.0, 2024: 1050.0, 2025: 1100.0}  # fmt: skip
# Bonds other than green ones, issues a year at scale 1 (an assumption; mostly large firms and city investment
# companies); green bonds come from bank_green_bonds (see the module's docstring).
BONDS_PER_YEAR = 100
BOND_TYPES = {"公司债": 0.35, "企业债": 0.15, "银行间债务融资工具": 0.50}
# bank_green_bonds' types of bonds an enterprise issues -> the financing type here (绿色金融债 are banks' own).
GREEN_BOND_TYPES = {"绿色公司债": "公司债", "绿色企业债": "企业债", "绿色债务融资工具": "银行间债务融资工具",
                    "绿色资产支持证券": "资产支持证券"}  # fmt: skip
FINANCING_TYPES = ("公司债", "企业债", "银行间债务融资工具", "资产支持证券", "IPO", "再融资")
ENTERPRISE_ISSUER = "非金融企业"  # bank_green_bonds' 发行人类型 of an enterprise
REFINANCING_PROB = 0.12  # a listed company raises new equity in a given year

PLEDGEES = ("华泰证券股份有限公司", "中信证券股份有限公司", "国泰君安证券股份有限公司", "浙商证券股份有限公司",
            "财通证券股份有限公司", "海通证券股份有限公司", "湖州银行股份有限公司", "中国工商银行股份有限公司湖州分行",
            "中国农业银行股份有限公司湖州分行", "浙商银行股份有限公司湖州分行", "中融国际信托有限公司",
            "浙商金汇信托股份有限公司")  # fmt: skip
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡沈钱姚费潘施"
_GIVEN = "建国明华伟强军平志刚永林海东晓峰立新国庆雪芳丽红金良"


def fx_micro(currency: str, year: int) -> int:
    if currency == "CNY":
        return 1_000_000
    rates = FX_MICRO[currency]
    return rates[min(max(year, min(rates)), max(rates))]


def _board(rng: random.Random, listed_on: dt.date) -> str:
    if listed_on < CHINEXT_FROM:
        weights = (90, 0, 0, 0, 7, 3)
    elif listed_on < STAR_FROM:
        weights = (55, 30, 0, 0, 10, 5)
    elif listed_on < BSE_FROM:
        weights = (40, 30, 20, 0, 7, 3)
    else:
        weights = (35, 28, 17, 12, 6, 2)
    return rng.choices(BOARDS, weights=weights)[0]


def _stock_code(rng: random.Random, board: str, listed_on: dt.date) -> str:
    n = rng.randint(0, 999)
    if board == "主板":
        return rng.choice((f"600{n:03d}.SH", f"601{n:03d}.SH", f"603{n:03d}.SH", f"002{n:03d}.SZ", f"000{n:03d}.SZ"))
    if board == "创业板":
        return f"{'301' if listed_on.year >= 2020 else '300'}{n:03d}.SZ"
    if board == "科创板":
        return f"688{n:03d}.SH"
    if board == "北交所":
        return f"920{n:03d}.BJ" if listed_on.year >= 2024 else f"{rng.choice(('830', '831', '870', '872'))}{n:03d}.BJ"
    if board == "港股":
        return f"{rng.randint(1, 9999):04d}.HK"
    return "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=rng.randint(3, 4))) + rng.choice((".O", ".N"))


def currency_of(board: str) -> str:
    return {"港股": "HKD", "境外": "USD"}.get(board, "CNY")


@cache
def _market(seed: int) -> tuple[float, ...]:
    """Cumulative log return of the market from ORIGIN, by month index offset."""
    rng = rng_for(seed, "market")
    walk, level = [0.0], 0.0
    for index in range(ORIGIN + 1, HORIZON + 1):
        level += MARKET_DRIFT.get(index // 12, 0.004) + rng.gauss(0.0, MARKET_VOL)
        walk.append(level)
    return tuple(walk)


@dataclass(frozen=True)
class Listed:
    firm: Enterprise
    board: str
    stock_code: str
    currency: str
    shares: int
    anchor_price: float  # trading currency, at the 2020-12 close (hypothetical for later listings)
    walk: tuple[float, ...]  # the firm's cumulative log return from ORIGIN

    def close_cents(self, index: int) -> int:
        index = min(index, HORIZON)
        return max(1, round(self.anchor_price * math.exp(self.walk[index - ORIGIN] - self.walk[ANCHOR - ORIGIN]) * 100))

    def market_cap_cents(self, index: int) -> int:
        """Close x shares x exchange rate, in yuan cents (exact for CNY; rounded for other currencies)."""
        product = self.close_cents(index) * self.shares * fx_micro(self.currency, index // 12)
        return (product + 500_000) // 1_000_000


@cache
def listed_firms(scale: float, seed: int) -> dict[str, Listed]:
    """Every firm that lists at some time in the demo's history, by credit code."""
    firms = [f for f in world.enterprises(scale, seed) if f.listed_on is not None]
    anchor_day = month_end(ANCHOR)
    early = sorted((f for f in firms if f.listed_on <= anchor_day), key=lambda f: (-f.registered_capital_yuan, f.uscc))
    weights = [1 / (i + 1) + CAP_FLOOR for i in range(len(early))]
    target = MARKET_CAP_2020_YUAN * scale
    anchor_cap = {f.uscc: target * w / sum(weights) for f, w in zip(early, weights, strict=True)}
    market = _market(seed)
    seen: set[str] = set()
    out = {}
    for firm in firms:
        rng = rng_for(seed, "listed", firm.uscc)
        board = _board(rng, firm.listed_on)
        code = _stock_code(rng, board, firm.listed_on)
        while code in seen:
            code = _stock_code(rng, board, firm.listed_on)
        seen.add(code)
        beta = rng.uniform(0.7, 1.3)
        walk, level = [0.0], 0.0
        for offset in range(1, HORIZON - ORIGIN + 1):
            level += beta * (market[offset] - market[offset - 1]) + rng.gauss(0.0, IDIO_VOL)
            walk.append(level)
        currency = currency_of(board)
        fx = fx_micro(currency, ANCHOR // 12) / 1e6
        if firm.uscc in anchor_cap:
            cap = anchor_cap[firm.uscc]
        else:  # the cap it comes to market at, carried back to the anchor along its own walk
            at_listing = NEW_LISTING_CAP_YUAN[0] * rng.lognormvariate(0.0, NEW_LISTING_CAP_YUAN[1])
            listing = index_of(firm.listed_on)
            cap = at_listing / math.exp(walk[listing - ORIGIN] - walk[ANCHOR - ORIGIN])
        guess = rng.uniform(6, 60) if currency == "CNY" else rng.uniform(2, 40)
        shares = round_to(cap / (guess * fx), 10_000)
        out[firm.uscc] = Listed(firm, board, code, currency, shares, cap / (shares * fx), tuple(walk))
    return out


def year_end_market_caps(scale: float, seed: int, year: int) -> dict[str, int]:
    """Market cap (cents) at the December close of ``year`` of each firm listed by then."""
    index = year * 12 + 11
    close = last_weekday(index)
    return {code: listed.market_cap_cents(index) for code, listed in listed_firms(scale, seed).items()
            if listed.firm.listed_on <= close}


# --- listing status (snapshot) ------------------------------------------------------------------------------
def _stage(seed: int, firm: Enterprise, day: dt.date) -> str:
    if firm.listed_by(day):
        return "上市"
    if firm.listed_on is not None:
        months = index_of(firm.listed_on) - index_of(day)
        return "过会" if months <= 2 else "申报" if months <= 12 else "辅导" if months <= 24 else "后备"
    return "辅导" if rng_for(seed, "tutoring", firm.uscc).random() < 0.15 else "后备"


def listing_status_rows(scale: float, seed: int, day: dt.date):
    listed = listed_firms(scale, seed)
    for firm in world.enterprises(scale, seed):
        on_list = firm.ipo_reserve_from is not None and firm.ipo_reserve_from <= day and firm.active_on(day)
        if not (firm.listed_by(day) or on_list):
            continue
        stage = _stage(seed, firm, day)
        info = listed.get(firm.uscc)
        public = stage == "上市"
        yield {
            "creditCode": firm.uscc,
            "entName": firm.name,
            "stage": stage,
            "board": info.board if info and stage in ("申报", "过会", "上市") else None,
            "stockCode": info.stock_code if public else None,
            "listingDate": firm.listed_on if public else None,
            "reserveDate": firm.ipo_reserve_from,
        }


# --- market data (month) -------------------------------------------------------------------------------------
def market_data_rows(scale: float, seed: int, index: int):
    trade_date = last_weekday(index)
    for code, item in listed_firms(scale, seed).items():
        if item.firm.listed_on > trade_date:
            continue
        yield {
            "tradeMonth": month_str(index),
            "creditCode": code,
            "stockCode": item.stock_code,
            "tradeDate": trade_date,
            "closePrice": money(item.close_cents(index)),
            "currency": item.currency,
            "exchangeRate": fixed(fx_micro(item.currency, index // 12), 6),
            "sharesOutstanding": item.shares,
            "marketCap": money(item.market_cap_cents(index)),
        }


# --- direct financing (month, calibrated by year) -------------------------------------------------------------
def direct_financing_target_cents(scale: float, year: int) -> int:
    yi = DIRECT_FINANCING_YI[min(max(year, min(DIRECT_FINANCING_YI)), max(DIRECT_FINANCING_YI))]
    return round(yi * 1e8 * scale) * 100


def _short_name(firm: Enterprise) -> str:
    return firm.name[2:4]  # the 字号 after the place name


def _decimal_units(text: str, places: int) -> int:
    """An exact decimal string such as ``3.45`` in units of 10**-places (345000 for 4 places)."""
    whole, _, decimals = text.partition(".")
    if len(decimals) > places:
        raise ValueError(f"{text!r} has more than {places} decimal places")
    return int(whole) * 10**places + int(decimals.ljust(places, "0") or 0)


@dataclass(frozen=True)
class GreenBond:
    code: str
    name: str
    kind: str  # the financing type here (GREEN_BOND_TYPES)
    issuer: str  # credit code
    issued: dt.date
    term_months: int
    amount_cents: int
    coupon: int  # 1/10000 %


@cache
def green_bonds(scale: float, seed: int, year: int) -> tuple[GreenBond, ...]:
    """The green bonds enterprises issued in ``year``: the rows of bank_green_bonds with an enterprise issuer,
    from that dataset's own generator, so both datasets hold the same issues."""
    col = {name: i for i, name in enumerate(bank_reports.BONDS_HEADER)}
    out = []
    for row in bank_reports.bond_year(year, scale, seed):
        if row[col["发行人类型"]] != ENTERPRISE_ISSUER:
            continue
        issued = dt.date.fromisoformat(row[col["发行日期"]])
        matures = dt.date.fromisoformat(row[col["到期日期"]])
        out.append(GreenBond(
            code=row[col["债券代码"]], name=row[col["债券简称"]], kind=GREEN_BOND_TYPES[row[col["债券类型"]]],
            issuer=row[col["发行人统一社会信用代码"]], issued=issued,
            term_months=(matures.year - issued.year) * 12 + matures.month - issued.month,
            amount_cents=_decimal_units(row[col["发行金额(元)"]], 2), coupon=_decimal_units(row[col["票面利率(%)"]], 4),
        ))
    return tuple(out)


def _bond_code(rng: random.Random, kind: str, term: int, year: int, used: set[str]) -> str:
    """A code in the market's shape (the shapes bank_green_bonds uses), not one already ``used``."""
    yy = year % 100
    while True:
        if kind == "公司债" and rng.random() < 0.3:
            code = f"{140000 + (yy - 19) * 1000 + rng.randint(1, 999)}.SZ"
        elif kind == "公司债":
            code = f"{160000 + (yy - 19) * 4000 + rng.randint(1, 3999)}.SH"
        elif kind == "企业债":
            code = f"{yy:02d}80{rng.randint(1, 999):03d}.IB"
        else:  # SCP 01, CP 04, MTN 10 + year + serial (green MTN, GN, take 80001 up)
            prefix = "01" if term <= 9 else "04" if term <= 12 else "10"
            code = f"{prefix}{yy:02d}{rng.randint(1, 79999):05d}.IB"
        if code not in used:
            used.add(code)
            return code


def _instrument_name(firm: Enterprise, kind: str, day: dt.date, term: int | None, serial: dict) -> str:
    """The short name of an offering or of a firm's n-th bond of a kind in the year (``serial`` counts them)."""
    short = _short_name(firm)
    if kind == "IPO":
        return f"{short}首次公开发行"
    if kind == "再融资":
        return f"{short}非公开发行股票"
    n = serial[(firm.uscc, kind)] = serial.get((firm.uscc, kind), 0) + 1
    suffix = {"公司债": f"{n:02d}", "企业债": "债" if n == 1 else f"债{n:02d}"}.get(kind)
    if suffix is None:
        suffix = ("SCP" if term <= 9 else "CP" if term <= 12 else "MTN") + f"{n:03d}"
    return f"{day:%y}{short}{suffix}"


@cache
def direct_financing_events(scale: float, seed: int, year: int) -> tuple[dict[str, object], ...]:
    """The year's events, dated: the green bonds of bank_green_bonds as issued, the other events scaled so that
    all add up to the year's total (each rounded to 100 万元)."""
    rng = rng_for(seed, "direct_financing", year)
    listed = listed_firms(scale, seed)
    by_code = {f.uscc: f for f in world.enterprises(scale, seed)}
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    raw: list[list] = []  # [date, firm, type, yuan, term months, coupon (1/10000 %), security code]
    for item in sorted(listed.values(), key=lambda x: x.firm.uscc):
        firm = item.firm
        if first <= firm.listed_on <= last:
            cap = item.market_cap_cents(index_of(firm.listed_on)) / 100
            raw.append([firm.listed_on, firm, "IPO", cap * rng.uniform(0.12, 0.25), None, None, item.stock_code])
        elif firm.listed_on < first and rng.random() < REFINANCING_PROB:
            day = random_day(rng, year * 12 + rng.randrange(12), weekdays=True)
            cap = item.market_cap_cents(index_of(day)) / 100
            raw.append([day, firm, "再融资", cap * rng.uniform(0.05, 0.15), None, None, item.stock_code])
    green = green_bonds(scale, seed, year)
    used = {row[1] for row in bank_reports.bond_year(year, scale, seed)}  # every green bond code of the year
    issuers = [f for f in world.enterprises(scale, seed) if f.size in ("大型", "中型") and f.active_on(first)]
    weights = [5.0 if f.size == "大型" else 1.0 for f in issuers]
    for _ in range(world.count(BONDS_PER_YEAR, scale) if issuers else 0):
        firm = rng.choices(issuers, weights=weights)[0]
        kind = rng.choices(list(BOND_TYPES), weights=list(BOND_TYPES.values()))[0]
        day = random_day(rng, year * 12 + rng.randrange(12), weekdays=True)
        term = rng.choice({"公司债": (36, 60, 84), "企业债": (60, 84)}.get(kind, (9, 12, 36, 60, 36)))
        coupon = rng.randrange(250, 651, 5) * 100  # 2.50-6.50%
        raw.append([day, firm, kind, 5e8 * rng.lognormvariate(0.0, 0.6), term, coupon,
                    _bond_code(rng, kind, term, year, used)])
    if not raw and not green:
        return ()
    target = direct_financing_target_cents(scale, year)
    rest = max(target - sum(b.amount_cents for b in green), target // 10)
    factor = rest / 100 / sum(r[3] for r in raw) if raw else 0.0
    # [date, firm, type, cents, term, coupon, code, name or None, green]
    items = [[day, firm, kind, round_to(yuan * factor, 1_000_000) * 100, term, coupon, code, None, False]
             for day, firm, kind, yuan, term, coupon, code in raw]
    items += [[b.issued, by_code[b.issuer], b.kind, b.amount_cents, b.term_months, b.coupon, b.code, b.name, True]
              for b in green]
    items.sort(key=lambda r: (r[0], r[1].uscc, r[2], r[6]))
    events, serial = [], {}
    for seq, (day, firm, kind, cents, term, coupon, code, name, is_green) in enumerate(items, 1):
        if name is None:  # a green bond keeps its short name as issued
            name = _instrument_name(firm, kind, day, term, serial)
        events.append({
            "financingMonth": f"{day:%Y-%m}",
            "eventId": f"ZR{year}{seq:05d}",
            "creditCode": firm.uscc,
            "financingType": kind,
            "securityCode": code,
            "instrumentName": name,
            "amount": money(cents),
            "eventDate": day,
            "termMonths": term,
            "couponRatePct": fixed(coupon, 4) if coupon is not None else None,
            "isGreen": is_green,
        })
    return tuple(events)


def direct_financing_rows(scale: float, seed: int, index: int):
    label = month_str(index)
    return (e for e in direct_financing_events(scale, seed, index // 12) if e["financingMonth"] == label)


# --- share pledges (month) -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pledge:
    pledge_id: str
    firm: Enterprise
    stock_code: str
    pledgor: str
    pledgor_type: str
    pledgee: str
    shares: int
    ratio: int  # 1/10000 % of shares outstanding
    start: dt.date
    release: dt.date


@cache
def _pledges(scale: float, seed: int) -> tuple[Pledge, ...]:
    """Pledges by controlling shareholders of A-share companies, simulated month by month to the horizon."""
    pledges = []
    for code, item in sorted(listed_firms(scale, seed).items()):
        rng = rng_for(seed, "pledges", code)
        if item.currency != "CNY" or rng.random() >= 0.45:
            continue  # about half of the A-share companies' controllers pledge shares
        if rng.random() < 0.6:
            pledgor, kind = rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice((1, 2)))), "自然人"
        else:
            pledgor, kind = f"湖州{_short_name(item.firm)}控股集团有限公司", "法人"
        holding = round_to(item.shares * rng.uniform(0.25, 0.6), 10_000)
        open_: list[Pledge] = []
        seq = 0
        for index in range(max(index_of(item.firm.listed_on) + 1, month_index("2015-01")), HORIZON + 1):
            open_ = [p for p in open_ if p.release > month_end(index - 1)]
            if rng.random() >= 0.07 or sum(p.shares for p in open_) > holding * 0.7:
                continue
            seq += 1
            shares = round_to(holding * rng.uniform(0.05, 0.2), 10_000)
            start = random_day(rng, index, weekdays=True)
            release = start + dt.timedelta(days=rng.randint(180, 1095))
            ratio = (shares * 1_000_000 * 2 + item.shares) // (2 * item.shares)
            pledge = Pledge(f"ZY{code[8:17]}{seq:03d}", item.firm, item.stock_code, pledgor, kind,
                            rng.choice(PLEDGEES), shares, ratio, start, release)
            open_.append(pledge)
            pledges.append(pledge)
    return tuple(pledges)


def share_pledge_rows(scale: float, seed: int, index: int):
    """Pledges outstanding at any time in the month; the release date once it has happened."""
    first, end = month_end(index - 1) + dt.timedelta(days=1), month_end(index)
    for p in _pledges(scale, seed):
        if p.start > end or p.release < first:
            continue
        yield {
            "reportMonth": month_str(index),
            "pledgeId": p.pledge_id,
            "creditCode": p.firm.uscc,
            "stockCode": p.stock_code,
            "pledgorName": p.pledgor,
            "pledgorType": p.pledgor_type,
            "pledgeeName": p.pledgee,
            "sharesPledged": p.shares,
            "pledgeRatioPct": fixed(p.ratio, 4),
            "startDate": p.start,
            "releaseDate": p.release if p.release <= end else None,
        }
