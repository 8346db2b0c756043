"""The demo city: the enterprises, banks and local financial organisations every demo source describes.

One data, one source holds in the demo too: a bank's loan report, the public data platform's registry,
a penalty record and a small-loan company's return all name the same enterprises by the same unified
social credit code, because they all draw from this module. Counts are the plan's (39 listed companies
at the end of 2020, 83 local financial organisations, five districts) at ``scale`` 1, and shrink with it.

Deterministic: each population draws from its own ``random.Random`` seeded by (seed, population name),
so adding a field to one population never changes another.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from functools import cache

from pipelines.demo import codes
from pipelines.demo.codes import WeightedChoice

DEFAULT_SEED = 20201231

# Enterprises known to the public data platform at scale 1. Huzhou's ESG evaluation covers about 23,000
# firms [domain-methods.md]; the registry also holds firms without an evaluation. An assumption.
ENTERPRISES_AT_SCALE_1 = 30_000
LISTED_BY_YEAR_END = {2015: 22, 2020: 39, 2025: 70}  # the plan's indicator table (境内外上市公司数)
IPO_RESERVE_AT_SCALE_1 = 150  # 上市后备企业: an assumption, configurable here
# Local financial organisations (地方金融组织), 83 at the end of 2020 per the plan; the split by type is an
# assumption.
LOCAL_FINANCE_AT_SCALE_1 = {"小额贷款公司": 30, "融资担保公司": 20, "典当行": 25, "民间融资服务中心": 8}

SIZES = ("大型", "中型", "小型", "微型")  # enterprise size classes (statistical standard 2017)
SIZE_CHOICE = WeightedChoice({"大型": 0.015, "中型": 0.085, "小型": 0.40, "微型": 0.50})
# Registered capital in yuan by size: (median, sigma of the log-normal spread)
_CAPITAL = {"大型": (5e8, 0.8), "中型": (5e7, 0.7), "小型": (5e6, 0.7), "微型": (1e6, 0.6)}
# Firm-name parts: a 字号 from two characters, then a line of business by section.
_NAME_CHARS = "天华恒信达盛宏远新安泰和丰瑞联合鑫源永康金晟嘉德明辉佳美博达昌隆兴旺富广利通顺成锦"
_BUSINESS = {
    "A": "农业发展", "B": "矿业", "C": "制造", "D": "能源", "E": "建设", "F": "贸易", "G": "物流", "H": "餐饮",
    "I": "信息技术", "K": "置业", "L": "商务服务", "M": "科技", "N": "环境工程", "O": "服务", "P": "教育科技",
    "Q": "健康管理", "R": "文化传媒",
}  # fmt: skip


def count(at_scale_1: int, scale: float) -> int:
    """A population's size at ``scale``: proportional, never below one."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    return max(1, round(at_scale_1 * scale))


def _rng(seed: int, population: str) -> random.Random:
    return random.Random(f"{seed}:{population}")


@dataclass(frozen=True)
class Enterprise:
    uscc: str
    name: str
    industry_code: str  # section letter + GB/T 4754-2017 class, e.g. C3011
    district_code: str
    size: str
    registered_capital_yuan: int
    established: dt.date
    deregistered: dt.date | None  # None while the firm exists (存续)
    listed_on: dt.date | None  # first day of trading, if ever listed in the demo's history
    ipo_reserve_from: dt.date | None  # entered the city's IPO reserve list

    def active_on(self, day: dt.date) -> bool:
        return self.established <= day and (self.deregistered is None or day < self.deregistered)

    def listed_by(self, day: dt.date) -> bool:
        return self.listed_on is not None and self.listed_on <= day


def _name(rng: random.Random, district: str, section: str, size: str) -> str:
    place = "浙江" if size == "大型" else ("湖州" if rng.random() < 0.6 else codes.DISTRICTS[district][:2])
    brand = "".join(rng.sample(_NAME_CHARS, 2))
    form = "股份有限公司" if size in ("大型", "中型") and rng.random() < 0.5 else "有限公司"
    return f"{place}{brand}{_BUSINESS.get(section, '实业')}{form}"


def _day_between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return dt.date.fromordinal(rng.randint(first.toordinal(), last.toordinal()))


@cache
def enterprises(scale: float = 1.0, seed: int = DEFAULT_SEED) -> tuple[Enterprise, ...]:
    """The registry's enterprises (entity type 91), in a fixed order; listed ones first by listing date."""
    rng = _rng(seed, "enterprises")
    n = count(ENTERPRISES_AT_SCALE_1, scale)
    district = WeightedChoice(codes.DISTRICT_WEIGHTS)
    seen: set[str] = set()
    firms = []
    for _ in range(n):
        size = SIZE_CHOICE(rng)
        dist = district(rng)
        industry = codes.pick_industry(rng, codes.ENTERPRISE_SECTIONS)
        uscc = codes.make_uscc(rng, dist)
        while uscc in seen:
            uscc = codes.make_uscc(rng, dist)
        seen.add(uscc)
        median, sigma = _CAPITAL[size]
        capital = int(round(median * rng.lognormvariate(0, sigma), -4))
        established = _day_between(rng, dt.date(1990, 1, 1), dt.date(2024, 12, 31))
        deregistered = None
        if rng.random() < 0.04:
            deregistered = _day_between(rng, max(established, dt.date(2019, 1, 1)), dt.date(2025, 12, 31))
            if deregistered <= established:
                deregistered = None
        firms.append([uscc, _name(rng, dist, industry[0], size), industry, dist, size, capital, established,
                      deregistered, None, None])
    # Listing: the largest firms in manufacturing and energy list first; counts follow the plan by year.
    candidates = sorted((f for f in firms if f[4] in ("大型", "中型") and f[7] is None),
                        key=lambda f: (f[4] != "大型", -f[5]))
    listed_2015, listed_2020, listed_2025 = (count(LISTED_BY_YEAR_END[y], scale) for y in (2015, 2020, 2025))
    for i, firm in enumerate(candidates[:listed_2025]):
        if i < listed_2015:
            firm[8] = _day_between(rng, dt.date(2000, 1, 1), dt.date(2015, 12, 31))
        elif i < listed_2020:
            firm[8] = _day_between(rng, dt.date(2016, 1, 1), dt.date(2020, 12, 31))
        else:
            firm[8] = _day_between(rng, dt.date(2021, 1, 1), dt.date(2025, 12, 31))
        firm[6] = min(firm[6], firm[8] - dt.timedelta(days=3 * 365))
        if i >= listed_2015:  # listed after years on the reserve list
            firm[9] = firm[8] - dt.timedelta(days=rng.randint(365, 3 * 365))
    for firm in candidates[listed_2025:listed_2025 + count(IPO_RESERVE_AT_SCALE_1, scale)]:
        firm[9] = _day_between(rng, dt.date(2018, 1, 1), dt.date(2025, 6, 30))
    built = [Enterprise(*f) for f in firms]
    far = dt.date.max
    return tuple(sorted(built, key=lambda e: (e.listed_on or far, e.uscc)))


@dataclass(frozen=True)
class Bank:
    code: str  # PBoC financial institution code: letter, 4-digit institution, 6-digit region, 3-digit serial
    name: str
    loan_prefix: str
    home_district: str | None = None  # county rural banks lend mostly at home


# The reporting banks, largest first. Their loan-level reports are the bank_loans source.
BANKS = (
    Bank("C1331330500001", "湖州银行", "HZB"),
    Bank("C1030330500001", "农业银行湖州分行", "ABC"),
    Bank("C1020330500001", "工商银行湖州分行", "ICB"),
    Bank("C1050330500001", "建设银行湖州分行", "CCB"),
    Bank("C1402330502001", "吴兴农商银行", "WXR", "330502"),
    Bank("C1402330523001", "安吉农商银行", "AJR", "330523"),
    Bank("C1040330500001", "中国银行湖州分行", "BOC"),
    Bank("C1402330521001", "德清农商银行", "DQR", "330521"),
    Bank("C1402330522001", "长兴农商银行", "CXR", "330522"),
    Bank("C1402330503001", "南浔农商银行", "NXR", "330503"),
    Bank("C1301330500001", "交通银行湖州分行", "BCM"),
    Bank("C1316330500001", "浙商银行湖州分行", "CZB"),
)


@dataclass(frozen=True)
class LocalFinanceOrg:
    uscc: str
    name: str
    org_type: str  # one of LOCAL_FINANCE_AT_SCALE_1
    district_code: str
    registered_capital_yuan: int
    licensed_on: dt.date


_LFO_NAME = {
    "小额贷款公司": "湖州市{district}{brand}小额贷款有限公司", "融资担保公司": "湖州{brand}融资担保有限公司",
    "典当行": "湖州{brand}典当有限责任公司", "民间融资服务中心": "{district}{brand}民间融资服务中心有限公司",
}
_LFO_CAPITAL = {"小额贷款公司": 2e8, "融资担保公司": 1.5e8, "典当行": 3e7, "民间融资服务中心": 1e7}


@cache
def local_finance_orgs(scale: float = 1.0, seed: int = DEFAULT_SEED) -> tuple[LocalFinanceOrg, ...]:
    rng = _rng(seed, "local_finance_orgs")
    orgs = []
    for org_type, n in LOCAL_FINANCE_AT_SCALE_1.items():
        for i in range(count(n, scale)):
            dist = list(codes.DISTRICTS)[i % len(codes.DISTRICTS)]
            capital = int(round(_LFO_CAPITAL[org_type] * rng.uniform(0.5, 2.0), -6))
            district = codes.DISTRICTS[dist]
            name = _LFO_NAME[org_type].format(district=district, brand="".join(rng.sample(_NAME_CHARS, 2)))
            licensed = _day_between(rng, dt.date(2008, 1, 1), dt.date(2020, 6, 30))
            orgs.append(LocalFinanceOrg(codes.make_uscc(rng, dist), name, org_type, dist, capital, licensed))
    return tuple(orgs)
