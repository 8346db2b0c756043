"""Local financial organisations' monthly returns (family local_finance): realistic, reconciled, loadable."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest

from pipelines.contracts.model import CONTRACTS_DIR, Contract, parse
from pipelines.demo import codes, local_finance, world
from pipelines.demo.local_finance import EXPOSURE_COLUMNS, ORG_TYPES, _cents, breaches, simulate

SEED = 20201231
MONTH = "2020-12"
SMALL = 0.05  # five organisations, one or two of each type
NAMES = [name for name, _ in EXPOSURE_COLUMNS]
MASKED_ID = re.compile(r"[0-9]{6}[*]{8}[0-9]{3}[0-9X]")


def _contract(name: str) -> Contract:
    """Our own contracts, parsed directly: another family's half-written contract must not fail these tests."""
    return parse(CONTRACTS_DIR / f"{name}.odcs.yaml")


def _exposures(ret) -> list[dict]:
    return [dict(zip(NAMES, row, strict=True)) for row in ret.exposures]


@pytest.fixture(scope="module")
def returns():
    return list(simulate(SMALL, SEED, ["2020-11", MONTH]))


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_and_a_month_does_not_depend_on_the_others(tmp_path):
    one = local_finance.generate(tmp_path / "a", scale=0.02, seed=5, months=["2020-12"])
    local_finance.generate(tmp_path / "b", scale=0.02, seed=5, months=["2020-12"])
    local_finance.generate(tmp_path / "c", scale=0.02, seed=5, months=["2020-10", "2020-12"])
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert len(one) == len(world.local_finance_orgs(0.02, 5)) + 1  # a workbook each, and the registry
    assert a == b
    assert {k: v for k, v in c.items() if "2020-10" not in k} == a


def test_workbook_layout_matches_the_contracts(tmp_path):
    paths = local_finance.generate(tmp_path, scale=0.02, seed=5, months=[MONTH])
    contracts = {name: _contract(name) for name in ("local_finance_returns", "local_finance_exposures",
                                                    "local_finance_registry")}
    workbook = next(p for p in paths if p.parent.name == MONTH)
    book = openpyxl.load_workbook(workbook, read_only=True)
    for name in ("local_finance_returns", "local_finance_exposures"):
        contract = contracts[name]
        assert Path(workbook.relative_to(tmp_path)).match(contract.landing_pattern.format(partition=MONTH))
        rows = list(book[contract.sheet_name].iter_rows(values_only=True))
        assert rows[0][0].startswith("湖州市") and rows[0][0].endswith("2020年12月")  # the title row
        assert list(rows[contract.header_row - 1]) == [c.source_name for c in contract.columns]
    registry = contracts["local_finance_registry"]
    [path] = [p for p in paths if p.match(registry.landing_pattern)]
    rows = list(openpyxl.load_workbook(path, read_only=True)[registry.sheet_name].iter_rows(values_only=True))
    assert list(rows[registry.header_row - 1]) == [c.source_name for c in registry.columns]


def test_codes_and_code_lists_are_real(returns):
    classes = {section + code for section, codes_ in codes.industry_classes().items() for code in codes_}
    firms = {e.uscc for e in world.enterprises(SMALL, SEED)}
    for ret in returns:
        assert codes.uscc_is_valid(ret.org.uscc)
        lines = {line.exposure_type for line in ORG_TYPES[ret.org.org_type].lines}
        for row in _exposures(ret):
            assert row["exposure_type"] in lines
            assert row["district_code"] in codes.DISTRICTS
            if row["client_type"] in ("企业", "个体工商户"):
                assert codes.uscc_is_valid(row["client_id"]) and row["industry_code"] in classes
            else:
                assert MASKED_ID.fullmatch(row["client_id"])
            if row["client_type"] == "企业":  # firms are the city's registered enterprises
                assert row["client_id"] in firms
            if row["group_id"]:
                assert row["group_id"] in firms
    registry = local_finance.registry_rows(SMALL, SEED, MONTH)
    assert [r[0] for r in registry] == [o.uscc for o in world.local_finance_orgs(SMALL, SEED)]


def test_registry_holds_the_plan_count_at_scale_1():
    assert len(world.local_finance_orgs(1.0, SEED)) == 83  # 各类地方金融组织达到83家 (the plan, end of 2020)
    at_2020 = local_finance.registry_rows(1.0, SEED, MONTH)
    assert len(at_2020) == 83 and not [r for r in at_2020 if r[-1] == "已退出"]  # exits start in 2021
    at_2025 = local_finance.registry_rows(1.0, SEED, "2025-12")
    statuses = [r[-1] for r in at_2025]
    assert set(statuses) <= set(local_finance.STATUSES) and 0 < statuses.count("已退出") < 83 * 0.2
    assert len({r[5] for r in at_2025}) == 83  # licence numbers are unique


def test_returns_reconcile_with_their_client_sheet(returns):
    for ret in returns:
        r, rows = ret.as_dict(), _exposures(ret)
        amount = [_cents(x["outstanding"]) for x in rows]
        total = sum(amount)
        assert _cents(r["business_balance"]) == total, ret.org.name
        clients, groups = defaultdict(int), defaultdict(int)
        for x, cents in zip(rows, amount, strict=True):
            clients[x["client_id"]] += cents
            groups[x["group_id"] or x["client_id"]] += cents
        assert int(r["client_count"]) == len(clients)
        assert _cents(r["largest_client_balance"]) == max(clients.values(), default=0)
        assert _cents(r["largest_group_balance"]) == max(groups.values(), default=0)
        days = [int(x["days_overdue"]) for x in rows]
        assert _cents(r["overdue_balance"]) == sum(a for d, a in zip(days, amount, strict=True) if d > 0)
        assert _cents(r["overdue_90d_balance"]) == sum(a for d, a in zip(days, amount, strict=True) if d > 90)
        assert _cents(r["small_micro_agri_balance"]) == sum(
            a for x, a in zip(rows, amount, strict=True) if x["is_small_micro_agri"] == "是")
        assert _cents(r["green_balance"]) == sum(a for x, a in zip(rows, amount, strict=True) if x["is_green"] == "是")
        assert _cents(r["total_assets"]) == _cents(r["total_liabilities"]) + _cents(r["net_assets"])
        assert _cents(r["paid_in_capital"]) <= _cents(r["registered_capital"])
        if ret.org.org_type == "典当行":
            by_type = defaultdict(int)
            for x, a in zip(rows, amount, strict=True):
                by_type[x["exposure_type"]] += a
            assert _cents(r["real_estate_pawn_balance"]) == by_type["房地产抵押典当"]
            assert _cents(r["property_rights_pawn_balance"]) == by_type["财产权利质押典当"]
            assert _cents(r["movable_pawn_balance"]) == by_type["动产质押典当"]
        if ret.org.org_type in ("小额贷款公司", "典当行"):  # lenders fund their book from assets
            assert _cents(r["total_assets"]) >= total
        if not total:
            continue
        weighted = sum(int(x["rate_pct"].replace(".", "")) * a for x, a in zip(rows, amount, strict=True))
        assert abs(int(r["weighted_avg_rate_pct"].replace(".", "")) - weighted / total) <= 0.5


def test_contracts_carry_on_from_month_to_month(returns):
    by_org = defaultdict(dict)
    for ret in returns:
        by_org[ret.org.uscc][ret.month] = {row[2]: row for row in ret.exposures}
    for months in by_org.values():
        before, after = months["2020-11"], months[MONTH]
        kept = before.keys() & after.keys()
        assert len(kept) > 0.5 * len(before)
        for cid in kept:  # same client, same contract; the balance only goes down
            assert before[cid][4] == after[cid][4]
            assert _cents(after[cid][12]) <= _cents(before[cid][12])


def test_most_comply_and_a_few_breach_at_scale_1():
    months = [f"2019-{m:02d}" for m in range(1, 7)]
    found: dict[str, set[str]] = defaultdict(set)
    orgs = set()
    for ret in simulate(1.0, SEED, months):
        orgs.add(ret.org.uscc)
        for rule in breaches(ret.as_dict()):
            found[ret.org.uscc].add(f"{ret.org.org_type}:{rule}")
    assert len(orgs) == sum(o.licensed_on < dt.date(2019, 7, 1) for o in world.local_finance_orgs(1.0, SEED))
    assert 3 <= len(found) <= 0.25 * len(orgs), found
    kinds = {k for ks in found.values() for k in ks}
    assert len({k.split(":")[0] for k in kinds}) >= 2, kinds  # more than one type of organisation breaches


def _load(settings, name, key):
    from pipelines.ingest.load import load_partition

    result = load_partition(_contract(name), key, settings, log=lambda *_: None)
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    assert not result.rejected, [f.rejected for f in result.rejected]
    return result


def _quarantined(settings, table: str) -> set[tuple[str, str]]:
    from pipelines.lake.connection import reader

    with reader(settings) as con:
        return set(con.execute(f"SELECT DISTINCT column_name, rule FROM quarantine.{table}").fetchall())


def test_every_file_loads_clean_and_reconciles_in_the_lake(lake):
    from pipelines.lake.connection import reader

    local_finance.generate(lake.landing, scale=SMALL, seed=SEED, months=[MONTH])
    results = [_load(lake, "local_finance_returns", MONTH), _load(lake, "local_finance_exposures", MONTH),
               _load(lake, "local_finance_registry", None)]
    orgs = len(world.local_finance_orgs(SMALL, SEED))
    assert [r.rows_read for r in results][0::2] == [orgs, orgs]
    assert all(r.rows_quarantined == 0 and r.rows_loaded == r.rows_read for r in results)
    with reader(lake) as con:
        mismatched = con.execute("""
            SELECT r.org_code, r.business_balance, e.total
            FROM raw.local_finance__returns r
            JOIN (SELECT org_code, report_month, sum(outstanding) AS total
                  FROM raw.local_finance__exposures GROUP BY ALL) e USING (org_code, report_month)
            WHERE r.business_balance <> e.total""").fetchall()
        joined = con.execute("""SELECT count(*) FROM raw.local_finance__returns
                                JOIN raw.local_finance__registry USING (org_code)""").fetchone()[0]
    assert mismatched == [] and joined == orgs


def test_defects_are_quarantined_under_the_rule_that_names_them(lake):
    paths = local_finance.generate(lake.landing, scale=0.02, seed=SEED, months=[MONTH])
    workbook = max((p for p in paths if p.parent.name == MONTH), key=lambda p: p.stat().st_size)
    changed = local_finance.inject_defects(workbook, 0.05, seed=1)
    registry = next(p for p in paths if p.parent.name == local_finance.REGISTRY_DIR)
    assert local_finance.inject_defects(registry, 1.0, seed=1) == 4
    assert changed >= 4
    exposures = _load(lake, "local_finance_exposures", MONTH)
    assert changed <= exposures.rows_quarantined <= changed + changed // 4 + 1  # a duplicate key takes both rows
    assert {("contract_amount", "type:DECIMAL(18,2)"), ("outstanding", "minimum"),
            ("exposure_type", "validValues"), ("report_month, org_code, contract_id", "primaryKey")} \
        <= _quarantined(lake, "local_finance__exposures")
    returns = _load(lake, "local_finance_returns", MONTH)
    assert returns.rows_quarantined == 0  # the 主要指标 sheet is untouched
    _load(lake, "local_finance_registry", None)
    assert {("licence_date", "type:DATE"), ("registered_capital", "minimum"), ("org_type", "validValues"),
            ("org_code", "primaryKey")} <= _quarantined(lake, "local_finance__registry")
