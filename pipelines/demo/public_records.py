"""Demo public records about Huzhou's enterprises and residents, as government open data delivers them.

Four datasets, each in the shape its publisher really uses:

- ``public_environmental_penalties``: the ecological environment bureau's administrative penalty decisions
  (行政处罚决定, published under 双公示), one UTF-8 CSV per decision month.
- ``public_tax_credit_ratings``: the tax bureau's annual taxpayer credit ratings (纳税信用评价结果, A/B/M/C/D),
  one XLSX per evaluation year with a report title above the header, published in April of the next year.
- ``public_dishonest_debtors``: the courts' list of dishonest judgment debtors (失信被执行人名单), a CSV
  snapshot of the whole list, including entries removed since, as of the end of the last month generated.
- ``public_green_behaviours``: residents' green behaviour records (green trips, waste sorting, green
  purchases) from the city's platforms, one CSV per platform and month, people named only by a
  pseudonym (a keyed hash the city's public data platform computes before sharing).

Enterprises are ``world.enterprises(scale, seed)``: every credit code here is a firm of the demo city. A
firm's compliance (a latent draw per firm) is shared by the three enterprise datasets, so a firm that is
penalised is also more likely to be rated C or D and to be listed as a dishonest debtor.

The plan publishes none of these figures: the volumes below are assumptions, stated where they are set.
Deterministic: every year, month and platform draws from its own ``random.Random`` seeded by a string,
so a month's file does not depend on which other months are generated. Money is integer cents.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import hmac
import io
import os
import random
import re
import zipfile
from bisect import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from pathlib import Path

from pipelines.demo import codes, world
from pipelines.demo.codes import WeightedChoice
from pipelines.demo.files import read_csv, write_csv
from pipelines.demo.world import Enterprise

PENALTIES = "public_environmental_penalties"
RATINGS = "public_tax_credit_ratings"
DEBTORS = "public_dishonest_debtors"
BEHAVIOURS = "public_green_behaviours"
DATASETS = (PENALTIES, RATINGS, DEBTORS, BEHAVIOURS)
ENCODING = "utf-8"

# --- environmental penalties -----------------------------------------------------------------------------
PENALTY_HEADER = (
    "处罚月份", "行政处罚决定书文号", "统一社会信用代码", "行政相对人名称", "违法行为类型", "处罚依据",
    "罚款金额(元)", "处罚决定日期", "处罚机关", "公示日期",
)  # fmt: skip
# Penalty decisions a year against the enterprises of the registry at scale 1. An assumption: Zhejiang's
# ecological environment departments decide on the order of ten thousand cases a year and Huzhou holds
# about 5-6% of the province's firms; the trend falls as compliance improves.
PENALTIES_PER_YEAR = {2019: 650, 2020: 600, 2021: 560, 2022: 520, 2023: 490, 2024: 470, 2025: 450}
CITY_BUREAU = "湖州市生态环境局"
# The city bureau (湖州市生态环境局, formed in the 2019 reform) and its district branches; the prefixes of
# their decision numbers (湖环罚〔2020〕12号, 湖长环罚〔2020〕7号) are an assumption in the usual pattern.
AUTHORITIES = {
    None: (CITY_BUREAU, "湖环罚"),
    "330502": ("湖州市生态环境局吴兴分局", "湖吴环罚"),
    "330503": ("湖州市生态环境局南浔分局", "湖浔环罚"),
    "330521": ("湖州市生态环境局德清分局", "湖德环罚"),
    "330522": ("湖州市生态环境局长兴分局", "湖长环罚"),
    "330523": ("湖州市生态环境局安吉分局", "湖安环罚"),
}
_WATER = "《中华人民共和国水污染防治法》"
_AIR = "《中华人民共和国大气污染防治法》"
_WASTE_LAW = "《中华人民共和国固体废物污染环境防治法》"
# Violation type -> (weight, [(in force from, legal basis, minimum fine, maximum fine in yuan)]). The fine
# ranges are the statutory ones; the revised solid-waste law (2020-09-01) and the pollutant discharge
# permit regulation (2021-03-01) changed the basis of two types.
VIOLATIONS: dict[str, tuple[float, tuple[tuple[dt.date, str, int, int], ...]]] = {
    "超标排放水污染物": (0.18, ((dt.date(2018, 1, 1), f"{_WATER}第八十三条", 100_000, 1_000_000),)),
    "超标排放大气污染物": (0.16, ((dt.date(2016, 1, 1), f"{_AIR}第九十九条", 100_000, 1_000_000),)),
    "未依法报批环境影响评价文件擅自开工建设": (  # the cap is a demo bound, the law has none
        0.13, ((dt.date(2016, 9, 1), "《中华人民共和国环境影响评价法》第三十一条", 50_000, 5_000_000),)),
    "配套环境保护设施未经验收即投入生产": (
        0.10, ((dt.date(2017, 10, 1), "《建设项目环境保护管理条例》第二十三条", 200_000, 1_000_000),)),
    "危险废物贮存处置不规范": (0.14, ((dt.date(2016, 11, 7), f"{_WASTE_LAW}第七十五条", 20_000, 200_000),
                                  (dt.date(2020, 9, 1), f"{_WASTE_LAW}第一百一十二条", 100_000, 1_000_000))),
    "未取得排污许可证排放污染物": (0.08, ((dt.date(2018, 1, 1), f"{_WATER}第八十三条", 100_000, 1_000_000),
                                    (dt.date(2021, 3, 1), "《排污许可管理条例》第三十三条", 200_000, 1_000_000))),
    "自动监测设备未正常运行": (0.07, ((dt.date(2018, 1, 1), f"{_WATER}第八十二条", 20_000, 200_000),)),
    "通过暗管等逃避监管的方式排放污染物": (0.04, ((dt.date(2018, 1, 1), f"{_WATER}第八十三条", 100_000, 1_000_000),)),
    "未采取有效措施防治扬尘污染": (0.10, ((dt.date(2016, 1, 1), f"{_AIR}第一百一十五条", 10_000, 100_000),)),
}
_DUST = "未采取有效措施防治扬尘污染"
INDUSTRIAL_VIOLATIONS = WeightedChoice({k: w for k, (w, _) in VIOLATIONS.items() if k != _DUST})
CONSTRUCTION_VIOLATIONS = WeightedChoice({_DUST: 0.6, "未依法报批环境影响评价文件擅自开工建设": 0.25,
                                          "超标排放大气污染物": 0.15})
# Heavily polluting industries (the ministry's list of 重污染行业, by GB/T 4754 division) are penalised
# about five times as often as other manufacturing, and much more than services.
HEAVY_DIVISIONS = {"06", "08", "09", "10", "17", "19", "22", "25", "26", "27", "28", "30", "31", "32", "33", "44"}
SECTION_PENALTY_WEIGHT = {"C": 2.0, "B": 4.0, "D": 1.0, "E": 1.5, "N": 1.5, "A": 0.8}
OTHER_PENALTY_WEIGHT = 0.15

# --- tax credit ratings ------------------------------------------------------------------------------------
RATING_HEADER = ("评价年度", "纳税人识别号", "纳税人名称", "纳税信用级别", "评价得分", "主管税务机关", "发布日期")
RATING_SHEET = "纳税信用评价结果"
TAX_AUTHORITIES = {
    "330502": "国家税务总局湖州市吴兴区税务局", "330503": "国家税务总局湖州市南浔区税务局",
    "330521": "国家税务总局德清县税务局", "330522": "国家税务总局长兴县税务局", "330523": "国家税务总局安吉县税务局",
}  # fmt: skip
# Shares of the established firms by level. An assumption near the national picture (A about a tenth,
# most firms B, D a few percent); firms set up in the evaluation year are rated M (新设立企业).
RATING_SHARES = {"A": 0.11, "B": 0.66, "M": 0.12, "C": 0.08, "D": 0.03}
RATING_SCORES = {"A": (900, 1000), "B": (700, 899), "M": (700, 899), "C": (400, 699), "D": (0, 399)}  # in 0.1
D_DIRECT = 0.6  # of D ratings, those judged D directly (直接判级) and published without a score
RATINGS_FROM = 2014  # 纳税信用管理办法 (试行), in force for the 2014 evaluation year

# --- dishonest judgment debtors --------------------------------------------------------------------------
DEBTOR_HEADER = (
    "案号", "被执行人姓名/名称", "被执行人类型", "统一社会信用代码", "身份证号码", "执行法院", "立案日期",
    "发布日期", "执行标的(元)", "失信被执行人行为具体情形", "被执行人的履行情况", "移除日期",
)  # fmt: skip
FIRM, PERSON = "法人或其他组织", "自然人"
COURTS = {  # court -> its code in case numbers (浙 + GB/T 2260 code without the trailing zeros)
    "湖州市中级人民法院": "05", "湖州市吴兴区人民法院": "0502", "湖州市南浔区人民法院": "0503",
    "德清县人民法院": "0521", "长兴县人民法院": "0522", "安吉县人民法院": "0523",
}  # fmt: skip
DISTRICT_COURT = {"330502": "湖州市吴兴区人民法院", "330503": "湖州市南浔区人民法院", "330521": "德清县人民法院",
                  "330522": "长兴县人民法院", "330523": "安吉县人民法院"}
INTERMEDIATE_SHARE = 0.05  # cases enforced by the intermediate court (large amounts)
# The Supreme People's Court provisions on publishing the list (2013, revised 2017), article 1.
DISHONEST_CONDUCT = WeightedChoice({
    "有履行能力而拒不履行生效法律文书确定义务": 0.52, "违反财产报告制度": 0.26, "违反限制消费令": 0.08,
    "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行": 0.07, "无正当理由拒不履行执行和解协议": 0.05,
    "以伪造证据、暴力、威胁等方法妨碍、抗拒执行": 0.02,
})  # fmt: skip
PERFORMANCE = ("全部未履行", "部分未履行", "已全部履行")
LIST_FROM = dt.date(2013, 10, 1)  # the list has been published since 2013-10-01
DEBTOR_FILINGS_FROM = 2013
# New listings a year at scale 1: an assumption (Huzhou, 3.4 million residents, about 30,000 firms; China
# lists on the order of a few per thousand residents), rising to 2018 and easing after.
FIRM_LISTING_RATE = 0.008  # of active firms a year
PERSON_LISTINGS_PER_YEAR = 2_000
LISTING_TREND = {2013: 0.4, 2014: 0.6, 2015: 0.8, 2016: 1.0, 2017: 1.15, 2018: 1.2, 2019: 1.15, 2020: 1.05,
                 2021: 1.0, 2022: 0.95, 2023: 0.9, 2024: 0.9, 2025: 0.9}
GUARANTOR_SHARE = 0.2  # firm cases that also list a person (the guarantor or legal representative)
DEBTORS_FILE = "dishonest_debtors.csv"
_SURNAMES = WeightedChoice({
    "王": 7, "陈": 8, "张": 6, "李": 5, "沈": 5, "徐": 5, "钱": 3, "吴": 4, "周": 4, "朱": 3, "杨": 3, "金": 3,
    "姚": 2, "施": 2, "潘": 2, "胡": 3, "蒋": 2, "刘": 3, "费": 1, "闵": 1, "凌": 1, "邱": 1, "孙": 2, "黄": 2,
    "俞": 2, "许": 2, "陆": 2, "郑": 2, "叶": 2, "汤": 1, "丁": 1, "戴": 1, "范": 1, "褚": 1, "章": 1, "顾": 1,
})  # fmt: skip
_GIVEN = "建国伟明华军平芳敏丽静强磊杰涛斌勇林红英霞娟萍志刚海燕秀兰宏浩宇晓东国庆春梅新民永根金水雪琴佳慧"

# --- green behaviours ---------------------------------------------------------------------------------------
BEHAVIOUR_HEADER = (
    "统计月份", "记录编号", "用户标识", "区县代码", "行为日期", "行为类型", "数量", "计量单位", "减排量(千克)",
    "来源平台",
)  # fmt: skip


@dataclass(frozen=True)
class Platform:
    code: str  # record id prefix and file name
    name: str


@dataclass(frozen=True)
class Behaviour:
    kind: str
    unit: str
    platform: Platform
    share: float  # of the month's records
    adoption: float  # share of registered users who use it
    median: float  # quantity per record
    sigma: float
    quantum: int  # quantity is drawn in 1/quantum units (10: 0.1 km)
    low: int  # bounds of the quantity in quanta
    high: int
    grams_per_quantum: tuple[tuple[int, float], ...]  # (g CO2 per quantum, weight): the platform's factors


BUS = Platform("HZBUS", "湖州公交")
BIKE = Platform("HZBIKE", "湖州公共自行车")
GREENLIFE = Platform("GREENLIFE", "绿色生活积分平台")
RECYCLE = Platform("RECYCLE", "生活垃圾分类智能回收平台")
PLATFORMS = (BUS, BIKE, GREENLIFE, RECYCLE)
# Reduction factors are assumptions in the range Chinese carbon-inclusion (碳普惠) methods use: against a
# trip by private car, 0.1 kg/km by bus and 0.15 kg/km by bike; 0.06 kg per thousand steps; 0.3 kg per kg
# of sorted recyclables; a green purchase 0.5 to 60 kg by product (bag, eco-labelled good, appliance).
BEHAVIOUR_KINDS = (
    Behaviour("公交出行", "公里", BUS, 0.32, 0.45, 6.0, 0.6, 10, 5, 600, ((10, 1.0),)),
    Behaviour("骑行", "公里", BIKE, 0.12, 0.20, 2.5, 0.6, 10, 3, 300, ((15, 1.0),)),
    Behaviour("步行", "步", GREENLIFE, 0.26, 0.60, 9000, 0.35, 1, 6000, 40000, ((0.06, 1.0),)),
    Behaviour("垃圾分类", "千克", RECYCLE, 0.20, 0.50, 1.5, 0.6, 100, 10, 5000, ((3, 1.0),)),
    Behaviour("绿色消费", "件", GREENLIFE, 0.10, 0.30, 1.0, 0.5, 1, 1, 5,
              ((500, 0.5), (2_000, 0.35), (15_000, 0.1), (60_000, 0.05))),
)
# Registered users of the platforms at scale 1 (about 7% of the 3.37 million residents) and records a month
# in 2020: assumptions. Records grow with the platforms, stated per year against 2020.
USERS_AT_SCALE_1 = 250_000
RECORDS_PER_MONTH_2020 = 200_000
RECORDS_TREND = {2019: 0.8, 2020: 1.0, 2021: 1.15, 2022: 1.25, 2023: 1.35, 2024: 1.45, 2025: 1.5}
_SEASON = (0.90, 0.84, 1.00, 1.05, 1.08, 1.02, 0.96, 0.95, 1.05, 1.07, 1.04, 1.04)
SEASON = tuple(s * 12 / sum(_SEASON) for s in _SEASON)  # mean exactly 1 over the year
# Users by district: roughly the 2020 census population (吴兴 incl. 南太湖新区); an assumption.
USER_DISTRICTS = WeightedChoice({"330502": 0.28, "330503": 0.16, "330521": 0.17, "330522": 0.21, "330523": 0.18})


# --- helpers -----------------------------------------------------------------------------------------------
def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _fixed(value: int, digits: int) -> str:
    """An integer in 1/10**digits units as a decimal string."""
    if digits == 0:
        return str(value)
    unit = 10**digits
    return f"{value // unit}.{value % unit:0{digits}d}"


def _month(label: str) -> tuple[int, int]:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", label):
        raise ValueError(f"not a YYYY-MM month: {label!r}")
    return int(label[:4]), int(label[5:])


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


# Fixed-date public holidays (New Year, Labour Day, National Day); the lunar ones move and are left out.
_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (5, 3), (10, 1), (10, 2), (10, 3), (10, 4), (10, 5), (10, 6), (10, 7)}


def _working(day: dt.date) -> bool:
    return day.weekday() < 5 and (day.month, day.day) not in _HOLIDAYS


def _weekdays(year: int, month: int) -> list[dt.date]:
    """The month's working days."""
    days = (dt.date(year, month, i) for i in range(1, calendar.monthrange(year, month)[1] + 1))
    return [d for d in days if _working(d)]


def _add_working_days(day: dt.date, n: int) -> dt.date:
    while n > 0:
        day += dt.timedelta(days=1)
        n -= _working(day)
    return day


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(map(str, ("public_records", seed, *parts))))


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    return write_csv(path, header, rows, ENCODING)


@cache
def _compliance(scale: float, seed: int) -> dict[str, float]:
    """A latent 0..1 per firm (1 = exemplary) that all three enterprise datasets share."""
    rng = _rng(seed, "compliance")
    return {e.uscc: rng.random() for e in world.enterprises(scale, seed)}


def _wrong_check_char(code: str) -> str:
    return code[:17] + codes.USCC_ALPHABET[(codes.USCC_ALPHABET.index(code[17]) + 1) % 31]


# --- environmental penalties -------------------------------------------------------------------------------
def _penalty_weight(firm: Enterprise, compliance: float) -> float:
    section, division = firm.industry_code[0], firm.industry_code[1:3]
    if division in HEAVY_DIVISIONS and section in "BCD":
        weight = 5.0
    else:
        weight = SECTION_PENALTY_WEIGHT.get(section, OTHER_PENALTY_WEIGHT)
    if section == "A" and division == "03":  # livestock farms: manure discharge
        weight = 2.0
    size = {"大型": 2.0, "中型": 1.5, "小型": 1.0, "微型": 0.6}[firm.size]
    return weight * size * (0.4 + 1.2 * (1.0 - compliance))


def _fine_cents(rng: random.Random, low: int, high: int) -> int:
    """Most fines sit at or near the statutory minimum; rounded to 1,000 yuan."""
    yuan = low if rng.random() < 0.35 else low * (high / low) ** (rng.random() ** 2)
    return max(-(-low // 1000) * 1000, min(high // 1000 * 1000, round(yuan / 1000) * 1000)) * 100


@cache
def penalties_of_year(scale: float, seed: int, year: int) -> dict[int, tuple[tuple[str, ...], ...]]:
    """The year's decisions, by decision month, each a row of PENALTY_HEADER."""
    firms = [e for e in world.enterprises(scale, seed)
             if e.active_on(dt.date(year, 1, 1)) and e.active_on(dt.date(year, 12, 31))]
    target = PENALTIES_PER_YEAR.get(year, PENALTIES_PER_YEAR[min(PENALTIES_PER_YEAR, key=lambda y: abs(y - year))])
    if not firms:
        return {}
    compliance = _compliance(scale, seed)
    rng = _rng(seed, PENALTIES, year)
    weights = [_penalty_weight(f, compliance[f.uscc]) for f in firms]
    chosen = rng.choices(firms, cum_weights=list(accumulate(weights)), k=world.count(target, scale))
    decisions = []
    for firm in chosen:
        month = rng.randint(1, 12)
        day = rng.choice(_weekdays(year, month))
        kind = CONSTRUCTION_VIOLATIONS(rng) if firm.industry_code[0] == "E" else INDUSTRIAL_VIOLATIONS(rng)
        basis, low, high = next((b, lo, hi) for since, b, lo, hi in reversed(VIOLATIONS[kind][1]) if since <= day)
        if kind == "未依法报批环境影响评价文件擅自开工建设":
            # 1% to 5% of the project's total investment, taken as half the firm's registered capital
            capital = firm.registered_capital_yuan
            low, high = min(max(low, capital // 200), high), min(max(low, capital // 40), high)
        cents = _fine_cents(rng, low, high)
        big = firm.size in ("大型", "中型")
        office = None if rng.random() < (0.3 if big else 0.08) else firm.district_code
        disclosed = _add_working_days(day, rng.randint(1, 7))  # published within 7 working days
        decisions.append((day, office, firm, kind, basis, cents, disclosed, rng.randint(1, 4)))
    decisions.sort(key=lambda d: (d[0], list(AUTHORITIES).index(d[1]), d[2].uscc))
    numbers: dict[str | None, int] = defaultdict(int)
    by_month: dict[int, list[tuple[str, ...]]] = defaultdict(list)
    for day, office, firm, kind, basis, cents, disclosed, gap in decisions:
        numbers[office] += gap  # decisions against people and firms outside the registry take numbers too
        authority, prefix = AUTHORITIES[office]
        by_month[day.month].append((
            f"{year}-{day.month:02d}", f"{prefix}〔{year}〕{numbers[office]}号", firm.uscc, firm.name, kind, basis,
            _money(cents), day.isoformat(), authority, disclosed.isoformat()))
    return {month: tuple(rows) for month, rows in by_month.items()}


def generate_penalties(landing: Path, *, scale: float, seed: int, months: Sequence[str],
                       on_file: Callable[[Path, int], None] | None = None) -> list[Path]:
    paths = []
    for label in sorted(set(months)):
        year, month = _month(label)
        rows = penalties_of_year(scale, seed, year).get(month, ())
        path = Path(landing) / PENALTIES / label / f"environmental_penalties_{label}.csv"
        n = _write_csv(path, PENALTY_HEADER, rows)
        paths.append(path)
        if on_file:
            on_file(path, n)
    return paths


# --- tax credit ratings ----------------------------------------------------------------------------------
def rating_publish_date(year: int, seed: int) -> dt.date:
    """The ratings of ``year`` are published on a working day in the second half of April of the next year."""
    return _rng(seed, RATINGS, year, "published").choice(
        [d for d in _weekdays(year + 1, 4) if d.day >= 15])


def _ratings_of_year(scale: float, seed: int, year: int) -> list[tuple[object, ...]]:
    published = rating_publish_date(year, seed)
    year_start, year_end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    firms = [e for e in world.enterprises(scale, seed)
             if e.established <= year_end and e.active_on(year_end) and e.active_on(published)]
    compliance = _compliance(scale, seed)
    rng = _rng(seed, RATINGS, year)
    new = [f for f in firms if f.established >= year_start]
    old = [f for f in firms if f.established < year_start]
    rating = {f.uscc: "M" for f in new}
    # No revenue in the year (M) is a matter of chance; among the others the rank of a noisy compliance
    # score (larger firms keep better books) gives the level, so the shares are met exactly.
    n_m = round(len(old) * RATING_SHARES["M"])
    no_revenue = set(f.uscc for f in rng.sample(old, n_m))
    rest = [f for f in old if f.uscc not in no_revenue]
    rating.update({u: "M" for u in no_revenue})
    bonus = {"大型": 0.25, "中型": 0.12, "小型": 0.0, "微型": -0.05}
    scored = sorted(rest, key=lambda f: -(0.6 * compliance[f.uscc] + 0.4 * rng.random() + bonus[f.size]))
    others = 1 - RATING_SHARES["M"]
    cut, i = 0.0, 0
    for level in ("A", "B", "C", "D"):
        cut += RATING_SHARES[level] / others
        j = len(scored) if level == "D" else round(cut * len(scored))
        rating.update({f.uscc: level for f in scored[i:j]})
        i = j
    rows = []
    for firm in sorted(firms, key=lambda f: (f.district_code, f.uscc)):
        level = rating[firm.uscc]
        low, high = RATING_SCORES[level]
        score = None if level == "D" and rng.random() < D_DIRECT else rng.randint(low // 5, high // 5) * 5 / 10
        rows.append((year, firm.uscc, firm.name, level, score, TAX_AUTHORITIES[firm.district_code], published))
    return rows


def _save_xlsx(book, path: Path, when: dt.datetime) -> None:
    """Save with fixed timestamps (workbook properties and zip entries), so the bytes are reproducible."""
    book.properties.created = when
    buffer = io.BytesIO()
    book.save(buffer)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + stamp.encode() + rb"\g<2>", data)
            info = zipfile.ZipInfo(item.filename, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            dst.writestr(info, data)
    os.replace(tmp, path)


def _write_ratings(path: Path, year: int, rows: list[tuple[object, ...]], when: dt.datetime) -> int:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(RATING_SHEET)
    sheet.append([f"湖州市{year}年度纳税信用评价结果"])
    sheet.append(list(RATING_HEADER))
    for row in rows:
        sheet.append(list(row))
    _save_xlsx(book, path, when)
    return len(rows)


def rating_years(months: Sequence[str], seed: int) -> list[int]:
    """Evaluation years whose ratings were published within ``months`` (in April of the following year)."""
    published = set()
    for label in months:
        year, month = _month(label)
        if month >= rating_publish_date(year - 1, seed).month and year - 1 >= RATINGS_FROM:
            published.add(year - 1)
    return sorted(published)


def generate_ratings(landing: Path, *, scale: float, seed: int, months: Sequence[str],
                     on_file: Callable[[Path, int], None] | None = None) -> list[Path]:
    paths = []
    for year in rating_years(months, seed):
        rows = _ratings_of_year(scale, seed, year)
        path = Path(landing) / RATINGS / str(year) / f"tax_credit_ratings_{year}.xlsx"
        published = rating_publish_date(year, seed)
        n = _write_ratings(path, year, rows, dt.datetime.combine(published, dt.time(9, 0)))
        paths.append(path)
        if on_file:
            on_file(path, n)
    return paths


# --- dishonest judgment debtors ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Listing:
    case_number: str
    name: str
    kind: str
    uscc: str
    person_id: str
    court: str
    filed: dt.date
    published: dt.date
    cents: int
    conduct: str
    unperformed: str  # status until performed: 全部未履行 or 部分未履行
    performed: dt.date | None  # obligation fully performed
    removed: dt.date | None  # removed from the list (performed, or the listing period expired)

    def row(self, as_of: dt.date) -> tuple[str, ...]:
        performed = self.performed is not None and self.performed <= as_of
        removed = self.removed.isoformat() if self.removed is not None and self.removed <= as_of else ""
        return (self.case_number, self.name, self.kind, self.uscc, self.person_id, self.court,
                self.filed.isoformat(), self.published.isoformat(), _money(self.cents), self.conduct,
                PERFORMANCE[2] if performed else self.unperformed, removed)


def _person_name(rng: random.Random) -> str:
    given = "".join(rng.choice(_GIVEN) for _ in range(1 if rng.random() < 0.25 else 2))
    return _SURNAMES(rng) + given


def _day_in_year(rng: random.Random, year: int) -> dt.date:
    return rng.choice(_weekdays(year, rng.randint(1, 12)))


@cache
def _listings_filed_in(scale: float, seed: int, year: int) -> tuple[_Listing, ...]:
    """Every case filed in ``year`` whose debtors end up on the list, whenever that happens."""
    rng = _rng(seed, DEBTORS, year)
    trend = LISTING_TREND.get(year, 0.9)
    firms = [e for e in world.enterprises(scale, seed)
             if e.established <= dt.date(year - 1, 7, 1) and e.active_on(dt.date(year, 1, 1))]
    compliance = _compliance(scale, seed)
    n_firms = round(len(firms) * FIRM_LISTING_RATE * trend)
    size = {"大型": 0.2, "中型": 0.6, "小型": 1.0, "微型": 1.2}
    weights = list(accumulate((1.0 - compliance[f.uscc]) ** 3 * size[f.size] for f in firms))
    debtors: list[tuple[str, str, str, str, str]] = []  # kind, name, uscc, person id, district
    for firm in rng.choices(firms, cum_weights=weights, k=n_firms) if firms and n_firms else ():
        debtors.append((FIRM, firm.name, firm.uscc, "", firm.district_code))
    for _ in range(world.count(round(PERSON_LISTINGS_PER_YEAR * trend), scale)):
        district = USER_DISTRICTS(rng)
        debtors.append((PERSON, _person_name(rng), "", codes.masked_person_id(rng, district), district))
    cases = []
    for kind, name, uscc, person_id, district in debtors:
        filed = _day_in_year(rng, year)
        big = (kind == FIRM and rng.random() < INTERMEDIATE_SHARE * 3) or rng.random() < INTERMEDIATE_SHARE / 2
        court = "湖州市中级人民法院" if big else DISTRICT_COURT[district]
        resumed = rng.random() < 0.1  # 执恢: enforcement resumed after an earlier termination
        median = 500_000 if kind == FIRM else 80_000
        cents = max(100_000, round(median * (5 if big else 1) * rng.lognormvariate(0, 1.1) * 100))
        published = max(filed + dt.timedelta(days=round(rng.lognormvariate(4.6, 0.6))), LIST_FROM)
        published = published if _working(published) else _add_working_days(published, 1)
        parties = [(kind, name, uscc, person_id)]
        if kind == FIRM and rng.random() < GUARANTOR_SHARE:
            parties.append((PERSON, _person_name(rng), "", codes.masked_person_id(rng, district)))
        conduct = DISHONEST_CONDUCT(rng)
        unperformed = PERFORMANCE[1] if rng.random() < 0.3 else PERFORMANCE[0]
        performed = removed = None
        if rng.random() < 0.55:  # most debtors eventually perform; the court removes them within 3 working days
            performed = published + dt.timedelta(days=round(rng.lognormvariate(5.5, 0.8)))
            removed = _add_working_days(performed, rng.randint(1, 3))
        elif rng.random() < 0.3 and published >= dt.date(2017, 5, 1):  # listed for a fixed period (2017 rules)
            removed = published + dt.timedelta(days=rng.choice((365, 730, 730, 1095)))
        cases.append((court, resumed, filed, parties, published, cents, conduct, unperformed, performed, removed))
    # Case numbers run per court, year and kind over every enforcement case, most of which never reach the list.
    cases.sort(key=lambda c: (c[2], c[0], c[3][0][1]))
    numbers: dict[tuple[str, bool], int] = defaultdict(int)
    listings = []
    for court, resumed, filed, parties, published, cents, conduct, unperformed, performed, removed in cases:
        numbers[court, resumed] += rng.randint(1, 12)
        case = f"({year})浙{COURTS[court]}执{'恢' if resumed else ''}{numbers[court, resumed]}号"
        for kind, name, uscc, person_id in parties:
            listings.append(_Listing(case, name, kind, uscc, person_id, court, filed, published, cents, conduct,
                                     unperformed, performed, removed))
    return tuple(listings)


def debtor_rows(scale: float, seed: int, as_of: dt.date) -> list[tuple[str, ...]]:
    """The list as the courts export it on ``as_of``: every debtor published by then, removed ones included."""
    listings = [entry for year in range(DEBTOR_FILINGS_FROM, as_of.year + 1)
                for entry in _listings_filed_in(scale, seed, year) if entry.published <= as_of]
    listings.sort(key=lambda e: (e.published, e.case_number, e.name))
    return [entry.row(as_of) for entry in listings]


def generate_debtors(landing: Path, *, scale: float, seed: int, months: Sequence[str],
                     on_file: Callable[[Path, int], None] | None = None) -> list[Path]:
    if not months:
        return []
    as_of = _month_end(*_month(max(months)))
    path = Path(landing) / DEBTORS / DEBTORS_FILE
    n = _write_csv(path, DEBTOR_HEADER, debtor_rows(scale, seed, as_of))
    if on_file:
        on_file(path, n)
    return [path]


# --- green behaviours --------------------------------------------------------------------------------------
def pseudonym(seed: int, person: int) -> str:
    """The user's pseudonymous id: HMAC-SHA256 under the platform's secret salt, first 128 bits in hex."""
    salt = f"huzhou-public-data-platform:{seed}".encode()
    return hmac.new(salt, f"user:{person}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class _Users:
    ids: tuple[str, ...]
    districts: tuple[str, ...]
    by_kind: dict[str, tuple[tuple[int, ...], tuple[float, ...]]]  # kind -> (users, cumulative activity)


@cache
def _users(scale: float, seed: int) -> _Users:
    rng = _rng(seed, BEHAVIOURS, "users")
    n = world.count(USERS_AT_SCALE_1, scale)
    districts = tuple(USER_DISTRICTS(rng) for _ in range(n))
    by_kind = {}
    for b in BEHAVIOUR_KINDS:
        users = [i for i in range(n) if rng.random() < b.adoption] or [0]
        by_kind[b.kind] = (tuple(users), tuple(accumulate(rng.lognormvariate(0, 1.0) for _ in users)))
    return _Users(tuple(pseudonym(seed, i) for i in range(n)), districts, by_kind)


def records_in_month(scale: float, year: int, month: int) -> int:
    trend = RECORDS_TREND.get(year, RECORDS_TREND[min(RECORDS_TREND, key=lambda y: abs(y - year))])
    return world.count(round(RECORDS_PER_MONTH_2020 * trend * SEASON[month - 1]), scale)


def _behaviour_rows(scale: float, seed: int, year: int, month: int) -> dict[Platform, list[tuple[str, ...]]]:
    users = _users(scale, seed)
    total = records_in_month(scale, year, month)
    label = f"{year}-{month:02d}"
    days = [dt.date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]
    drafts: dict[Platform, list[tuple]] = defaultdict(list)
    for b in BEHAVIOUR_KINDS:
        rng = _rng(seed, BEHAVIOURS, label, b.kind)
        who, cum = users.by_kind[b.kind]
        factors = WeightedChoice({str(i): w for i, (_, w) in enumerate(b.grams_per_quantum)})
        walked: set[tuple[int, dt.date]] = set()
        for _ in range(round(total * b.share)):
            day = rng.choice(days)
            person = who[bisect(cum, rng.random() * cum[-1])]
            if b.kind == "步行":  # the step count is one record per user and day
                for _retry in range(5):
                    if (person, day) not in walked:
                        break
                    person = who[bisect(cum, rng.random() * cum[-1])]
                else:
                    continue
                walked.add((person, day))
            quanta = round(b.median * b.quantum * rng.lognormvariate(0, b.sigma))
            quanta = min(max(quanta, b.low), b.high)
            grams = round(quanta * b.grams_per_quantum[int(factors(rng))][0])
            drafts[b.platform].append((day, b, person, quanta, grams))
    rows: dict[Platform, list[tuple[str, ...]]] = {}
    for platform in PLATFORMS:
        records = sorted(drafts[platform], key=lambda r: (r[0], r[1].kind, r[2]))
        digits = {10: 1, 100: 2, 1: 0}
        rows[platform] = [
            (label, f"{platform.code}{day:%Y%m%d}{seq:07d}", users.ids[person], users.districts[person],
             day.isoformat(), b.kind, _fixed(quanta, digits[b.quantum]), b.unit, _fixed(grams, 3), platform.name)
            for seq, (day, b, person, quanta, grams) in enumerate(records, 1)]
    return rows


def generate_behaviours(landing: Path, *, scale: float, seed: int, months: Sequence[str],
                        on_file: Callable[[Path, int], None] | None = None) -> list[Path]:
    paths = []
    for label in sorted(set(months)):
        year, month = _month(label)
        for platform, rows in _behaviour_rows(scale, seed, year, month).items():
            path = Path(landing) / BEHAVIOURS / label / f"{platform.code.lower()}_{label}.csv"
            n = _write_csv(path, BEHAVIOUR_HEADER, rows)
            paths.append(path)
            if on_file:
                on_file(path, n)
    return paths


# --- the family interface -----------------------------------------------------------------------------------
def generate(landing: Path, *, scale: float, seed: int, months: Sequence[str],
             on_file: Callable[[Path, int], None] | None = None) -> list[Path]:
    """Write the four datasets for ``months``; ratings for the evaluation years published within them (April
    of the following year); the debtor list as of the end of the last month."""
    for label in months:
        _month(label)
    paths = []
    for make in (generate_penalties, generate_ratings, generate_debtors, generate_behaviours):
        paths += make(Path(landing), scale=scale, seed=seed, months=months, on_file=on_file)
    return sorted(paths)


# --- defects, for exercising validation and quarantine -----------------------------------------------------
# Per dataset: defect -> (column, rule) the loader quarantines it under.
DEFECTS = {
    PENALTIES: {
        "bad_uscc_check": (None, "unified_credit_code_valid"),
        "unknown_violation_type": ("violation_type", "validValues"),
        "negative_amount": ("penalty_amount", "minimum"),
        "decision_outside_month": (None, "decision_in_month"),
    },
    RATINGS: {
        "bad_uscc_check": (None, "unified_credit_code_valid"),
        "unknown_rating": ("credit_rating", "validValues"),
        "negative_score": ("score", "minimum"),
        "published_within_year": (None, "published_after_year"),
    },
    DEBTORS: {
        "bad_uscc_check": (None, "unified_credit_code_valid"),
        "unknown_performance": ("performance_status", "validValues"),
        "negative_amount": ("enforcement_amount", "minimum"),
        "published_before_filing": (None, "published_after_filing"),
    },
    BEHAVIOURS: {
        "unknown_behaviour": ("behaviour_type", "validValues"),
        "negative_quantity": ("quantity", "minimum"),
        "date_outside_month": (None, "record_in_month"),
        "bad_pseudonym": ("person_id", "pattern"),
    },
}


def dataset_of(path: Path) -> str:
    for name in DATASETS:
        if name in Path(path).parts:
            return name
    raise ValueError(f"{path} is not a file of the public_records family")


def _shift_out_of_month(day: str) -> str:
    d = dt.date.fromisoformat(day)
    first = d.replace(day=1)
    return (first - dt.timedelta(days=1) if d.month > 1 else _month_end(d.year, d.month) + dt.timedelta(days=1)
            ).isoformat()


def _defect_csv_row(dataset: str, defect: str, row: list[str], col: dict[str, int]) -> None:
    if dataset == PENALTIES:
        if defect == "bad_uscc_check":
            row[col["统一社会信用代码"]] = _wrong_check_char(row[col["统一社会信用代码"]])
        elif defect == "unknown_violation_type":
            row[col["违法行为类型"]] = "其他违法行为"
        elif defect == "negative_amount":
            row[col["罚款金额(元)"]] = "-" + row[col["罚款金额(元)"]]
        else:
            shifted = _shift_out_of_month(row[col["处罚决定日期"]])
            row[col["处罚决定日期"]] = shifted
            row[col["公示日期"]] = max(row[col["公示日期"]], shifted)
            year = shifted[:4]
            row[col["行政处罚决定书文号"]] = re.sub(r"〔\d{4}〕", f"〔{year}〕", row[col["行政处罚决定书文号"]])
    elif dataset == DEBTORS:
        if defect == "bad_uscc_check":
            row[col["统一社会信用代码"]] = _wrong_check_char(row[col["统一社会信用代码"]])
        elif defect == "unknown_performance":
            row[col["被执行人的履行情况"]] = "履行中"
        elif defect == "negative_amount":
            row[col["执行标的(元)"]] = "-" + row[col["执行标的(元)"]]
        else:
            filed = dt.date.fromisoformat(row[col["立案日期"]])
            row[col["发布日期"]] = max(filed - dt.timedelta(days=1), LIST_FROM).isoformat()
            if row[col["发布日期"]] >= row[col["立案日期"]]:  # filed before the list existed: move the filing
                row[col["立案日期"]] = (LIST_FROM + dt.timedelta(days=1)).isoformat()
                row[col["案号"]] = re.sub(r"^\(\d{4}\)", "(2013)", row[col["案号"]])
            removed = row[col["移除日期"]]
            if removed and removed < row[col["发布日期"]]:
                row[col["移除日期"]] = row[col["发布日期"]]
    else:  # behaviours
        if defect == "unknown_behaviour":
            row[col["行为类型"]] = "驾车出行"
        elif defect == "negative_quantity":
            row[col["数量"]] = "-" + row[col["数量"]]
        elif defect == "date_outside_month":
            row[col["行为日期"]] = _shift_out_of_month(row[col["行为日期"]])
        else:
            row[col["用户标识"]] = row[col["用户标识"]][:31].upper() + "Z"


def _pick(rows: Sequence[object], rate: float, rng: random.Random) -> list[int]:
    return sorted(rng.sample(range(len(rows)), min(len(rows), round(rate * len(rows)))))


def inject_defects(path: Path, rate: float, seed: int) -> int:
    """Give about ``rate`` of the file's rows one defect each (see DEFECTS, in turn); return how many."""
    path = Path(path)
    dataset = dataset_of(path)
    kinds = list(DEFECTS[dataset])
    rng = random.Random(f"defects:{seed}:{path.parent.name}/{path.name}")
    if dataset == RATINGS:
        return _inject_rating_defects(path, rate, rng, kinds)
    header, rows = read_csv(path, ENCODING)
    col = {name: i for i, name in enumerate(header)}
    chosen = _pick(rows, rate, rng)
    # A person has no credit code to break: that defect goes to a firm's row the draw left out, if any.
    spare_firms = [] if dataset != DEBTORS else [
        j for j in range(len(rows)) if rows[j][col["被执行人类型"]] == FIRM and j not in set(chosen)]
    for n, i in enumerate(chosen):
        defect = kinds[n % len(kinds)]
        if defect == "bad_uscc_check" and dataset == DEBTORS and rows[i][col["被执行人类型"]] != FIRM:
            if spare_firms:
                i = spare_firms.pop(rng.randrange(len(spare_firms)))
            else:
                defect = "negative_amount"
        _defect_csv_row(dataset, defect, rows[i], col)
    _write_csv(path, header, rows)
    return len(chosen)


def _inject_rating_defects(path: Path, rate: float, rng: random.Random, kinds: list[str]) -> int:
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheet = book[RATING_SHEET]
    header = [c.value for c in sheet[2]]
    col = {name: i + 1 for i, name in enumerate(header)}
    rows = list(range(3, sheet.max_row + 1))
    chosen = _pick(rows, rate, rng)
    for n, i in enumerate(chosen):
        r = rows[i]
        defect = kinds[n % len(kinds)]
        if defect == "bad_uscc_check":
            cell = sheet.cell(r, col["纳税人识别号"])
            cell.value = _wrong_check_char(cell.value)
        elif defect == "unknown_rating":
            sheet.cell(r, col["纳税信用级别"]).value = "E"
        elif defect == "negative_score":
            sheet.cell(r, col["评价得分"]).value = -(sheet.cell(r, col["评价得分"]).value or 10.0)
        else:
            year = sheet.cell(r, col["评价年度"]).value
            sheet.cell(r, col["发布日期"]).value = dt.datetime(year, 12, 31)
    published = sheet.cell(3, col["发布日期"]).value if sheet.max_row >= 3 else None
    when = published if isinstance(published, dt.datetime) else dt.datetime(2000, 1, 1)
    _save_xlsx(book, path, when.replace(hour=9))
    return len(chosen)
