"""Demo regulatory reports of Huzhou's financial institutions besides the loan report, as they land in ``landing/``.

Four datasets, each a CSV export in GB18030 with Chinese headers, as the PBoC and regulator statistics are:

- ``bank_deposits/<YYYY-MM>/<bank code>.csv``: deposits by category at month end, one file per reporting bank
  (all 12 of ``world.BANKS`` at every scale). All banks together are the city's deposits: 5956.58 亿元 at the
  end of 2020 (the plan's indicator table), growing 21.15% a year up to 2020 (the plan's stated rate) and 9%
  a year afterwards (an assumption), with quarter-end peaks; ``scale`` scales the amounts.
- ``bank_green_bonds/<YYYY-MM>/green_bonds_<YYYY-MM>.csv``: green bonds issued by Huzhou issuers in the month,
  one file per month, only the header when none was issued. 29 bonds in 2020 (the plan), other years an
  assumption; counts scale with ``world.count``. Issuers are the legal-person reporting banks (green
  financial bonds) and the larger firms of ``world.enterprises``; interbank instruments are underwritten by
  the reporting banks, exchange bonds by the securities firms of the registry below.
- ``bank_insurance_premiums/<YYYY-MM>/insurance_premiums_<YYYY-MM>.csv``: premium income by insurer, line of
  business and product, with the green insurance products flagged; one file per month. 127.7 亿元 in 2020
  (the plan), green premiums growing 4.5% in 2020 and 10% in 2025 (the plan's targets, interpolated).
- ``bank_institutions/institutions.csv``: the registry of licensed financial institutions, a full snapshot at
  the end of the last month generated. 93 institutions at the end of 2015, 128 at the end of 2020 and 41
  green specialised institutions (绿色专营机构) in 2020 (the plan); it holds the 12 reporting banks with
  their codes and names, the insurers of the premium report and the underwriters of the bond report.

Institution codes follow the shape of the PBoC financial institution code (letter, 4-digit institution,
6-digit region, 3-digit serial): C deposit-taking banks, D other banking institutions, E securities and
futures, F insurers. The 4-digit numbers of institutions other than the reporting banks are made up.

Deterministic: each dataset and period draws from its own ``random.Random`` seeded by (dataset, seed,
period) as a string, so a month's file does not depend on which other months are generated.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from pipelines.demo import codes, world
from pipelines.demo.files import read_csv, write_csv
from pipelines.demo.months import month_end as _month_end
from pipelines.demo.months import month_index as _month_index
from pipelines.demo.months import month_str as _month_str
from pipelines.demo.world import BANKS, Bank

ENCODING = "gb18030"
YES, NO = "是", "否"
DATASETS = ("bank_deposits", "bank_green_bonds", "bank_insurance_premiums", "bank_institutions")
REGISTRY_FILE = "institutions.csv"


# --- shared helpers -----------------------------------------------------------------------------------
def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _day_between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return dt.date.fromordinal(rng.randint(first.toordinal(), max(first, last).toordinal()))


def _add_years(day: dt.date, years: int) -> dt.date:
    return day.replace(year=day.year + years, day=min(day.day, calendar.monthrange(day.year + years, day.month)[1]))


def _apportion(total_cents: int, weights: Sequence[float]) -> list[int]:
    """Split ``total_cents`` in proportion to ``weights`` into whole cents that add up exactly."""
    whole = sum(weights)
    if not weights or whole <= 0:
        return [0] * len(weights)
    exact = [total_cents * w / whole for w in weights]
    parts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))
    for i in by_remainder[: total_cents - sum(parts)]:
        parts[i] += 1
    return parts


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    return write_csv(path, header, rows, ENCODING)


# --- the registry of licensed financial institutions --------------------------------------------------
KINDS = ("银行", "保险", "证券", "期货", "信托", "其他")
SUBTYPES = {
    "银行": ("政策性银行", "国有大型商业银行", "股份制商业银行", "城市商业银行", "农村商业银行", "村镇银行"),
    "保险": ("财产险公司", "人身险公司"),
    "证券": ("证券公司分公司", "证券营业部"),
    "期货": ("期货公司营业部",),
    "信托": ("信托公司",),
    "其他": ("金融资产管理公司", "金融租赁公司", "消费金融公司"),
}
ACTIVE, CLOSED, MERGED = "正常营业", "已撤销", "已合并"
LEGAL_PERSON, BRANCH = "法人机构", "分支机构"
CITY = "330502"  # city-level branches sit in 吴兴区 (the 南太湖新区 has no division code of its own)


@dataclass(frozen=True)
class Institution:
    code: str
    name: str
    kind: str  # one of KINDS
    subtype: str  # one of SUBTYPES[kind]
    legal_person: bool
    parent: str  # the superior institution of a branch; "" for a legal person
    district: str
    capital_cents: int  # registered capital of a legal person, working capital allotted to a branch
    licensed: dt.date
    closed: dt.date | None = None
    closure: str = ""  # CLOSED or MERGED when closed
    green_since: dt.date | None = None

    @property
    def uscc(self) -> str:
        return institution_uscc(self.code, self.district)

    def active_on(self, day: dt.date) -> bool:
        return self.licensed <= day and (self.closed is None or day < self.closed)


@cache
def institution_uscc(code: str, district: str) -> str:
    """The institution's unified social credit code: drawn from its code, so every dataset agrees on it."""
    return codes.make_uscc(random.Random(f"institution_uscc:{code}"), district)


def bank_uscc(bank: Bank) -> str:
    return institution_uscc(bank.code, bank.home_district or CITY)


# The reporting banks: subtype, superior institution, licence date (assumed) and capital in 亿元 (assumed).
_REPORTING = {
    "湖州银行": ("城市商业银行", "", dt.date(1998, 5, 18), 16.0),
    "农业银行湖州分行": ("国有大型商业银行", "中国农业银行股份有限公司浙江省分行", dt.date(1980, 3, 1), 5.0),
    "工商银行湖州分行": ("国有大型商业银行", "中国工商银行股份有限公司浙江省分行", dt.date(1985, 1, 1), 5.0),
    "建设银行湖州分行": ("国有大型商业银行", "中国建设银行股份有限公司浙江省分行", dt.date(1985, 6, 1), 4.0),
    "吴兴农商银行": ("农村商业银行", "", dt.date(2011, 6, 28), 9.2),
    "安吉农商银行": ("农村商业银行", "", dt.date(2013, 1, 18), 8.5),
    "中国银行湖州分行": ("国有大型商业银行", "中国银行股份有限公司浙江省分行", dt.date(1987, 9, 1), 3.0),
    "德清农商银行": ("农村商业银行", "", dt.date(2014, 1, 10), 8.0),
    "长兴农商银行": ("农村商业银行", "", dt.date(2011, 12, 20), 10.0),
    "南浔农商银行": ("农村商业银行", "", dt.date(2014, 10, 16), 7.0),
    "交通银行湖州分行": ("国有大型商业银行", "交通银行股份有限公司浙江省分行", dt.date(1994, 8, 1), 2.0),
    "浙商银行湖州分行": ("股份制商业银行", "浙商银行股份有限公司", dt.date(2009, 8, 28), 2.0),
}

# Other licensed banks, oldest first: (name, 4-digit institution, subtype, district). Names are real banks'
# branch names or plausible village banks; which are in Huzhou and since when is made up.
_OTHER_BANKS = (
    ("农业发展银行湖州市分行", "0203", "政策性银行", CITY),
    ("邮储银行湖州市分行", "1100", "国有大型商业银行", CITY),
    ("中信银行湖州分行", "1302", "股份制商业银行", CITY),
    ("光大银行湖州分行", "1303", "股份制商业银行", CITY),
    ("华夏银行湖州分行", "1304", "股份制商业银行", CITY),
    ("民生银行湖州分行", "1305", "股份制商业银行", CITY),
    ("招商银行湖州分行", "1308", "股份制商业银行", CITY),
    ("兴业银行湖州分行", "1309", "股份制商业银行", CITY),
    ("浦发银行湖州分行", "1310", "股份制商业银行", CITY),
    ("杭州银行湖州分行", "1332", "城市商业银行", CITY),
    ("宁波银行湖州分行", "1333", "城市商业银行", CITY),
    ("泰隆银行湖州分行", "1334", "城市商业银行", CITY),
    ("长兴联合村镇银行", "1501", "村镇银行", "330522"),
    ("安吉交银村镇银行", "1502", "村镇银行", "330523"),
    ("德清湖商村镇银行", "1503", "村镇银行", "330521"),
    ("稠州银行湖州分行", "1335", "城市商业银行", CITY),
    ("民泰银行湖州分行", "1336", "城市商业银行", CITY),
    ("南浔富民村镇银行", "1504", "村镇银行", "330503"),
    ("温州银行湖州分行", "1338", "城市商业银行", CITY),
    ("台州银行湖州分行", "1337", "城市商业银行", CITY),
    ("广发银行湖州分行", "1306", "股份制商业银行", CITY),
    ("平安银行湖州分行", "1307", "股份制商业银行", CITY),
    ("上海银行湖州分行", "1339", "城市商业银行", CITY),
    ("南京银行湖州分行", "1340", "城市商业银行", CITY),
    ("金华银行湖州分行", "1341", "城市商业银行", CITY),
    ("吴兴恒信村镇银行", "1505", "村镇银行", "330502"),
    ("绍兴银行湖州分行", "1342", "城市商业银行", CITY),
    ("嘉兴银行湖州分行", "1343", "城市商业银行", CITY),
    ("江苏银行湖州分行", "1344", "城市商业银行", CITY),
    ("渤海银行湖州分行", "1311", "股份制商业银行", CITY),
    ("恒丰银行湖州分行", "1312", "股份制商业银行", CITY),
    ("农业发展银行长兴县支行", "0203", "政策性银行", "330522"),
    ("农业发展银行安吉县支行", "0203", "政策性银行", "330523"),
    ("北京银行湖州分行", "1346", "城市商业银行", CITY),
    ("中国进出口银行湖州业务部", "0202", "政策性银行", CITY),
)
_PNC = (
    "中国人民财产保险股份有限公司湖州市分公司", "中国平安财产保险股份有限公司湖州中心支公司",
    "中国太平洋财产保险股份有限公司湖州中心支公司", "中国人寿财产保险股份有限公司湖州市中心支公司",
    "中国大地财产保险股份有限公司湖州中心支公司", "中华联合财产保险股份有限公司湖州中心支公司",
    "阳光财产保险股份有限公司湖州中心支公司", "太平财产保险有限公司湖州中心支公司",
    "天安财产保险股份有限公司湖州中心支公司", "华安财产保险股份有限公司湖州中心支公司",
    "永安财产保险股份有限公司湖州中心支公司", "浙商财产保险股份有限公司湖州中心支公司",
    "英大泰和财产保险股份有限公司湖州中心支公司", "安盛天平财产保险有限公司湖州中心支公司",
    "紫金财产保险股份有限公司湖州中心支公司", "都邦财产保险股份有限公司湖州中心支公司",
    "鼎和财产保险股份有限公司湖州中心支公司", "渤海财产保险股份有限公司湖州中心支公司",
    "永诚财产保险股份有限公司湖州中心支公司", "中银保险有限公司湖州中心支公司",
    "国任财产保险股份有限公司湖州中心支公司", "华泰财产保险有限公司湖州中心支公司",
    "亚太财产保险有限公司湖州中心支公司", "长安责任保险股份有限公司湖州中心支公司",
    "利宝保险有限公司湖州中心支公司", "安诚财产保险股份有限公司湖州中心支公司",
    "华海财产保险股份有限公司湖州中心支公司", "众诚汽车保险股份有限公司湖州中心支公司",
    "北部湾财产保险股份有限公司湖州中心支公司", "锦泰财产保险股份有限公司湖州中心支公司",
)  # fmt: skip
_LIFE = (
    "中国人寿保险股份有限公司湖州分公司", "中国平安人寿保险股份有限公司湖州中心支公司",
    "中国太平洋人寿保险股份有限公司湖州中心支公司", "新华人寿保险股份有限公司湖州中心支公司",
    "泰康人寿保险有限责任公司湖州中心支公司", "太平人寿保险有限公司湖州中心支公司",
    "中国人民人寿保险股份有限公司湖州中心支公司", "富德生命人寿保险股份有限公司湖州中心支公司",
    "阳光人寿保险股份有限公司湖州中心支公司", "天安人寿保险股份有限公司湖州中心支公司",
    "华夏人寿保险股份有限公司湖州中心支公司", "民生人寿保险股份有限公司湖州中心支公司",
    "百年人寿保险股份有限公司湖州中心支公司", "光大永明人寿保险有限公司湖州中心支公司",
    "中英人寿保险有限公司湖州中心支公司", "工银安盛人寿保险有限公司湖州中心支公司",
    "建信人寿保险股份有限公司湖州中心支公司", "农银人寿保险股份有限公司湖州中心支公司",
    "交银人寿保险有限公司湖州中心支公司", "中邮人寿保险股份有限公司湖州中心支公司",
    "国华人寿保险股份有限公司湖州中心支公司", "信泰人寿保险股份有限公司湖州中心支公司",
    "招商信诺人寿保险有限公司湖州中心支公司", "中意人寿保险有限公司湖州中心支公司",
    "中信保诚人寿保险有限公司湖州中心支公司", "长城人寿保险股份有限公司湖州中心支公司",
    "英大泰和人寿保险股份有限公司湖州中心支公司", "君龙人寿保险有限公司湖州中心支公司",
    "大家人寿保险股份有限公司湖州中心支公司", "利安人寿保险股份有限公司湖州中心支公司",
    "恒安标准人寿保险有限公司湖州中心支公司", "幸福人寿保险股份有限公司湖州中心支公司",
    "友邦人寿保险有限公司湖州中心支公司", "中宏人寿保险有限公司湖州中心支公司",
)  # fmt: skip
_BROKERS = (
    "财通证券", "浙商证券", "国泰君安证券", "中信证券", "华泰证券", "海通证券", "中国银河证券", "申万宏源证券",
    "广发证券", "招商证券", "国信证券", "光大证券", "东方证券", "安信证券", "中泰证券", "方正证券", "兴业证券",
    "长江证券", "东吴证券", "平安证券", "国元证券", "华鑫证券", "湘财证券", "国都证券", "东海证券", "华西证券",
)  # fmt: skip
# Where a securities branch sits: (place in its name, district)
_BROKER_PLACES = (
    ("湖州", CITY), ("湖州红旗路", CITY), ("湖州人民路", CITY), ("长兴明珠路", "330522"), ("德清武康", "330521"),
    ("安吉昌硕东路", "330523"), ("湖州南浔", "330503"), ("湖州凤凰路", CITY), ("湖州织里", CITY),
)  # fmt: skip
_FUTURES = ("南华期货", "永安期货", "浙商期货", "大地期货", "信达期货", "国泰君安期货", "中信期货", "新湖期货")
_OTHERS = (
    ("中国信达资产管理股份有限公司浙江省分公司湖州办事处", "0101", "金融资产管理公司"),
    ("中国华融资产管理股份有限公司浙江省分公司湖州办事处", "0102", "金融资产管理公司"),
    ("浙江浙银金融租赁股份有限公司湖州业务部", "0201", "金融租赁公司"),
    ("杭银消费金融股份有限公司湖州分公司", "0301", "消费金融公司"),
    ("浙江省浙商资产管理股份有限公司湖州分公司", "0103", "金融资产管理公司"),
    ("浙江稠州金融租赁有限公司湖州业务部", "0202", "金融租赁公司"),
    ("宁银消费金融股份有限公司湖州分公司", "0302", "消费金融公司"),
)

# Institutions other than the 12 reporting banks, at scale 1: licensed and operating at the end of 2015,
# 2020 and 2025, and closed in 2016-2020 and 2021-2025. Totals: 93 at the end of 2015 and 128 at the end of
# 2020 (the plan), 141 at the end of 2025 (an assumption); the split by kind is an assumption.
REGISTRY_AT_SCALE_1 = {  # group: (end 2015, end 2020, end 2025, closed 2016-20, closed 2021-25)
    "bank": (20, 28, 31, 1, 1),
    "pnc": (18, 24, 26, 1, 1),
    "life": (20, 26, 28, 2, 2),
    "securities": (16, 28, 32, 2, 2),
    "futures": (4, 6, 6, 0, 1),
    "other": (3, 4, 6, 0, 0),
}
# Green specialised institutions (绿色专营机构) by the end of 2020 by group: 41 in all (the plan; the
# reporting banks count first under "bank"); and added in 2021-2025 (an assumption).
GREEN_2020_AT_SCALE_1 = {"bank": 27, "pnc": 10, "life": 2, "securities": 2}
GREEN_2025_ADDED_AT_SCALE_1 = {"bank": 6, "pnc": 6, "life": 3, "securities": 4}
GREEN_PILOT_FROM = dt.date(2016, 1, 1)  # the city's green units predate the June 2017 pilot zone a little
Y2015, Y2020, Y2025 = dt.date(2015, 12, 31), dt.date(2020, 12, 31), dt.date(2025, 12, 31)


def _templates(group: str, rng: random.Random) -> list[Institution]:
    """Every institution a group can draw on, oldest first; licence dates are set later."""
    placeholder = dt.date(2000, 1, 1)
    out = []
    if group == "bank":
        for name, number, subtype, district in _OTHER_BANKS:
            legal = subtype == "村镇银行"
            county = name.endswith("支行")  # a county branch reports to the city branch
            parent = ("" if legal else "农业发展银行湖州市分行" if county
                      else name.replace("湖州市分行", "浙江省分行").replace("湖州分行", "杭州分行")
                      .replace("湖州业务部", "浙江省分行"))  # fmt: skip
            region = district if legal or county else "330500"
            capital = rng.randint(10, 50) * 10_000_000 if legal else rng.randint(5, 30) * 10_000_000
            out.append(Institution(f"C{number}{region}001", name, "银行", subtype, legal, parent, district,
                                   capital * 100, placeholder))
    elif group in ("pnc", "life"):
        names, letter, subtype = (_PNC, "1", "财产险公司") if group == "pnc" else (_LIFE, "2", "人身险公司")
        for i, name in enumerate(names):
            parent = name.split("湖州")[0] + "浙江省分公司"
            capital = rng.randint(20, 100) * 1_000_000 * 100
            out.append(Institution(f"F{letter}{i + 1:03d}330500001", name, "保险", subtype, False, parent, CITY,
                                   capital, placeholder))
    elif group == "securities":
        serials: dict[tuple[int, str], int] = {}
        n = len(_BROKERS)
        for i in range(2 * n):  # the larger brokers run a branch office (分公司), the others sales offices
            broker = i % n
            full = f"{_BROKERS[broker]}股份有限公司"
            if i < n // 2:
                name, district, subtype = f"{full}湖州分公司", CITY, "证券公司分公司"
            else:
                place, district = _BROKER_PLACES[1 + (broker + 3 * (i >= n)) % (len(_BROKER_PLACES) - 1)]
                name, subtype = f"{full}{place}证券营业部", "证券营业部"
            serial = serials[(broker, district)] = serials.get((broker, district), 0) + 1
            capital = (rng.randint(20, 50) if subtype == "证券公司分公司" else rng.randint(5, 20)) * 1_000_000
            out.append(Institution(f"E1{broker + 1:03d}{district}{serial:03d}", name, "证券", subtype, False, full,
                                   district, capital * 100, placeholder))
    elif group == "futures":
        for i, firm in enumerate(_FUTURES):
            full = f"{firm}有限公司"
            out.append(Institution(f"E2{i + 1:03d}330500001", f"{full}湖州营业部", "期货", "期货公司营业部", False,
                                   full, CITY, rng.randint(2, 10) * 1_000_000 * 100, placeholder))
    elif group == "other":
        for name, number, subtype in _OTHERS:
            parent = name.split("湖州")[0]  # the provincial branch, or the company itself
            out.append(Institution(f"D{number}330500001", name, "其他", subtype, False, parent, CITY,
                                   rng.randint(5, 30) * 10_000_000 * 100, placeholder))
    return out


# Kinds of institution that did not exist before a date (village banks from 2007, consumer finance from 2010).
_SUBTYPE_SINCE = {"村镇银行": dt.date(2008, 1, 1), "消费金融公司": dt.date(2010, 1, 1),
                  "金融租赁公司": dt.date(2008, 1, 1)}


def _reporting_banks() -> list[Institution]:
    out = []
    for bank in BANKS:
        subtype, parent, licensed, capital_yi = _REPORTING[bank.name]
        out.append(Institution(bank.code, bank.name, "银行", subtype, not parent, parent,
                               bank.home_district or CITY, round(capital_yi * 1e8) * 100, licensed))
    return out


@cache
def institutions(scale: float = 1.0, seed: int = world.DEFAULT_SEED) -> tuple[Institution, ...]:
    """Every institution ever licensed in the demo's history (to 2025), sorted by code."""
    rng = random.Random(f"bank_institutions:{seed}")
    reporting = _reporting_banks()
    everyone: dict[str, list[Institution]] = {}
    for group, (n15, n20, n25, c20, c25) in REGISTRY_AT_SCALE_1.items():
        pool = _templates(group, rng)
        a15, a20, a25 = (world.count(n, scale) for n in (n15, n20, n25))
        # Closures may round to none, so they are not world.count's (which never gives zero). The larger
        # half of each group (the front of its pool) stays; closures fall on the smaller half.
        small_15 = range(max(1, a15 // 2), a15)
        closed_20 = min(round(c20 * scale), len(small_15))
        mid = max(0, a20 - a15 + closed_20)
        closed_25 = min(round(c25 * scale), (a15 + mid - closed_20 - 1) // 2)
        late = max(0, a25 - (a15 + mid - closed_20 - closed_25))
        if a15 + mid + late > len(pool):
            raise ValueError(f"scale {scale} needs more {group} institutions than the demo names")
        floor = dt.date(1996, 1, 1) if group in ("pnc", "life") else dt.date(1993, 1, 1)
        spans = [(floor, dt.date(2015, 12, 31))] * a15 + [(dt.date(2016, 1, 1), Y2020)] * mid
        spans += [(dt.date(2021, 1, 1), Y2025)] * late
        members = []
        for template, (first, last) in zip(pool, spans, strict=False):
            first = max(first, _SUBTYPE_SINCE.get(template.subtype, first))
            members.append(replace(template, licensed=_day_between(rng, first, last)))
        # A bank is merged into another, the rest are closed.
        closure = MERGED if group == "bank" else CLOSED
        for i in sorted(rng.sample(small_15, closed_20)):
            first = max(members[i].licensed + dt.timedelta(days=365), dt.date(2016, 1, 1))
            members[i] = replace(members[i], closed=_day_between(rng, first, Y2020), closure=closure)
        open_2020 = [i for i in range(1, a15 + mid) if members[i].closed is None]
        for i in sorted(rng.sample(open_2020[len(open_2020) - closed_25 * 2:], closed_25)):
            members[i] = replace(members[i], closed=_day_between(rng, dt.date(2021, 1, 1), Y2025),
                                 closure=closure)
        everyone[group] = members
    everyone["bank"] = reporting + everyone["bank"]
    # Green specialised institutions: the reporting banks first, then by seniority.
    for targets, first, last in ((GREEN_2020_AT_SCALE_1, GREEN_PILOT_FROM, Y2020),
                                 (GREEN_2025_ADDED_AT_SCALE_1, dt.date(2021, 1, 1), Y2025)):  # fmt: skip
        for group, n in targets.items():
            members = everyone[group]
            eligible = [i for i, m in enumerate(members) if m.green_since is None and m.active_on(last)]
            for i in eligible[: world.count(n, scale)]:
                start = min(max(first, members[i].licensed + dt.timedelta(days=30)), last)
                members[i] = replace(members[i], green_since=_day_between(rng, start, last))
    return tuple(sorted((m for members in everyone.values() for m in members), key=lambda m: m.code))


REGISTRY_HEADER = (
    "数据日期", "机构代码", "机构名称", "统一社会信用代码", "机构类型", "机构细类", "法人或分支", "上级机构名称",
    "区县代码", "注册资本或营运资金(元)", "开业日期", "是否绿色专营机构", "绿色专营机构认定日期", "经营状态",
    "终止日期",
)  # fmt: skip


def _registry_rows(scale: float, seed: int, as_of: dt.date) -> list[tuple[str, ...]]:
    rows = []
    for m in institutions(scale, seed):
        if m.licensed > as_of:
            continue
        closed = m.closed if m.closed and m.closed <= as_of else None
        green = m.green_since if m.green_since and m.green_since <= as_of else None
        rows.append((
            as_of.isoformat(), m.code, m.name, m.uscc, m.kind, m.subtype, LEGAL_PERSON if m.legal_person else BRANCH,
            m.parent, m.district, _money(m.capital_cents), m.licensed.isoformat(), YES if green else NO,
            green.isoformat() if green else "", m.closure if closed else ACTIVE, closed.isoformat() if closed else "",
        ))  # fmt: skip
    return rows


# --- deposits -----------------------------------------------------------------------------------------
DEPOSIT_CATEGORIES = ("单位活期", "单位定期", "个人活期", "个人定期", "其他")
DEPOSITS_2020_12_YUAN = 595_658_000_000  # 5956.58 亿元, the plan's indicator table
DEPOSIT_GROWTH_TO_2020 = 1.2115  # the rate the plan states for 2015-2020 (its two balances imply 14.0%)
DEPOSIT_GROWTH_AFTER_2020 = 1.09  # an assumption
# Deviation from trend by calendar month, percent: quarter ends peak, the month after gives back (assumed).
DEPOSIT_SEASON = (0.5, 0.3, 1.5, -0.6, -0.1, 1.5, -0.8, -0.3, 1.2, -1.0, -0.4, 0.0)
# Share of the city's deposits by bank (order of world.BANKS), an assumption.
DEPOSIT_SHARES = (0.11, 0.15, 0.13, 0.11, 0.08, 0.07, 0.08, 0.07, 0.09, 0.05, 0.03, 0.03)
# Split by category at the end of 2020 by kind of bank (assumed); time deposits gain 1.2 points a year.
_DEPOSIT_MIX = {
    "城市商业银行": (0.22, 0.18, 0.10, 0.38, 0.12),
    "农村商业银行": (0.15, 0.08, 0.17, 0.52, 0.08),
    "other": (0.24, 0.16, 0.14, 0.34, 0.12),
}
DEPOSITS_HEADER = ("报告期", "金融机构代码", "金融机构名称", "存款类别", "存款余额(元)")


def city_deposits_yuan(month: int) -> float:
    """The demo's trend of the city's deposits at the end of ``month`` (a month index), at scale 1."""
    years = (month - (2020 * 12 + 11)) / 12
    growth = DEPOSIT_GROWTH_TO_2020 if years < 0 else DEPOSIT_GROWTH_AFTER_2020
    return DEPOSITS_2020_12_YUAN * growth**years * (1 + DEPOSIT_SEASON[month % 12] / 100)


@cache
def _deposit_drift(seed: int) -> tuple[float, ...]:
    rng = random.Random(f"bank_deposits:{seed}:drift")
    return tuple(rng.uniform(-0.03, 0.03) for _ in BANKS)


def _deposit_rows(month: int, scale: float, seed: int) -> dict[Bank, list[tuple[str, ...]]]:
    rng = random.Random(f"bank_deposits:{seed}:{_month_str(month)}")
    years = (month - (2020 * 12 + 11)) / 12
    shares = [s * math.exp(d * years) * rng.lognormvariate(0, 0.003)
              for s, d in zip(DEPOSIT_SHARES, _deposit_drift(seed), strict=True)]  # fmt: skip
    total = round(city_deposits_yuan(month) * scale * 100)
    label = _month_str(month)
    out = {}
    for bank, cents in zip(BANKS, _apportion(total, shares), strict=True):
        mix = list(_DEPOSIT_MIX.get(_REPORTING[bank.name][0], _DEPOSIT_MIX["other"]))
        mix[3] += 0.012 * years
        mix[2] -= 0.005 * years
        mix[0] -= 0.007 * years
        mix = [max(0.01, w) * rng.lognormvariate(0, 0.01) for w in mix]
        out[bank] = [(label, bank.code, bank.name, category, _money(amount))
                     for category, amount in zip(DEPOSIT_CATEGORIES, _apportion(cents, mix), strict=True)]
    return out


# --- green bonds --------------------------------------------------------------------------------------
BOND_TYPES = ("绿色金融债", "绿色公司债", "绿色企业债", "绿色债务融资工具", "绿色资产支持证券")
# Green bonds issued by Huzhou issuers per year at scale 1: 29 in 2020 (the plan), the rest assumed.
GREEN_BONDS_PER_YEAR = {2019: 16, 2020: 29, 2021: 38, 2022: 46, 2023: 52, 2024: 58, 2025: 64}
BOND_TYPE_WEIGHTS = {"绿色金融债": 0.10, "绿色公司债": 0.35, "绿色企业债": 0.18, "绿色债务融资工具": 0.25,
                     "绿色资产支持证券": 0.12}  # fmt: skip
GBEPC2021_FROM = dt.date(2021, 7, 1)  # the 2021 catalogue replaced the 2015 one on 2021-07-01
# Green Bond Endorsed Project Catalogue (2015 edition, PBoC Green Finance Committee): second-level items.
GBEPC2015 = {
    "1.1": "工业节能", "1.2": "可持续建筑", "2.1": "污染防治", "3.1": "节水及非常规水源利用",
    "3.4": "再生资源回收加工及循环利用", "4.3": "城乡公共客运", "4.6": "新能源汽车", "5.1": "风力发电",
    "5.2": "太阳能光伏发电", "5.4": "分布式能源", "5.6": "水力发电", "6.1": "自然生态保护及旅游资源保护性开发",
    "6.2": "生态农牧渔业",
}  # fmt: skip
# Green Bond Endorsed Projects Catalogue (2021 edition): four levels, the fourth named as the 2019 Green
# Industry Guidance Catalogue's third. A demo subset: check codes against the catalogue before relying on them.
GBEPC2021 = {
    "1.1.1.1": "节能锅炉制造", "1.3.2.1": "工业园区污染治理", "1.3.3.1": "城镇污水处理设施建设和运营",
    "1.5.1.1": "工业固体废弃物综合利用", "2.1.2.1": "园区资源循环利用", "3.2.2.1": "风力发电设施建设和运营",
    "3.2.2.2": "太阳能利用设施建设和运营", "3.2.2.4": "水力发电设施建设和运营",
    "3.2.3.1": "抽水蓄能电站建设和运营", "4.1.1.2": "绿色有机农业", "4.2.1.1": "天然林资源保护",
    "5.2.1.2": "绿色建筑", "5.5.1.1": "城乡公共客运和货运",
}  # fmt: skip
BONDS_HEADER = (
    "发行月份", "债券代码", "债券简称", "债券类型", "发行人统一社会信用代码", "发行人名称", "发行人类型",
    "主承销商机构代码", "主承销商名称", "发行日期", "到期日期", "发行金额(元)", "票面利率(%)",
    "绿色项目类别代码", "绿色项目类别名称", "绿色分类标准版本", "募集资金用途",
)  # fmt: skip
# AAA three-year yields by year (%), roughly the market's level; spreads by instrument are added.
_BASE_YIELD = {2019: 3.6, 2020: 3.3, 2021: 3.4, 2022: 2.9, 2023: 2.8, 2024: 2.3, 2025: 1.9}
_BOND_TERMS = {"绿色金融债": (3, 3, 5), "绿色公司债": (3, 5, 5, 7), "绿色企业债": (7, 7, 10),
               "绿色债务融资工具": (3, 3, 5), "绿色资产支持证券": (1, 2, 3)}  # fmt: skip
_BOND_SPREAD_BP = {"绿色金融债": (0, 80), "绿色公司债": (100, 250), "绿色企业债": (130, 280),
                   "绿色债务融资工具": (80, 200), "绿色资产支持证券": (60, 200)}  # fmt: skip
_BOND_AMOUNT_100M = {"绿色金融债": (3, 20), "绿色公司债": (3, 15), "绿色企业债": (5, 15),
                     "绿色债务融资工具": (2, 10), "绿色资产支持证券": (1, 8)}  # fmt: skip, 亿元, issuers' usual sizes
_ISSUER_SECTIONS = ("D", "E", "N", "G", "K", "C", "A")  # utilities, builders, environment, transport, developers
_BANK_ISSUERS = tuple(b for b in BANKS if not _REPORTING[b.name][1])  # legal persons only issue bonds
_BANK_UNDERWRITERS = tuple(b for b in BANKS if not b.home_district)


def _bonds_in(year: int) -> int:
    known = sorted(GREEN_BONDS_PER_YEAR)
    return GREEN_BONDS_PER_YEAR[min(max(year, known[0]), known[-1])]


def _short_name(name: str) -> str:
    """The brand of a firm's name, as bond short names use it: 湖州天华能源有限公司 -> 天华能源."""
    core = name.removesuffix("股份有限公司").removesuffix("有限公司")
    return core[2:6] if len(core) > 4 else core


@cache
def _bond_issuers(scale: float, seed: int) -> tuple[world.Enterprise, ...]:
    firms = world.enterprises(scale, seed)
    big = tuple(f for f in firms if f.size in ("大型", "中型") and f.industry_code[0] in _ISSUER_SECTIONS)
    return big or firms


@cache
def bond_year(year: int, scale: float, seed: int) -> tuple[tuple[str, ...], ...]:
    """Every green bond issued in ``year``, in order of issue date; the first column is the issue month."""
    rng = random.Random(f"bank_green_bonds:{seed}:{year}")
    n = world.count(_bonds_in(year), scale)
    weekdays = [d for d in (dt.date(year, 1, 1) + dt.timedelta(days=i) for i in range(366))
                if d.year == year and d.weekday() < 5]  # fmt: skip
    issued = sorted(rng.choices(weekdays, k=n))
    issuers = _bond_issuers(scale, seed)
    securities = [m for m in institutions(scale, seed) if m.kind == "证券"]
    used_codes: set[str] = set()
    per_issuer: dict[str, int] = {}
    yy = year % 100
    rows = []
    for day in issued:
        kind = rng.choices(list(BOND_TYPE_WEIGHTS), weights=list(BOND_TYPE_WEIGHTS.values()))[0]
        if kind == "绿色金融债":
            bank = _BANK_ISSUERS[0] if rng.random() < 0.5 else rng.choice(_BANK_ISSUERS)
            issuer_id, issuer_name, issuer_type, short = bank_uscc(bank), bank.name, "金融机构", bank.name
            short = short.replace("农商银行", "农商")
            district = bank.home_district or CITY
        else:
            active = [f for f in issuers if f.active_on(day)] or list(issuers)
            firm = rng.choice(active)
            issuer_id, issuer_name, issuer_type = firm.uscc, firm.name, "非金融企业"
            short, district = _short_name(firm.name), firm.district_code
        if kind in ("绿色金融债", "绿色债务融资工具"):
            lead = rng.choice([b for b in _BANK_UNDERWRITERS if b.name != issuer_name])
            lead_code, lead_name = lead.code, lead.name
        else:
            active = [m for m in securities if m.active_on(day)] or securities
            lead_m = rng.choice(active)
            lead_code, lead_name = lead_m.code, lead_m.name
        n_issue = per_issuer[issuer_id] = per_issuer.get(issuer_id, 0) + 1
        while True:  # codes by market: interbank (.IB) or the Shanghai / Shenzhen exchanges
            if kind == "绿色金融债":
                code = f"{yy:02d}28{rng.randint(1, 999):03d}.IB"
            elif kind == "绿色企业债":
                code = f"{yy:02d}80{rng.randint(1, 999):03d}.IB"
            elif kind == "绿色债务融资工具":
                code = f"10{yy:02d}{rng.randint(80001, 99999):05d}.IB"
            elif kind == "绿色公司债" and rng.random() < 0.3:
                code = f"{140000 + (yy - 19) * 1000 + rng.randint(1, 999)}.SZ"
            elif kind == "绿色公司债":
                code = f"{160000 + (yy - 19) * 4000 + rng.randint(1, 3999)}.SH"
            else:
                code = f"{190000 + (yy - 19) * 1000 + rng.randint(1, 999)}.SH"
            if code not in used_codes:
                used_codes.add(code)
                break
        bond_name = {
            "绿色金融债": f"{yy:02d}{short}绿色金融债{n_issue:02d}",
            "绿色公司债": f"G{yy:02d}{short[:2]}{n_issue}",
            "绿色企业债": f"{yy:02d}{short}绿色债{n_issue:02d}",
            "绿色债务融资工具": f"{yy:02d}{short}GN{n_issue:03d}",
            "绿色资产支持证券": f"{short}绿色ABS{year}-{n_issue}优先A",
        }[kind]
        term = rng.choice(_BOND_TERMS[kind])
        low, high = _BOND_AMOUNT_100M[kind]
        amount_cents = rng.randint(low * 10, high * 10) * 10_000_000 * 100  # in steps of 1,000 万元
        base = round(_BASE_YIELD[min(max(year, 2019), 2025)] * 100)  # basis points
        coupon = base + rng.randint(*_BOND_SPREAD_BP[kind])
        if issuer_type == "金融机构" and short != "湖州银行":
            coupon += 30  # the rural banks are rated below the city bank
        if day >= GBEPC2021_FROM:
            version, catalogue = "GBEPC2021", GBEPC2021
        else:
            version, catalogue = "GBEPC2015", GBEPC2015
        category = rng.choice(sorted(catalogue))
        if kind == "绿色金融债":
            use = "全部用于投放《绿色债券支持项目目录》所列绿色产业项目贷款"
        else:
            share = rng.choice((70, 80, 90, 100))
            place = codes.DISTRICTS[district]
            use = f"{share}%用于{place}{catalogue[category]}项目" + ("" if share == 100 else "，其余补充营运资金")
        rows.append((
            f"{day:%Y-%m}", code, bond_name, kind, issuer_id, issuer_name, issuer_type, lead_code, lead_name,
            day.isoformat(), _add_years(day, term).isoformat(), _money(amount_cents),
            f"{coupon // 100}.{coupon % 100:02d}",
            category, catalogue[category], version, use,
        ))  # fmt: skip
    return tuple(rows)


# --- insurance premiums -------------------------------------------------------------------------------
PREMIUMS_2020_YUAN = 12_770_000_000  # 127.7 亿元, the plan's indicator table
PREMIUM_GROWTH_TO_2020 = 1.125  # the plan's stated 2015-2020 rate
PREMIUM_GROWTH_AFTER_2020 = 1.08  # an assumption
GREEN_PREMIUMS_2020_YUAN = 520_000_000  # 5.2 亿元: an assumption (about 4% of all premiums)
GREEN_GROWTH = {2020: 0.045, 2025: 0.10}  # the plan's targets; the years between are interpolated
NON_LIFE_SHARE = 0.45  # property and casualty insurers' share of non-green premiums (assumed)
LINES = ("车险", "企财险", "家财险", "工程险", "责任险", "信用保证险", "农业险", "货运险", "意外险", "健康险", "寿险",
         "其他")  # fmt: skip
GREEN_CATEGORIES = ("环境污染责任险", "安全生产责任险", "绿色农业保险", "森林保险", "新能源汽车保险",
                    "绿色建筑性能保险", "首台（套）重大技术装备保险")  # fmt: skip
_SEASON = {
    "flat": (1,) * 12,
    "car": (1.05, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.15),
    "corp": (1.5, 0.8, 1.2, 1.0, 0.9, 1.2, 0.9, 0.8, 1.0, 0.9, 0.9, 1.2),
    "agri": (0.6, 0.6, 1.4, 1.6, 1.4, 1.4, 1.0, 0.8, 0.8, 0.8, 0.7, 0.9),
    "life": (3.0, 1.4, 1.5, 0.8, 0.7, 0.9, 0.6, 0.6, 0.7, 0.6, 0.6, 0.8),  # 开门红: life sales peak in Q1
}


@dataclass(frozen=True)
class Product:
    line: str
    name: str
    green: str  # green category, "" for a non-green product
    weights: tuple[float, float]  # relative weight within its group in 2020 and 2025 (interpolated)
    season: str
    written_by: float  # probability that an insurer of its kind writes it (the largest writes everything)
    available: dt.date = dt.date(1990, 1, 1)


PNC_PRODUCTS = (
    Product("车险", "机动车交通事故责任强制保险", "", (11, 10), "car", 1.0),
    Product("车险", "商业车险", "", (45, 42), "car", 1.0),
    Product("企财险", "企业财产保险", "", (6, 6), "corp", 1.0),
    Product("家财险", "家庭财产保险", "", (1, 1.2), "flat", 0.7),
    Product("工程险", "建筑工程一切险", "", (2.5, 2.5), "corp", 0.6),
    Product("责任险", "其他责任保险", "", (6, 7), "corp", 1.0),
    Product("信用保证险", "信用保证保险", "", (2, 1.5), "flat", 0.5),
    Product("农业险", "政策性种植业保险", "", (2, 2.2), "agri", 0.3),
    Product("农业险", "养殖业保险", "", (1.5, 1.6), "agri", 0.3),
    Product("货运险", "货物运输保险", "", (1, 1), "flat", 0.5),
    Product("意外险", "意外伤害保险", "", (4, 4), "flat", 1.0),
    Product("健康险", "短期健康保险", "", (10, 12), "flat", 0.9),
    Product("其他", "其他财产保险", "", (3, 3), "flat", 0.8),
    # Green products: weights are within green premiums.
    Product("责任险", "环境污染责任保险", "环境污染责任险", (12, 10), "corp", 0.4),
    Product("责任险", "安全生产责任保险", "安全生产责任险", (40, 25), "corp", 0.7),
    Product("农业险", "绿色农业保险", "绿色农业保险", (30, 22), "agri", 0.3),
    Product("农业险", "森林保险", "森林保险", (8, 5), "agri", 0.2),
    Product("车险", "新能源汽车商业保险", "新能源汽车保险", (0, 25), "car", 0.8, dt.date(2022, 1, 1)),
    Product("工程险", "绿色建筑性能保险", "绿色建筑性能保险", (0, 7), "corp", 0.15, dt.date(2021, 7, 1)),
    Product("其他", "首台（套）重大技术装备保险", "首台（套）重大技术装备保险", (10, 6), "corp", 0.25),
)
LIFE_PRODUCTS = (
    Product("寿险", "普通型寿险", "", (40, 45), "life", 1.0),
    Product("寿险", "分红型寿险", "", (28, 22), "life", 0.9),
    Product("寿险", "万能型寿险", "", (7, 6), "life", 0.6),
    Product("健康险", "长期健康保险", "", (20, 22), "life", 1.0),
    Product("意外险", "意外伤害保险", "", (5, 5), "flat", 1.0),
)
PREMIUMS_HEADER = (
    "报告期", "保险机构代码", "保险机构名称", "公司类型", "险类", "险种", "是否绿色保险", "绿色保险类别",
    "当月保费收入(元)", "本年累计保费收入(元)",
)  # fmt: skip


def premiums_yuan(year: int) -> float:
    """All premium income of the city in ``year`` at scale 1."""
    growth = PREMIUM_GROWTH_TO_2020 if year < 2020 else PREMIUM_GROWTH_AFTER_2020
    return PREMIUMS_2020_YUAN * growth ** (year - 2020)


def green_growth(year: int) -> float:
    """Year-on-year growth of green premiums: 4.5% in 2020 to 10% in 2025, linear between, flat outside."""
    year = min(max(year, 2020), 2025)
    return GREEN_GROWTH[2020] + (GREEN_GROWTH[2025] - GREEN_GROWTH[2020]) * (year - 2020) / 5


def green_premiums_yuan(year: int) -> float:
    value = float(GREEN_PREMIUMS_2020_YUAN)
    for y in range(2021, year + 1):
        value *= 1 + green_growth(y)
    for y in range(year + 1, 2021):
        value /= 1 + green_growth(y)
    return value


@cache
def _writes(scale: float, seed: int) -> dict[str, tuple[Product, ...]]:
    """The products each insurer writes: the largest of each kind writes them all."""
    out = {}
    for m in institutions(scale, seed):
        if m.kind != "保险":
            continue
        products = PNC_PRODUCTS if m.subtype == "财产险公司" else LIFE_PRODUCTS
        rng = random.Random(f"bank_insurance_premiums:{seed}:{m.code}")
        largest = m.code[2:5] == "001"
        out[m.code] = tuple(p for p in products if largest or rng.random() < p.written_by)
    return out


def _insurer_weight(m: Institution) -> float:
    return 1 / int(m.code[2:5]) ** 0.9  # codes are numbered by size within each kind


@cache
def _premium_year(year: int, scale: float, seed: int) -> dict[int, list[tuple[str, ...]]]:
    """Every row of ``year``'s twelve monthly reports, by month index."""
    rng = random.Random(f"bank_insurance_premiums:{seed}:{year}")
    insurers = [m for m in institutions(scale, seed) if m.kind == "保险"]
    writes = _writes(scale, seed)
    t = (min(max(year, 2020), 2025) - 2020) / 5
    cells: dict[str, list[tuple[int, Institution, Product, float]]] = {"pnc": [], "life": [], "green": []}
    for month in range(year * 12, year * 12 + 12):
        end = _month_end(month)
        for m in insurers:
            if not m.active_on(end.replace(day=1)):
                continue
            for p in writes[m.code]:
                if p.available > end:
                    continue
                group = "green" if p.green else ("pnc" if m.subtype == "财产险公司" else "life")
                weight = p.weights[0] + (p.weights[1] - p.weights[0]) * t
                value = _insurer_weight(m) * weight * _SEASON[p.season][month % 12] * rng.lognormvariate(0, 0.15)
                cells[group].append((month, m, p, value))
    non_green = premiums_yuan(year) - green_premiums_yuan(year)
    targets = {"pnc": non_green * NON_LIFE_SHARE, "life": non_green * (1 - NON_LIFE_SHARE),
               "green": green_premiums_yuan(year)}  # fmt: skip
    monthly: dict[tuple[str, str, str], dict[int, int]] = {}
    for group, items in cells.items():
        amounts = _apportion(round(targets[group] * scale * 100), [c[3] for c in items])
        for (month, m, p, _), cents in zip(items, amounts, strict=True):
            monthly.setdefault((m.code, p.line, p.name), {})[month] = cents
    by_code = {m.code: m for m in insurers}
    products = {(p.line, p.name): p for p in (*PNC_PRODUCTS, *LIFE_PRODUCTS)}
    rows: dict[int, list[tuple[str, ...]]] = {month: [] for month in range(year * 12, year * 12 + 12)}
    line_order = {line: i for i, line in enumerate(LINES)}
    for (code, line, name), months in sorted(monthly.items(), key=lambda kv: (kv[0][0], line_order[kv[0][1]],
                                                                               kv[0][2])):
        m, p = by_code[code], products[(line, name)]
        ytd = 0
        for month in sorted(months):
            ytd += months[month]
            rows[month].append((_month_str(month), code, m.name, m.subtype, line, name, YES if p.green else NO, p.green,
                                _money(months[month]), _money(ytd)))  # fmt: skip
    return rows


# --- generate -----------------------------------------------------------------------------------------
def generate(landing: Path, *, scale: float, seed: int, months: Sequence[str],
             on_file: Callable[[Path, int], None] | None = None) -> list[Path]:
    """Write the four datasets for ``months``; the registry once, as of the end of the last month."""
    if not months:
        return []
    wanted = sorted({_month_index(m) for m in months})
    landing = Path(landing)
    paths: list[Path] = []

    def emit(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
        n = _write(path, header, rows)
        paths.append(path)
        if on_file:
            on_file(path, n)

    for month in wanted:
        label = _month_str(month)
        for bank, rows in _deposit_rows(month, scale, seed).items():
            emit(landing / "bank_deposits" / label / f"{bank.code}.csv", DEPOSITS_HEADER, rows)
        bonds = [row for row in bond_year(month // 12, scale, seed) if row[0] == label]
        emit(landing / "bank_green_bonds" / label / f"green_bonds_{label}.csv", BONDS_HEADER, bonds)
        emit(landing / "bank_insurance_premiums" / label / f"insurance_premiums_{label}.csv", PREMIUMS_HEADER,
             _premium_year(month // 12, scale, seed)[month])
    emit(landing / "bank_institutions" / REGISTRY_FILE, REGISTRY_HEADER,
         _registry_rows(scale, seed, _month_end(wanted[-1])))
    return sorted(paths)


# --- defects, for exercising validation and quarantine ------------------------------------------------
DEFECTS = ("wrong_type", "duplicate_key", "outside_list", "negative_amount")
# dataset: (column of the wrong type and its bad value, column with a list and a value outside it, amount column)
_DEFECT_COLUMNS = {
    "bank_deposits": (("存款余额(元)", lambda v: f"{int(v.split('.')[0]):,}.{v.split('.')[1]}"),
                      ("存款类别", "同业存款"), "存款余额(元)"),
    "bank_green_bonds": (("发行日期", lambda v: v.replace("-", "/")), ("债券类型", "绿色可转换债"), "发行金额(元)"),
    "bank_insurance_premiums": (("当月保费收入(元)", lambda v: f"{v}万"), ("险类", "宠物险"), "当月保费收入(元)"),
    "bank_institutions": (("开业日期", lambda v: f"{v[:4]}年{int(v[5:7])}月{int(v[8:])}日"), ("机构类型", "基金"),
                          "注册资本或营运资金(元)"),
}  # fmt: skip
# The rule each defect breaks in the contracts (pipelines/contracts/rules.py names them)
DEFECT_RULES = {"wrong_type": "type:", "duplicate_key": "primaryKey", "outside_list": "validValues",
                "negative_amount": "minimum"}  # fmt: skip


def dataset_of(path: Path) -> str:
    for name in (path.parent.name, path.parent.parent.name):
        if name in DATASETS:
            return name
    raise ValueError(f"{path} is not a file of the bank_reports family")


def inject_defects(path: Path, rate: float, seed: int) -> int:
    """Give a fraction ``rate`` of the file's rows one defect each (see DEFECTS); return how many.

    A duplicate repeats the whole row before it (a row delivered twice, with any defect the row before
    already got), so both carry the duplicate key.
    """
    (typed_col, bad_value), (list_col, outside), amount_col = _DEFECT_COLUMNS[dataset_of(path)]
    header, rows = read_csv(path, ENCODING)
    col = {name: i for i, name in enumerate(header)}
    rng = random.Random(f"defects:{seed}:{path.parent.name}/{path.name}")
    chosen = sorted(rng.sample(range(len(rows)), min(len(rows), round(rate * len(rows)))))
    for n, i in enumerate(chosen):
        defect = DEFECTS[n % len(DEFECTS)]
        if defect == "duplicate_key" and i == 0:
            defect = "outside_list"
        row = rows[i]
        if defect == "wrong_type":
            row[col[typed_col]] = bad_value(row[col[typed_col]])
        elif defect == "duplicate_key":
            rows[i] = list(rows[i - 1])
        elif defect == "outside_list":
            row[col[list_col]] = outside
        else:
            row[col[amount_col]] = "-" + row[col[amount_col]]
    _write(path, header, rows)
    return len(chosen)
