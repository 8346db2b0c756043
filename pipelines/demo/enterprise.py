"""Demo enterprise data from the city's public data platform API, as it lands in ``landing/enterprise_*``.

The platform (一数一源: the market regulator's registry, tax, statistics, ecology and environment, the
exchanges, 绿贷通) serves enterprise data over an API; the lake receives dumps of it as JSON lines (see
``enterprise_common``), one file per dataset and partition:

- snapshots (the full dump as of the last requested month's end): ``enterprise_registry/``,
  ``enterprise_guarantees/``, ``enterprise_listing_status/`` — ``<dataset>/<dataset>.jsonl``;
- yearly (every year the requested months touch): ``enterprise_financials/``, ``enterprise_energy_emissions/``,
  ``enterprise_esg_indicators/`` — ``<dataset>/<YYYY>/<dataset>_<YYYY>.jsonl``;
- monthly: ``enterprise_financing_demands/``, ``enterprise_financing_responses/``, ``enterprise_market_data/``,
  ``enterprise_direct_financing/``, ``enterprise_share_pledges/`` — ``<dataset>/<YYYY-MM>/<dataset>_<YYYY-MM>.jsonl``.
  A month without a record (no bond issued, no pledge outstanding) gets no file, as the API returns nothing.

One data, one source: a fact another dataset is authoritative for is not drawn again here. Scope 2 uses the
grid emission factor of public_grid_emission_factors (which the rows do not repeat), the green bonds of direct
financing are bank_green_bonds' enterprise issues (from bank_reports' generator), and the ESG feed leaves out
the indicators other datasets hold (penalties, tax credit grades, dishonest debtors, employees, leverage,
energy and carbon intensity); the environmental credit grade follows public_environmental_penalties.

Every firm is one of ``world.enterprises`` and only firms active at the time appear. Deterministic: each
dataset, firm and period draws from its own ``random.Random`` seeded by (seed, what it is), so the same
arguments give byte-identical files and a month's data does not depend on which other months are requested.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.demo import codes
from pipelines.demo import enterprise_capital as capital
from pipelines.demo import enterprise_credit as credit
from pipelines.demo import enterprise_firms as firms
from pipelines.demo.enterprise_common import Num, month_end, month_index, month_str, read_jsonl, write_jsonl

SNAPSHOT, YEAR, MONTH = "snapshot", "year", "month"


@dataclass(frozen=True)
class Dataset:
    name: str
    granularity: str
    rows: Callable[[float, int, object], Iterable[dict[str, object]]]  # (scale, seed, day | year | month index)
    keys: tuple[str, ...]  # primary key within one file
    # Fields the defects of ``inject_defects`` use: the credit code, a typed (non-string) field, an enumerated
    # field, and a field with its out-of-range value and the rule that catches it.
    uscc: str | None
    typed: str
    enum: str
    out_of_range: tuple[str, object, str]


DATASETS = {d.name: d for d in (
    Dataset("enterprise_registry", SNAPSHOT, firms.registry_rows, ("creditCode",), "creditCode", "regCapital",
            "entStatus", ("establishDate", "1899-12-31", "minimum")),
    Dataset("enterprise_financials", YEAR, firms.financials_rows, ("creditCode",), "creditCode", "operatingRevenue",
            "", ("employeeCount", Num("-1"), "minimum")),
    Dataset("enterprise_energy_emissions", YEAR, firms.energy_rows, ("creditCode",), "creditCode",
            "electricityConsumption", "verificationStatus", ("scope1Emissions", Num("-1.0000"), "minimum")),
    Dataset("enterprise_guarantees", SNAPSHOT, firms.guarantee_rows, ("guaranteeId",), "guarantorCreditCode",
            "guaranteeAmount", "guaranteeType", ("startDate", "1899-12-31", "minimum")),
    Dataset("enterprise_esg_indicators", YEAR, firms.esg_rows, ("creditCode", "indicatorCode"), "creditCode", "value",
            "indicatorCode", ("value", Num("-1.0000"), "minimum")),
    Dataset("enterprise_financing_demands", MONTH, credit.demand_rows, ("demandId",), "creditCode", "demandAmount",
            "productType", ("termMonths", Num("999"), "maximum")),
    Dataset("enterprise_financing_responses", MONTH, credit.response_rows, ("demandId", "orgCode"), None,
            "approvedAmount", "decision", ("claimTime", "1999-01-01 09:00:00", "minimum")),
    Dataset("enterprise_listing_status", SNAPSHOT, capital.listing_status_rows, ("creditCode",), "creditCode",
            "reserveDate", "stage", ("reserveDate", "1899-12-31", "minimum")),
    Dataset("enterprise_market_data", MONTH, capital.market_data_rows, ("creditCode",), "creditCode", "closePrice",
            "currency", ("tradeDate", "1899-12-31", "minimum")),
    Dataset("enterprise_direct_financing", MONTH, capital.direct_financing_rows, ("eventId",), "creditCode", "amount",
            "financingType", ("eventDate", "1899-12-31", "minimum")),
    Dataset("enterprise_share_pledges", MONTH, capital.share_pledge_rows, ("pledgeId",), "creditCode",
            "sharesPledged", "pledgorType", ("startDate", "1899-12-31", "minimum")),
)}  # fmt: skip


def partitions(dataset: Dataset, months: Sequence[str]) -> list[tuple[str | None, object]]:
    """(partition key, what the dataset's rows are drawn for) for the requested months."""
    indices = sorted({month_index(m) for m in months})
    if dataset.granularity == SNAPSHOT:
        return [(None, month_end(indices[-1]))]
    if dataset.granularity == YEAR:
        return [(str(y), y) for y in sorted({i // 12 for i in indices})]
    return [(month_str(i), i) for i in indices]


def path_of(landing: Path, dataset: str, key: str | None) -> Path:
    if key is None:
        return Path(landing) / dataset / f"{dataset}.jsonl"
    return Path(landing) / dataset / key / f"{dataset}_{key}.jsonl"


def generate(landing: Path, *, scale: float, seed: int, months: Sequence[str],
             on_file: Callable[[Path, int], None] | None = None, datasets: Sequence[str] | None = None) -> list[Path]:
    """Write every enterprise dataset (or only ``datasets``) for ``months`` under ``landing``; return the paths."""
    if not months:
        return []
    paths = []
    for dataset in (DATASETS[name] for name in datasets or DATASETS):
        for key, at in partitions(dataset, months):
            path = path_of(landing, dataset.name, key)
            records = list(dataset.rows(scale, seed, at))
            if not records:  # the API returned nothing for this period: nothing lands
                path.unlink(missing_ok=True)
                continue
            count = write_jsonl(path, records)
            paths.append(path)
            if on_file:
                on_file(path, count)
    return sorted(paths)


# --- defects, for exercising validation and quarantine ------------------------------------------------------
DEFECTS = ("bad_uscc_check", "wrong_type", "not_in_list", "out_of_range", "duplicate_key")


def dataset_of(path: Path) -> Dataset:
    for part in reversed(Path(path).parts[:-1]):
        if part in DATASETS:
            return DATASETS[part]
    raise ValueError(f"{path} is not under an enterprise dataset's directory")


def defect_plan(path: Path, rate: float, seed: int) -> list[tuple[int, str, str, str]]:
    """(line number, defect, field, rule expected to catch it) for about ``rate`` of the file's records."""
    dataset = dataset_of(path)
    records = read_jsonl(path)
    rng = random.Random(f"enterprise-defects:{seed}:{path.parent.name}/{path.name}")
    chosen = sorted(rng.sample(range(len(records)), min(len(records), round(rate * len(records)))))
    picked = set(chosen)
    plan = []
    for n, i in enumerate(chosen):
        for offset in range(len(DEFECTS)):
            defect = DEFECTS[(n + offset) % len(DEFECTS)]
            if defect == "bad_uscc_check" and dataset.uscc:
                plan.append((i + 1, defect, dataset.uscc, uscc_rule(dataset.uscc)))
            elif defect == "wrong_type":
                plan.append((i + 1, defect, dataset.typed, "type"))
            elif defect == "not_in_list" and dataset.enum:
                plan.append((i + 1, defect, dataset.enum, "validValues"))
            elif defect == "out_of_range":
                plan.append((i + 1, defect, dataset.out_of_range[0], dataset.out_of_range[2]))
            elif defect == "duplicate_key" and i > 0 and i - 1 not in picked:
                plan.append((i + 1, defect, ", ".join(dataset.keys), "primaryKey"))
            else:
                continue
            break
    return plan


def uscc_rule(key: str) -> str:
    """The contract rule checking the credit code under ``key``: unified_credit_code_valid for the firm's own
    code (the name every family uses), guarantor_credit_code_valid etc. where a row holds two."""
    if key == "creditCode":
        return "unified_credit_code_valid"
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in key) + "_valid"


def inject_defects(path: Path, rate: float, seed: int) -> int:
    """Give a fraction ``rate`` of the file's records one defect each (see DEFECTS); return how many."""
    dataset = dataset_of(path)
    plan = defect_plan(path, rate, seed)
    original = read_jsonl(path)
    records = [dict(r) for r in original]
    for line_no, defect, field, _rule in plan:
        record = records[line_no - 1]
        if defect == "bad_uscc_check":
            code = str(record[field])
            wrong = codes.USCC_ALPHABET[(codes.USCC_ALPHABET.index(code[17]) + 1) % 31]
            record[field] = code[:17] + wrong
        elif defect == "wrong_type":
            record[field] = "N/A"
        elif defect == "not_in_list":
            record[field] = "未知"
        elif defect == "out_of_range":
            record[field] = dataset.out_of_range[1]
        else:
            for key in dataset.keys:
                record[key] = original[line_no - 2][key]
    write_jsonl(path, records)
    return len(plan)
