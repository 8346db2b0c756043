"""Enterprise registry, annual financials, energy and emissions, ESG indicators and the guarantee network.

Every firm is one of ``world.enterprises``; what the platform knows of it here is simulated from its size,
industry and district. Magnitudes are assumptions chosen to look like a prefecture-level manufacturing city
(they are not published statistics): revenue by size class, value added built from wages, production taxes
and EBITDA, balance sheets by industry, energy and emissions through the carbon intensity (t CO2 per 10,000
yuan of value added) typical of each industry, so that the carbon-efficiency code (碳效码) bands of
domain-methods.md come out mostly medium with some high and low.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter
from dataclasses import dataclass
from functools import cache

from pipelines.demo import public_records, public_reference, world
from pipelines.demo.enterprise_capital import ANCHOR, fx_micro, listed_firms, year_end_market_caps
from pipelines.demo.enterprise_common import add_months, fixed, money, rng_for, round_to
from pipelines.demo.world import BANKS, Enterprise

# --- financials -----------------------------------------------------------------------------------------
# Revenue in 2020 by size class, yuan: (median, log sigma, floor, cap).
REVENUE_2020 = {"大型": (1.2e9, 0.8, 4e8, 5e10), "中型": (1.0e8, 0.7, 2e7, 4e8),
                "小型": (8e6, 0.7, 3e6, 2e7), "微型": (1.2e6, 0.8, 5e4, 3e6)}  # fmt: skip
EMPLOYEES = {"大型": (1000, 200_000), "中型": (300, 999), "小型": (20, 299), "微型": (1, 19)}
REVENUE_PER_EMPLOYEE = {"C": 1.0e6, "D": 3.0e6, "F": 3.0e6, "K": 4.0e6, "E": 0.8e6, "G": 0.8e6, "A": 0.5e6,
                        "H": 0.3e6, "B": 1.5e6}  # others 0.6e6  # fmt: skip
ASSETS_PER_REVENUE = {"A": 1.5, "B": 1.8, "C": 1.0, "D": 3.0, "E": 1.3, "F": 0.5, "G": 1.2, "H": 0.8, "I": 1.0,
                      "K": 4.0, "L": 1.5, "M": 1.2, "N": 2.0, "O": 0.8, "P": 1.5, "Q": 1.2, "R": 1.5}  # fmt: skip
DEBT_RATIO = {"C": 0.55, "D": 0.62, "E": 0.68, "F": 0.60, "K": 0.72, "L": 0.55, "G": 0.55}  # others 0.50
EBITDA_MARGIN = {"C": 0.10, "D": 0.30, "E": 0.07, "F": 0.03, "K": 0.22, "G": 0.15, "A": 0.12, "B": 0.20}  # 0.12
WAGE_2020_YUAN = 80_000  # average annual wage incl. social insurance; grows 6% a year
PRODUCTION_TAX = 0.03  # of revenue
PRICE_TO_SALES = 2.5  # listed firms' revenue follows from their market cap (median P/S)
MACRO_GROWTH = {2019: 0.07, 2020: 0.02, 2021: 0.12, 2022: 0.04, 2023: 0.05, 2024: 0.04, 2025: 0.05}  # log, else .06
FIRST_YEAR, LAST_YEAR = 1990, 2040


@dataclass(frozen=True)
class Profile:
    revenue_2020: float
    growth: tuple[float, ...]  # log growth of each year from FIRST_YEAR + 1, year over the one before
    assets_ratio: float
    debt_ratio: float
    margin: float
    employees_2020: float
    carbon_factor: float  # the firm's carbon intensity relative to its industry's


@dataclass(frozen=True)
class Financials:
    revenue: int  # cents
    value_added: int
    assets: int
    liabilities: int
    ebitda: int
    employees: int
    market_cap: int | None

    @property
    def equity(self) -> int:
        return self.assets - self.liabilities


def _section(firm: Enterprise) -> str:
    return firm.industry_code[0]


@cache
def profiles(scale: float, seed: int) -> dict[str, Profile]:
    listed = listed_firms(scale, seed)
    out = {}
    for firm in world.enterprises(scale, seed):
        rng = rng_for(seed, "profile", firm.uscc)
        section = _section(firm)
        median, sigma, low, high = REVENUE_2020[firm.size]
        revenue = min(max(median * rng.lognormvariate(0.0, sigma), low), high)
        if firm.uscc in listed:
            item = listed[firm.uscc]
            cap = item.anchor_price * item.shares * fx_micro(item.currency, ANCHOR // 12) / 1e6
            revenue = max(revenue, cap / (PRICE_TO_SALES * rng.lognormvariate(0.0, 0.5)))
        trend = rng.gauss(0.0, 0.03)
        growth = tuple(MACRO_GROWTH.get(y, 0.06) + trend + rng.gauss(0.0, 0.12)
                       for y in range(FIRST_YEAR + 1, LAST_YEAR + 1))
        employees = revenue / (REVENUE_PER_EMPLOYEE.get(section, 0.6e6) * rng.lognormvariate(0.0, 0.3))
        base_margin = EBITDA_MARGIN.get(section, 0.12)
        out[firm.uscc] = Profile(
            revenue_2020=revenue, growth=growth,
            assets_ratio=ASSETS_PER_REVENUE.get(section, 1.0) * rng.lognormvariate(0.0, 0.35),
            debt_ratio=DEBT_RATIO.get(section, 0.50) * rng.lognormvariate(0.0, 0.18),
            margin=base_margin + rng.gauss(0.0, base_margin * 0.6),
            employees_2020=employees, carbon_factor=rng.lognormvariate(0.0, 0.35),
        )
    return out


def _growth_since_2020(profile: Profile, year: int) -> float:
    year = min(max(year, FIRST_YEAR), LAST_YEAR)
    first = FIRST_YEAR + 1  # growth[i] is the growth of year first + i
    if year >= 2020:
        return sum(profile.growth[y - first] for y in range(2021, year + 1))
    return -sum(profile.growth[y - first] for y in range(year + 1, 2021))


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


@cache
def financials(scale: float, seed: int, year: int) -> dict[str, Financials]:
    """The year's statements of every firm active at its end."""
    caps = year_end_market_caps(scale, seed, year)
    all_profiles = profiles(scale, seed)
    wage = WAGE_2020_YUAN * math.exp(0.06 * (year - 2020))
    out = {}
    for firm in world.enterprises(scale, seed):
        if not firm.active_on(year_end(year)):
            continue
        p = all_profiles[firm.uscc]
        rng = rng_for(seed, "financials", firm.uscc, year)
        g = _growth_since_2020(p, year)
        revenue = p.revenue_2020 * math.exp(g)
        low, high = EMPLOYEES[firm.size]
        employees = min(max(round(p.employees_2020 * math.exp(0.5 * g) * rng.uniform(0.95, 1.05)), low), high)
        ebitda = revenue * (p.margin + rng.gauss(0.0, abs(p.margin) * 0.3 + 0.01))
        value_added = min(employees * wage + revenue * PRODUCTION_TAX + ebitda, revenue * 0.95)
        assets = revenue * p.assets_ratio * rng.lognormvariate(0.0, 0.05)
        liabilities = assets * p.debt_ratio * rng.lognormvariate(0.0, 0.05)
        out[firm.uscc] = Financials(
            revenue=round(revenue * 100),
            value_added=round(value_added * 100), assets=round(assets * 100), liabilities=round(liabilities * 100),
            ebitda=round(ebitda * 100), employees=employees, market_cap=caps.get(firm.uscc),
        )
    return out


def financials_rows(scale: float, seed: int, year: int):
    for code, f in financials(scale, seed, year).items():
        yield {
            "year": year,
            "creditCode": code,
            "operatingRevenue": money(f.revenue),
            "valueAdded": money(f.value_added),
            "totalAssets": money(f.assets),
            "totalLiabilities": money(f.liabilities),
            "ownersEquity": money(f.equity),
            "ebitda": money(f.ebitda),
            "marketCap": money(f.market_cap) if f.market_cap is not None else None,
            "employeeCount": f.employees,
        }


# --- registry (snapshot) ------------------------------------------------------------------------------
def registry_rows(scale: float, seed: int, day: dt.date):
    for firm in world.enterprises(scale, seed):
        if firm.established > day:
            continue
        gone = firm.deregistered is not None and firm.deregistered <= day
        yield {
            "creditCode": firm.uscc,
            "entName": firm.name,
            "industryCode": firm.industry_code,
            "regionCode": firm.district_code,
            "regCapital": money(firm.registered_capital_yuan * 100),
            "establishDate": firm.established,
            "cancelDate": firm.deregistered if gone else None,
            "entStatus": "注销" if gone else "存续",
            "isListed": firm.listed_by(day),
            "isIpoReserve": (firm.ipo_reserve_from is not None and firm.ipo_reserve_from <= day
                             and not firm.listed_by(day) and not gone),
            "entScale": firm.size,
        }


# --- energy and emissions (year) -----------------------------------------------------------------------
# Scope 2 uses the grid emission factor of the public_grid_emission_factors dataset (one data, one source),
# read from its published file through public_reference.factor_rows(), for the region below. 全国, not 华东:
# the ecology and environment ministry has enterprises and their verifiers apply the national grid average
# factor to purchased electricity (regional grid factors were last published for 2012 and are no longer
# updated), and the file's 全国 values are [S] (the ministry's published factors) where its 华东 values are
# [U] (the 2012 regional value carried forward, then a demo assumption). The platform applies the factor of
# the reporting year; a year the dataset has no factor for gets no energy rows (scope 2 cannot be computed).
GRID_REGION = "全国"
FUEL_TCO2_PER_TCE = 2.6  # blended coal and gas: an assumption
ELECTRICITY_KGCE_PER_KWH = 0.1229  # calorific equivalent (当量值) of electricity, GB/T 2589-2020
KEY_EMITTER_T = 26_000
KEY_EMITTER_SECTORS = ("D4411", "D4412", "C31", "C3011", "C3041", "C25", "C26", "C32", "C22", "G56")
DESIGNATED_SIZE_REVENUE_CENTS = 2_000_000_000  # 规模以上工业: revenue of 20 million yuan
# Carbon intensity L (t CO2e per 10,000 yuan of value added) and the share from purchased electricity, by
# industry prefix (longest match wins): rough magnitudes of Zhejiang industry, not published statistics.
CARBON = {
    "D4411": (45.0, 0.03), "D4412": (35.0, 0.05), "D4430": (18.0, 0.05), "D44": (0.15, 0.85), "D45": (0.5, 0.4),
    "D46": (0.9, 0.95), "C3011": (14.0, 0.12), "C3041": (5.0, 0.25), "C30": (1.8, 0.35), "C31": (7.0, 0.18),
    "C32": (1.8, 0.6), "C25": (3.5, 0.2), "C26": (1.5, 0.4), "C28": (1.3, 0.5), "C22": (1.8, 0.35),
    "C17": (1.2, 0.7), "C13": (0.7, 0.6), "C14": (0.7, 0.6), "C15": (0.6, 0.6), "C27": (0.7, 0.6),
    "C29": (0.8, 0.85), "C33": (0.8, 0.85), "C20": (0.8, 0.8), "C19": (0.5, 0.8), "C23": (0.5, 0.85),
    "C34": (0.7, 0.9), "C35": (0.65, 0.9), "C36": (0.6, 0.9), "C37": (0.6, 0.9), "C38": (0.6, 0.9),
    "C39": (0.5, 0.95), "C40": (0.45, 0.95), "C": (0.7, 0.8), "B": (1.2, 0.5),
}  # fmt: skip


@cache
def grid_factors_1e4() -> dict[int, int]:
    """The dataset's factor (1/10000 t CO2 per MWh) for GRID_REGION, by year."""
    out = {}
    for year, region, factor, _source in public_reference.factor_rows():
        if region != GRID_REGION:
            continue
        whole, _, decimals = factor.partition(".")
        if not (whole.isdigit() and decimals.isdigit() and len(decimals) <= 4):
            raise ValueError(f"grid emission factor {factor!r} ({year} {region}): not a decimal of up to 4 places")
        out[int(year)] = int(whole) * 10_000 + int(decimals.ljust(4, "0"))
    return out


def grid_factor_1e4(year: int) -> int | None:
    """The factor applied to ``year``'s electricity; None when public_grid_emission_factors has none."""
    return grid_factors_1e4().get(year)


def _carbon(industry: str) -> tuple[float, float]:
    for length in (5, 3, 1):
        if industry[:length] in CARBON:
            return CARBON[industry[:length]]
    raise KeyError(industry)


def _key_sector(industry: str) -> bool:
    return industry.startswith(KEY_EMITTER_SECTORS)


@dataclass(frozen=True)
class Energy:
    tce: int  # 1/10000 tce
    kwh: int
    scope1: int  # 1/10000 t CO2e
    scope2: int
    verification: str
    key_emitter: bool


@cache
def energy(scale: float, seed: int, year: int) -> dict[str, Energy]:
    """Designated-size industrial firms (and any firm of a key-emitter sector above micro size); none in a year
    without a published grid emission factor."""
    factor = grid_factor_1e4(year)
    if factor is None:
        return {}
    fin = financials(scale, seed, year)
    all_profiles = profiles(scale, seed)
    out = {}
    for firm in world.enterprises(scale, seed):
        f = fin.get(firm.uscc)
        if f is None or firm.industry_code[0] not in "BCD":
            continue
        if f.revenue < DESIGNATED_SIZE_REVENUE_CENTS and not (_key_sector(firm.industry_code) and firm.size != "微型"):
            continue
        rng = rng_for(seed, "energy", firm.uscc, year)
        intensity, electric_share = _carbon(firm.industry_code)
        intensity *= all_profiles[firm.uscc].carbon_factor * rng.lognormvariate(0.0, 0.08) * 0.98 ** (year - 2020)
        va_wan = max(f.value_added, f.revenue // 5) / 1e6  # 万元; a loss-making year still burns energy
        total_t = intensity * va_wan
        kwh = round(total_t * electric_share / (factor / 1e4) * 1000)
        scope2 = (kwh * factor + 500) // 1000
        scope1 = round(total_t * (1 - electric_share) * 1e4)
        tce = round(scope1 / FUEL_TCO2_PER_TCE) + (kwh * 1229 + 500) // 1000
        key = _key_sector(firm.industry_code) and scope1 + scope2 >= KEY_EMITTER_T * 10_000
        if key:
            verification = "核查"
        elif firm.size in ("大型", "中型"):
            verification = rng.choices(("核查", "自报", "估算"), weights=(10, 70, 20))[0]
        else:
            verification = rng.choices(("自报", "估算"), weights=(40, 60))[0]
        out[firm.uscc] = Energy(tce, kwh, scope1, scope2, verification, key)
    return out


def energy_rows(scale: float, seed: int, year: int):
    for code, e in energy(scale, seed, year).items():
        yield {
            "year": year,
            "creditCode": code,
            "energyConsumption": fixed(e.tce, 4),
            "electricityConsumption": e.kwh,
            "scope1Emissions": fixed(e.scope1, 4),
            "scope2Emissions": fixed(e.scope2, 4),
            "verificationStatus": e.verification,
            "keyEmitter": e.key_emitter,
        }


# --- ESG indicators (year, long format) ---------------------------------------------------------------
# (code, dimension, name, unit) of the indicators the platform's ESG evaluation collects (a selection), keeping
# the evaluation's codes. One data, one source: an indicator whose value is a fact another dataset holds is not
# delivered here, and the ESG scoring mart derives it from that dataset instead:
#   E02 环境行政处罚次数 <- public_environmental_penalties (decisions per firm and year)
#   E03 单位增加值能耗, E04 单位增加值碳排放 <- enterprise_energy_emissions ÷ enterprise_financials.valueAdded
#   S01 从业人数 <- enterprise_financials.employeeCount
#   G01 纳税信用等级 <- public_tax_credit_ratings
#   G05 失信被执行人 <- public_dishonest_debtors (listed and not removed during the year)
#   G06 资产负债率 <- enterprise_financials (totalLiabilities ÷ totalAssets)
# The others have no other source in the lake: E05 环境信用评价等级 is the ecology bureau's own grade (it reflects
# the firm's penalties but is a different fact), S06 纳税总额 is not in the tax credit ratings, G04 counts lawsuits
# (not the dishonest-debtor listings that may follow some of them).
ESG_INDICATORS = (
    ("E01", "E", "污染物排放达标率", "%"),
    ("E05", "E", "环境信用评价等级", "级"),
    ("E06", "E", "绿色工厂", "是否"),
    ("E07", "E", "清洁生产审核", "是否"),
    ("E08", "E", "工业用水重复利用率", "%"),
    ("S02", "S", "社会保险参保率", "%"),
    ("S03", "S", "欠薪投诉次数", "次"),
    ("S04", "S", "安全生产事故次数", "次"),
    ("S05", "S", "研发投入强度", "%"),
    ("S06", "S", "纳税总额", "万元"),
    ("S07", "S", "公益捐赠额", "万元"),
    ("G02", "G", "关联交易占营业收入比例", "%"),
    ("G03", "G", "独立董事占比", "%"),
    ("G04", "G", "涉诉案件数", "次"),
)
# Indicator codes of the evaluation not delivered here, and the dataset each is derived from.
ESG_DERIVED = {"E02": "public_environmental_penalties", "E03": "enterprise_energy_emissions",
               "E04": "enterprise_energy_emissions", "S01": "enterprise_financials",
               "G01": "public_tax_credit_ratings", "G05": "public_dishonest_debtors", "G06": "enterprise_financials"}
ESG_MICRO_COVERAGE = 0.75  # micro firms the evaluation covers (~23,000 firms in all: domain-methods.md)


def _poisson(rng, lam: float) -> int:
    n, p, limit = 0, rng.random(), math.exp(-lam)
    while p > limit:
        n += 1
        p *= rng.random()
    return n


@cache
def penalties_by_firm(scale: float, seed: int, year: int) -> Counter[str]:
    """Environmental penalty decisions per firm in ``year``, from the authoritative dataset's generator
    (public_environmental_penalties), so the environmental credit grade reflects the same penalties."""
    column = public_records.PENALTY_HEADER.index("统一社会信用代码")
    decisions = public_records.penalties_of_year(scale, seed, year)  # the dataset's own generator, not a re-draw
    return Counter(row[column] for rows in decisions.values() for row in rows)


def esg_rows(scale: float, seed: int, year: int):
    fin = financials(scale, seed, year)
    en = energy(scale, seed, year)
    penalised = penalties_by_firm(scale, seed, year)
    for firm in world.enterprises(scale, seed):
        f = fin.get(firm.uscc)
        if f is None or (firm.size == "微型" and rng_for(seed, "esg_cover", firm.uscc).random() >= ESG_MICRO_COVERAGE):
            continue
        rng = rng_for(seed, "esg", firm.uscc, year)
        industrial = firm.industry_code[0] in "BCDE"
        penalties = penalised[firm.uscc]
        values: dict[str, int] = {}  # 1/10000 units
        compliant = not penalties and (not industrial or rng.random() < 0.9)  # a penalised firm fell short
        values["E01"] = 1_000_000 if compliant else rng.randint(9500, 9990) * 100
        if industrial:
            grade = rng.choices((1, 2, 3, 4, 5), weights=(20, 60, 15, 4, 1))[0]
            values["E05"] = min(5, grade + min(penalties, 2)) * 10_000
            values["E06"] = 10_000 if firm.size in ("大型", "中型") and rng.random() < 0.12 else 0
            values["E07"] = 10_000 if firm.uscc in en and rng.random() < 0.3 else 0
            values["E08"] = rng.randint(600, 980) * 1000
        values["S02"] = 1_000_000 if rng.random() < 0.6 else rng.randint(7000 if firm.size == "微型" else 8500,
                                                                             9999) * 100
        values["S03"] = _poisson(rng, 0.02) * 10_000
        values["S04"] = _poisson(rng, 0.03 if industrial else 0.005) * 10_000
        research = firm.industry_code[0] in "CIM"
        values["S05"] = rng.randint(80, 600) * 100 if research else rng.randint(0, 80) * 100
        values["S06"] = round(f.revenue * rng.uniform(0.03, 0.08) / 100) if f.revenue > 0 else 0  # 万元 ×1e4
        values["S07"] = round_to(f.revenue * rng.uniform(0.0002, 0.002) / 100, 100) if firm.size == "大型" else 0
        values["G02"] = 0 if rng.random() < 0.6 else rng.randint(1, 3000) * 100
        if firm.name.endswith("股份有限公司"):
            listed = firm.listed_by(year_end(year))
            values["G03"] = (rng.choice((3334, 3750, 4000, 4286)) if listed else rng.choice((0, 0, 2000, 3334))) * 100
        values["G04"] = _poisson(rng, 0.3 if firm.size in ("大型", "中型") else 0.08) * 10_000
        for code, dimension, name, unit in ESG_INDICATORS:
            if code in values:
                yield {"year": year, "creditCode": firm.uscc, "dimension": dimension, "indicatorCode": code,
                       "indicatorName": name, "value": fixed(values[code], 4), "unit": unit}


# --- guarantees (snapshot) -----------------------------------------------------------------------------
GUARANTEE_MEMBER_SHARE = 0.04  # firms in the guarantee network (a few per cent: an assumption)
STRUCTURES = {"互保": 0.40, "担保链": 0.30, "担保圈": 0.15, "集团担保": 0.15}
GUARANTEE_TYPES = {"连带责任保证": 0.85, "一般保证": 0.15}
GUARANTEE_FROM = dt.date(2012, 1, 1)


@dataclass(frozen=True)
class Edge:
    guarantor: Enterprise
    debtor: Enterprise
    first_start: dt.date
    term_months: int
    stop: dt.date | None  # the relationship ends (no renewal) from this day
    bank: str
    kind: str


@cache
def guarantee_edges(scale: float, seed: int) -> tuple[Edge, ...]:
    rng = rng_for(seed, "guarantees")
    firms = [f for f in world.enterprises(scale, seed) if f.size != "微型" and f.listed_on is None]
    parents = [f for f in firms if f.size in ("大型", "中型")]
    wanted = world.count(round(world.ENTERPRISES_AT_SCALE_1 * GUARANTEE_MEMBER_SHARE), scale)
    used: set[str] = set()
    edges: list[Edge] = []

    def pick(pool):
        for _ in range(20):
            firm = rng.choice(pool)
            if firm.uscc not in used:
                used.add(firm.uscc)
                return firm
        return None

    def link(a: Enterprise, b: Enterprise, first: dt.date, term: int, stop: dt.date | None) -> None:
        # the members of a structure agree their guarantees together: same years, a few weeks apart
        start = max(first, a.established, b.established) + dt.timedelta(days=rng.randint(0, 60))
        bank = rng.choice(BANKS).code
        kind = rng.choices(list(GUARANTEE_TYPES), weights=list(GUARANTEE_TYPES.values()))[0]
        edges.append(Edge(a, b, start, term, stop, bank, kind))

    while len(used) < wanted and len(used) < len(firms) - 6:
        structure = rng.choices(list(STRUCTURES), weights=list(STRUCTURES.values()))[0]
        if structure == "集团担保" and parents:
            members = [pick(parents)] + [pick(firms) for _ in range(rng.randint(2, 5))]
        else:
            size = {"互保": 2, "担保链": rng.randint(3, 6), "担保圈": rng.randint(3, 5)}.get(structure, 2)
            members = [pick(firms) for _ in range(size)]
        members = [m for m in members if m is not None]
        if len(members) < 2:
            continue
        earliest = max([GUARANTEE_FROM] + [m.established for m in members])
        first = earliest + dt.timedelta(days=rng.randint(0, 8 * 365))
        stop = first + dt.timedelta(days=rng.randint(2 * 365, 12 * 365)) if rng.random() < 0.4 else None
        timing = (first, rng.choice((12, 12, 24, 36)), stop)
        if structure == "互保":
            link(members[0], members[1], *timing)
            link(members[1], members[0], *timing)
        elif structure == "集团担保":
            for member in members[1:]:
                link(members[0], member, *timing)
        else:
            for a, b in itertools.pairwise(members):
                link(a, b, *timing)
            if structure == "担保圈":
                link(members[-1], members[0], *timing)
    return tuple(edges)


_DEBT = {"大型": (1.5e8, 0.6), "中型": (3e7, 0.6), "小型": (5e6, 0.6), "微型": (1e6, 0.5)}


def guarantee_rows(scale: float, seed: int, day: dt.date):
    for number, edge in enumerate(guarantee_edges(scale, seed), 1):
        if not (edge.guarantor.active_on(day) and edge.debtor.active_on(day)) or edge.first_start > day:
            continue
        if edge.stop is not None and edge.stop <= day:
            continue
        months = (day.year - edge.first_start.year) * 12 + day.month - edge.first_start.month
        k = months // edge.term_months
        start = add_months(edge.first_start, k * edge.term_months)
        if start > day:
            k -= 1
            start = add_months(edge.first_start, k * edge.term_months)
        end = add_months(edge.first_start, (k + 1) * edge.term_months) - dt.timedelta(days=1)
        rng = rng_for(seed, "guarantee", number, k)
        median, sigma = _DEBT[edge.debtor.size]
        amount = round_to(median * rng.lognormvariate(0.0, sigma), 100_000)
        yield {
            "guaranteeId": f"DB{start:%Y%m%d}{number:05d}",
            "guarantorCreditCode": edge.guarantor.uscc,
            "debtorCreditCode": edge.debtor.uscc,
            "creditorOrgCode": edge.bank,
            "guaranteeAmount": money(amount * 100),
            "startDate": start,
            "endDate": end,
            "guaranteeType": edge.kind,
        }

