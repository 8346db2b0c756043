"""绿贷通 loan matching: financing demands posted by firms and the banks' responses to them.

The platform's rules (domain-methods.md): a firm posts a demand, banks claim it, at most the first three
banks may serve it; the service promise is to respond (claim) within 1 day, serve (contact the firm)
within 3 days and decide within 9 days of posting. Most claims keep it, some do not: the timings below
are drawn so that roughly 90% respond in a day, 85% contact in three and 85-90% decide in nine.

A month's demands are dumped on the 10th of the next month, with each demand's status as of that moment;
responses are dumped by the month the bank claimed the demand, each with what had happened by the 10th
of the next month (a later contact or decision is not yet known: null).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from pipelines.demo import world
from pipelines.demo.codes import WeightedChoice
from pipelines.demo.enterprise_common import money, month_end, month_first, month_str, rng_for, round_to
from pipelines.demo.world import BANKS, Bank

DEMANDS_PER_MONTH = 500  # at scale 1: an assumption of the platform's volume (tens of thousands of firms served)
YEAR_FACTOR = {2018: 0.6, 2019: 0.8, 2020: 1.0, 2021: 1.15, 2022: 1.25}  # later years 1.3
PRODUCTS = WeightedChoice({"贷款": 0.85, "担保": 0.10, "股权": 0.05})
PURPOSES = {
    "贷款": WeightedChoice({"流动资金周转": 0.45, "设备购置": 0.12, "技术改造": 0.10, "厂房建设": 0.08,
                            "研发投入": 0.05, "节能减排改造": 0.08, "清洁能源项目": 0.05, "绿色建筑": 0.03,
                            "污染治理": 0.04}),
    "担保": WeightedChoice({"流动资金周转": 0.75, "设备购置": 0.15, "节能减排改造": 0.10}),
    "股权": WeightedChoice({"扩大产能": 0.45, "研发投入": 0.35, "清洁能源项目": 0.20}),
}  # fmt: skip
GREEN_PURPOSES = ("节能减排改造", "清洁能源项目", "绿色建筑", "污染治理")
TERMS = {"贷款": (6, 12, 12, 12, 24, 36, 60), "担保": (12, 12, 24), "股权": (None,)}
AMOUNT_YUAN = {"微型": 5e5, "小型": 2e6, "中型": 1e7, "大型": 5e7}  # median demand by firm size
AMOUNT_FACTOR = {"贷款": 1.0, "担保": 0.8, "股权": 3.0}
POSTING_WEIGHT = {"微型": 1.0, "小型": 1.6, "中型": 2.5, "大型": 1.0}  # per firm
CLAIMS = WeightedChoice({"0": 0.08, "1": 0.45, "2": 0.30, "3": 0.17})  # banks claiming a demand (at most 3)
DECISIONS = WeightedChoice({"授信": 0.65, "拒绝": 0.22, "撤回": 0.13})
MAX_BANKS = 3
HOURS = WeightedChoice({str(h): w for h, w in enumerate(
    (1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 6, 8, 10, 10, 9, 7, 5, 4, 3, 2, 2, 1))})


@dataclass(frozen=True)
class Response:
    bank: Bank
    claimed: dt.datetime
    contacted: dt.datetime
    decided: dt.datetime
    decision: str
    approved_cents: int | None


@dataclass(frozen=True)
class Demand:
    demand_id: str
    firm: world.Enterprise
    posted: dt.datetime
    product: str
    amount_cents: int
    term: int | None
    purpose: str
    green: bool
    responses: tuple[Response, ...]


def cutoff(index: int) -> dt.datetime:
    """When the month's dump is taken: the 10th of the next month, 00:00."""
    return dt.datetime.combine(month_end(index) + dt.timedelta(days=10), dt.time())


def _hours(rng, median: float, sigma: float) -> dt.timedelta:
    return dt.timedelta(seconds=int(median * 3600 * rng.lognormvariate(0.0, sigma)))


def _bank_weights(district: str) -> list[float]:
    weights = []
    for bank in BANKS:
        if bank.home_district:
            weights.append(4.0 if bank.home_district == district else 0.2)
        else:
            weights.append(3.0 if bank.code == BANKS[0].code else 2.0 if bank.loan_prefix in ("ABC", "ICB", "CCB",
                                                                                               "BOC") else 1.0)
    return weights


@cache
def demands(scale: float, seed: int, index: int) -> tuple[Demand, ...]:
    rng = rng_for(seed, "demands", month_str(index))
    first, end = month_first(index), month_end(index)
    active = [f for f in world.enterprises(scale, seed) if f.active_on(first) and f.active_on(end)]
    if not active:
        return ()
    weights = [POSTING_WEIGHT[f.size] for f in active]
    n = round(world.count(DEMANDS_PER_MONTH, scale) * YEAR_FACTOR.get(index // 12, 1.3 if index >= 2023 * 12 else
                                                                    0.6) * rng.uniform(0.85, 1.15))
    drawn = []
    for _ in range(max(1, n)):
        firm = rng.choices(active, weights=weights)[0]
        day = end.replace(day=rng.randint(1, end.day))
        posted = dt.datetime.combine(day, dt.time(int(HOURS(rng)), rng.randrange(60), rng.randrange(60)))
        product = PRODUCTS(rng)
        purpose = PURPOSES[product](rng)
        green = purpose in GREEN_PURPOSES or (purpose == "技术改造" and rng.random() < 0.3)
        amount = round_to(AMOUNT_YUAN[firm.size] * AMOUNT_FACTOR[product] * rng.lognormvariate(0.0, 0.7), 10_000)
        drawn.append((posted, firm, product, purpose, green, amount, rng.choice(TERMS[product])))
    drawn.sort(key=lambda d: (d[0], d[1].uscc))
    out = []
    for seq, (posted, firm, product, purpose, green, amount, term) in enumerate(drawn, 1):
        responses = []
        banks = rng.choices(range(len(BANKS)), weights=_bank_weights(firm.district_code), k=8)
        chosen = list(dict.fromkeys(banks))[: min(MAX_BANKS, int(CLAIMS(rng)))]
        claimed_at = posted
        for bank_index in chosen:
            # banks claim one after another: the first quickly, later ones somewhat later
            claimed_at = min(claimed_at + _hours(rng, 4.0, 1.2), posted + dt.timedelta(days=20))
            contacted = claimed_at + dt.timedelta(minutes=10) + _hours(rng, 12.0, 1.0)
            decided = contacted + dt.timedelta(hours=1) + _hours(rng, 72.0, 0.8)
            decision = DECISIONS(rng)
            approved = round_to(amount * rng.uniform(0.5, 1.0), 10_000) * 100 if decision == "授信" else None
            responses.append(Response(BANKS[bank_index], claimed_at, contacted, decided, decision, approved))
        out.append(Demand(f"XQ{first:%Y%m}{seq:06d}", firm, posted, product, amount * 100, term, purpose, green,
                          tuple(responses)))
    return tuple(out)


def _status(demand: Demand, at: dt.datetime) -> str:
    claimed = [r for r in demand.responses if r.claimed < at]
    if not claimed:
        return "待对接"
    decided = [r.decision for r in claimed if r.decided < at]
    if "授信" in decided:
        return "已授信"
    if len(decided) < len(claimed):
        return "对接中"
    return "未获授信" if set(decided) == {"拒绝"} else "已撤回"


def demand_rows(scale: float, seed: int, index: int):
    at = cutoff(index)
    for d in demands(scale, seed, index):
        yield {
            "postMonth": month_str(index),
            "demandId": d.demand_id,
            "creditCode": d.firm.uscc,
            "postTime": d.posted,
            "productType": d.product,
            "demandAmount": money(d.amount_cents),
            "termMonths": d.term,
            "purpose": d.purpose,
            "isGreen": d.green,
            "demandStatus": _status(d, at),
        }


def response_rows(scale: float, seed: int, index: int):
    at = cutoff(index)
    label = month_str(index)
    found = []
    for month in (index - 1, index):  # claims come within 20 days of posting
        for d in demands(scale, seed, month):
            for r in d.responses:
                if f"{r.claimed:%Y-%m}" == label:
                    found.append((r.claimed, d.demand_id, r))
    for claimed, demand_id, r in sorted(found, key=lambda x: (x[0], x[1], x[2].bank.code)):
        decided = r.decided < at
        yield {
            "responseMonth": label,
            "demandId": demand_id,
            "orgCode": r.bank.code,
            "orgName": r.bank.name,
            "claimTime": claimed,
            "contactTime": r.contacted if r.contacted < at else None,
            "decisionTime": r.decided if decided else None,
            "decision": r.decision if decided else None,
            "approvedAmount": money(r.approved_cents) if decided and r.approved_cents is not None else None,
        }
