"""Code lists and check characters the demo data is built from.

Identifiers follow their national standards closely enough that the lake's validation (the bank_loans
contract) accepts them: unified social credit codes carry a correct GB 32100-2015 check character and
masked resident IDs keep a genuine GB 11643-1999 check character.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from bisect import bisect
from functools import cache
from importlib import resources
from itertools import accumulate

# --- Unified social credit code (GB 32100-2015) -------------------------------------------------------
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3**i mod 31

# Position 1-2: registering authority 9 (market regulator) and its entity types.
USCC_ENTERPRISE = "91"
USCC_INDIVIDUAL_BUSINESS = "92"


def uscc_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code whose first 17 characters are given."""
    if len(first17) != 17:
        raise ValueError(f"expected 17 characters, got {len(first17)}")
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    if len(code) != 18 or any(ch not in _USCC_VALUE for ch in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def make_uscc(rng: random.Random, district_code: str, prefix: str = USCC_ENTERPRISE) -> str:
    """A random but valid code registered in ``district_code``; ``prefix`` 92 for individual businesses."""
    org = "".join(rng.choices(USCC_ALPHABET, k=9))  # positions 9-17, the organisation code
    first17 = f"{prefix}{district_code}{org}"
    return first17 + uscc_check_char(first17)


# --- Resident ID number (GB 11643-1999), masked as the banks export it --------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2**(17-i) mod 11
_ID_CHECK = "10X98765432"
_BIRTH_FIRST = dt.date(1950, 1, 1).toordinal()
_BIRTH_LAST = dt.date(2002, 12, 31).toordinal()


def resident_id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def masked_person_id(rng: random.Random, district_code: str) -> str:
    """A real-shaped resident ID with the birth date (positions 7-14) masked: first 6 and last 4 kept."""
    birth = dt.date.fromordinal(rng.randint(_BIRTH_FIRST, _BIRTH_LAST))
    first17 = f"{district_code}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return f"{district_code}{'*' * 8}{first17[14:]}{resident_id_check_char(first17)}"


# --- Administrative divisions of Huzhou (GB/T 2260) -----------------------------------------------------
DISTRICTS = {
    "330502": "吴兴区",
    "330503": "南浔区",
    "330521": "德清县",
    "330522": "长兴县",
    "330523": "安吉县",
}
# Share of loan balance by district: an assumption for the demo, not a published figure.
DISTRICT_WEIGHTS = {"330502": 0.30, "330503": 0.15, "330521": 0.18, "330522": 0.20, "330523": 0.17}


# --- Industries (GB/T 4754-2017 classes, copied from the reference list into data/) --------------------
@cache
def industry_classes() -> dict[str, tuple[str, ...]]:
    """Section letter -> its 4-digit class codes, in file order."""
    text = resources.files(__package__).joinpath("data/gbt4754_2017_classes.csv").read_text("utf-8")
    by_section: dict[str, list[str]] = {}
    for row in csv.DictReader(text.splitlines()):
        by_section.setdefault(row["section"], []).append(row["class_code"])
    return {section: tuple(codes) for section, codes in by_section.items()}


class WeightedChoice:
    """A weighted draw with the cumulative weights computed once, since it runs for every loan."""

    def __init__(self, weights: dict[str, float]) -> None:
        self.values = list(weights)
        self.cum = list(accumulate(weights.values()))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> str:
        return self.values[bisect(self.cum, rng.random() * self.total)]


# Loans go mostly to manufacturing, trade, construction, power, real estate and business services.
ENTERPRISE_SECTIONS = WeightedChoice(
    {"C": 0.42, "F": 0.14, "E": 0.09, "D": 0.05, "A": 0.03, "K": 0.08, "L": 0.08, "G": 0.03, "N": 0.02,
     "M": 0.02, "I": 0.01, "H": 0.01, "B": 0.005, "O": 0.005, "P": 0.003, "Q": 0.004, "R": 0.003}
)  # fmt: skip
# Shops, restaurants and workshops.
SMALL_BUSINESS_SECTIONS = WeightedChoice(
    {"F": 0.45, "H": 0.18, "O": 0.14, "C": 0.10, "A": 0.06, "G": 0.05, "E": 0.02}
)


def pick_industry(rng: random.Random, sections: WeightedChoice | str) -> str:
    """Section letter + class code, e.g. ``C3011``; ``sections`` is a weighted chooser or one letter."""
    section = sections if isinstance(sections, str) else sections(rng)
    return section + rng.choice(industry_classes()[section])


# --- Green Industry Guidance Catalogue (2019) -----------------------------------------------------------
GREEN_FIRST_LEVEL = {
    "1": "节能环保产业",
    "2": "清洁生产产业",
    "3": "清洁能源产业",
    "4": "生态环境产业",
    "5": "基础设施绿色升级",
    "6": "绿色服务",
}
# Third-level items lent to in the demo, with a weight and the borrower classes that typically carry them,
# so a loan's use and its borrower's industry agree. Second-level names in the comments.
GREEN_CATEGORIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "1.1.1": (3, ("C3411", "C3441", "C3462", "C3464")),  # 高效节能装备制造
    "1.2.1": (1, ("C3591",)),  # 先进环保装备制造
    "1.4.1": (3, ("C3612", "C3670", "C3841")),  # 新能源汽车和绿色船舶制造
    "1.5.1": (4, ("C3011", "C2614", "C1713", "C3041", "C3130")),  # 节能改造
    "1.6.1": (2, ("N7721", "N7722")),  # 污染治理
    "1.7.1": (2, ("C4210", "C4220", "F5191")),  # 资源循环利用
    "2.1.1": (1, ("L7221",)),  # 产业园区绿色升级
    "2.3.1": (2, ("C1713", "C1752", "C2614", "C3011")),  # 生产过程废气处理处置及资源化综合利用
    "2.4.1": (2, ("C1713", "C1752", "C2641")),  # 生产过程节水和废水处理处置及资源化综合利用
    "3.1.2": (3, ("C3825", "C3841")),  # 新能源与清洁能源装备制造
    "3.2.1": (2, ("D4415",)),  # 清洁能源设施建设和运营
    "3.2.2": (8, ("D4416", "E4875")),
    "3.2.3": (2, ("D4417",)),
    "3.4.2": (1, ("D4420",)),  # 能源系统高效运行
    "4.1.2": (3, ("A0141", "A0164", "A0412", "A0151")),  # 生态农业
    "4.3.1": (1, ("N7726", "E4863")),  # 生态修复
    "5.1.2": (6, ("E4710", "E4790", "K7010")),  # 建筑节能与绿色建筑
    "5.2.4": (3, ("G5411", "G5810")),  # 绿色交通
    "5.3.1": (4, ("D4620", "N7820", "N7723")),  # 环境基础设施
    "5.6.1": (1, ("E4891", "N7840")),  # 园林绿化
    "6.1.1": (1, ("L7245", "M7516")),  # 咨询服务
}
GREEN_CATEGORY_CHOICE = WeightedChoice({code: w for code, (w, _) in GREEN_CATEGORIES.items()})
# What farmers and small businesses borrow green for.
SMALL_GREEN_CATEGORY_CHOICE = WeightedChoice({"4.1.2": 0.8, "1.7.1": 0.2})
# Annual CO2e reduction per million yuan of project investment (t), by first level: rough demo magnitudes
# (a Huzhou PV plant: ~4 million yuan per MW, ~1,100 MWh per MW-year, ~0.58 t per MWh -> ~160 t).
CO2E_T_PER_MILLION_YUAN = {"1": 60.0, "2": 30.0, "3": 150.0, "4": 8.0, "5": 25.0, "6": 4.0}
# Categories the PBoC carbon-emission-reduction facility can refinance (clean energy, energy saving).
CRF_FIRST_LEVELS = ("1", "3")
