"""Enterprise data from the public data platform's API (family ``enterprise``): the demo generator's determinism,
realism and calibration, and the eleven contracts' ingestion of its JSON-lines dumps, clean and with defects."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from pipelines.contracts.model import parse
from pipelines.demo import bank_reports, codes, public_records, public_reference, world
from pipelines.demo import enterprise as ent
from pipelines.demo import enterprise_capital as capital
from pipelines.demo import enterprise_credit as credit
from pipelines.demo import enterprise_firms as firms
from pipelines.demo.enterprise_common import month_index, read_jsonl
from pipelines.demo.files import read_csv
from pipelines.settings import PROJECT_ROOT, Settings

SCALE = 0.005
SEED = 20201231
MONTHS = ["2020-12", "2021-01"]
CONTRACTS = {name: parse(PROJECT_ROOT / "data_contracts" / f"{name}.odcs.yaml") for name in ent.DATASETS}
DEC_2020 = month_index("2020-12")
USCC_KEYS = ("creditCode", "guarantorCreditCode", "debtorCreditCode")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, list[Path]]:
    landing = tmp_path_factory.mktemp("enterprise") / "landing"
    return landing, ent.generate(landing, scale=SCALE, seed=SEED, months=MONTHS)


def records(paths: list[Path], dataset: str) -> list[dict]:
    return [r for p in paths if ent.dataset_of(p).name == dataset for r in read_jsonl(p)]


# --- the generator -------------------------------------------------------------------------------------------
def test_files_and_layout(generated):
    landing, paths = generated
    names = {str(p.relative_to(landing)) for p in paths}
    assert "enterprise_registry/enterprise_registry.jsonl" in names
    assert "enterprise_financials/2020/enterprise_financials_2020.jsonl" in names
    assert "enterprise_esg_indicators/2021/enterprise_esg_indicators_2021.jsonl" in names
    for dataset in ("enterprise_financing_demands", "enterprise_financing_responses", "enterprise_market_data"):
        assert {f"{dataset}/{m}/{dataset}_{m}.jsonl" for m in MONTHS} <= names
    assert not list(landing.rglob("*.tmp"))
    for path in paths:  # UTF-8 JSON objects, one a line, keys as the contract's businessNames
        contract = CONTRACTS[ent.dataset_of(path).name]
        keys = [c.source_name for c in contract.columns]
        for text in path.read_text(encoding="utf-8").splitlines():
            assert list(json.loads(text)) == keys, path.name


def test_same_seed_same_bytes_other_seed_other_data(generated, tmp_path):
    landing, paths = generated
    again = ent.generate(tmp_path / "again", scale=SCALE, seed=SEED, months=MONTHS)
    assert [p.relative_to(tmp_path / "again") for p in again] == [p.relative_to(landing) for p in paths]
    for first, second in zip(paths, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
    other = ent.generate(tmp_path / "other", scale=SCALE, seed=SEED + 1, months=MONTHS)
    assert any(a.read_bytes() != b.read_bytes() for a, b in zip(paths, other, strict=False))


def test_a_month_does_not_depend_on_the_other_months(generated, tmp_path):
    landing, _ = generated
    for path in ent.generate(tmp_path, scale=SCALE, seed=SEED, months=["2021-01"]):
        if ent.dataset_of(path).granularity != ent.SNAPSHOT:
            assert path.read_bytes() == (landing / path.relative_to(tmp_path)).read_bytes(), path.name


def test_numbers_are_written_exactly(generated):
    _, paths = generated
    text = "\n".join(p.read_text(encoding="utf-8") for p in paths)
    assert "e+" not in text and "e-" not in text  # no float notation
    for row in records(paths, "enterprise_financials"):
        for key in ("operatingRevenue", "totalAssets", "totalLiabilities", "ownersEquity", "ebitda"):
            assert re.fullmatch(r"-?\d+\.\d{2}", str(row[key])), (key, row[key])


def test_identifiers_and_code_lists(generated):
    _, paths = generated
    firm_codes = {f.uscc for f in world.enterprises(SCALE, SEED)}
    bank_codes = {b.code: b.name for b in world.BANKS}
    for path in paths:
        for row in read_jsonl(path):
            for key in USCC_KEYS:
                if key in row:
                    assert codes.uscc_is_valid(row[key]) and row[key] in firm_codes, (path.name, row[key])
    registry = records(paths, "enterprise_registry")
    assert {r["regionCode"] for r in registry} <= set(codes.DISTRICTS)
    classes = codes.industry_classes()
    assert all(r["industryCode"][1:] in classes[r["industryCode"][0]] for r in registry)
    for row in records(paths, "enterprise_financing_responses"):
        assert bank_codes[row["orgCode"]] == row["orgName"]
    for row in records(paths, "enterprise_guarantees"):
        assert row["creditorOrgCode"] in bank_codes


def test_only_active_firms_appear(generated):
    _, paths = generated
    by_code = {f.uscc: f for f in world.enterprises(SCALE, SEED)}
    snapshot_day = dt.date(2021, 1, 31)
    registry = records(paths, "enterprise_registry")
    assert len(registry) == sum(f.established <= snapshot_day for f in by_code.values())
    for row in registry:
        assert (row["entStatus"] == "存续") == by_code[row["creditCode"]].active_on(snapshot_day)
    for row in records(paths, "enterprise_financials"):
        assert by_code[row["creditCode"]].active_on(dt.date(int(row["year"]), 12, 31))
    for row in records(paths, "enterprise_financing_demands"):
        assert by_code[row["creditCode"]].active_on(dt.date.fromisoformat(row["postTime"][:10]))
    for row in records(paths, "enterprise_guarantees"):
        assert by_code[row["guarantorCreditCode"]].active_on(snapshot_day)
        assert by_code[row["debtorCreditCode"]].active_on(snapshot_day)


# --- calibration and realism (internal functions, so the city scale stays fast) -----------------------------------
def test_39_listed_companies_worth_3910_9_yi_at_the_end_of_2020():
    rows = list(capital.market_data_rows(1.0, SEED, DEC_2020))
    assert len(rows) == 39 == sum(f.listed_by(dt.date(2020, 12, 31)) for f in world.enterprises(1.0, SEED))
    caps = [float(r["marketCap"]) for r in rows]
    assert sum(caps) / 1e8 == pytest.approx(3910.9, rel=0.01)
    assert sum(c > 100e8 for c in caps) == 9  # nine above 100 亿 (the plan)
    for scale in (0.1, SCALE):
        total = sum(float(r["marketCap"]) for r in capital.market_data_rows(scale, SEED, DEC_2020))
        assert total / scale / 1e8 == pytest.approx(3910.9, rel=0.01)


def test_market_data_is_consistent_with_listing_and_financials():
    listing = {r["creditCode"]: r for r in capital.listing_status_rows(0.1, SEED, dt.date(2020, 12, 31))}
    market = list(capital.market_data_rows(0.1, SEED, DEC_2020))
    assert {r["creditCode"] for r in market} == {c for c, r in listing.items() if r["stage"] == "上市"}
    assert all(listing[r["creditCode"]]["stockCode"] == r["stockCode"] for r in market)
    financials = firms.financials(0.1, SEED, 2020)
    for row in market:
        assert financials[row["creditCode"]].market_cap == round(float(row["marketCap"]) * 100)
        if row["currency"] == "CNY":
            close_cents = round(float(row["closePrice"]) * 100)
            assert close_cents * row["sharesOutstanding"] == financials[row["creditCode"]].market_cap
    assert all(f.market_cap is None for c, f in financials.items() if c not in listing)


def test_direct_financing_800_yi_in_2020_and_3995_4_over_2016_2020():
    def total_yi(scale: float, years: range) -> float:
        return sum(float(e["amount"]) for y in years for e in capital.direct_financing_events(scale, SEED, y)) / 1e8

    assert total_yi(1.0, range(2020, 2021)) == pytest.approx(800, rel=0.01)
    assert total_yi(1.0, range(2016, 2021)) == pytest.approx(3995.4, rel=0.01)
    assert total_yi(SCALE, range(2020, 2021)) / SCALE == pytest.approx(800, rel=0.01)
    listed_2020 = {f.uscc for f in world.enterprises(1.0, SEED) if f.listed_on and f.listed_on.year == 2020}
    ipos = [e for e in capital.direct_financing_events(1.0, SEED, 2020) if e["financingType"] == "IPO"]
    assert {e["creditCode"] for e in ipos} == listed_2020


def test_green_bonds_are_bank_green_bonds_enterprise_issues(tmp_path):
    """One data, one source: the green bonds of direct financing are the enterprise-issued bonds of the
    bank_green_bonds files (same code, issue date, amount and issuer), not a draw of their own."""
    scale = 0.1
    paths = bank_reports.generate(tmp_path, scale=scale, seed=SEED, months=YEAR_2020)
    delivered = set()
    for path in paths:
        if bank_reports.dataset_of(path) == "bank_green_bonds":
            header, rows = read_csv(path, bank_reports.ENCODING)
            col = {name: i for i, name in enumerate(header)}
            delivered |= {(r[col["债券代码"]], r[col["发行日期"]], r[col["发行金额(元)"]],
                           r[col["发行人统一社会信用代码"]]) for r in rows if r[col["发行人类型"]] == "非金融企业"}
    assert len(delivered) >= 2
    events = [e for m in range(DEC_2020 - 11, DEC_2020 + 1) for e in capital.direct_financing_rows(scale, SEED, m)]
    green = {(e["securityCode"], e["eventDate"].isoformat(), str(e["amount"]), e["creditCode"])
             for e in events if e["isGreen"]}
    assert green == delivered
    assert all(e["financingType"] in capital.FINANCING_TYPES for e in events)
    codes_ = [e["securityCode"] for e in events if e["financingType"] not in ("IPO", "再融资")]
    assert len(codes_) == len(set(codes_))  # the other bonds' codes do not collide with the green ones
    for year in range(2016, 2021):  # every year, at the city's scale: all of the year's enterprise green bonds
        expected = {row[1] for row in bank_reports.bond_year(year, 1.0, SEED) if row[6] == "非金融企业"}
        found = {e["securityCode"] for e in capital.direct_financing_events(1.0, SEED, year) if e["isGreen"]}
        assert found == expected


def test_scope2_uses_the_public_grid_emission_factor():
    """Scope 2 is electricity x the 全国 factor of public_grid_emission_factors (the published file), which the
    energy rows do not repeat; a year the dataset has no factor for has no energy rows."""
    published = {int(year): factor for year, region, factor, _ in public_reference.factor_rows() if region == "全国"}
    assert firms.GRID_REGION == "全国"
    assert "grid_emission_factor" not in {c.name for c in CONTRACTS["enterprise_energy_emissions"].columns}
    for year in (2020, 2021, 2023):
        factor_1e4 = round(float(published[year]) * 10_000)
        assert firms.grid_factor_1e4(year) == factor_1e4
        rows = list(firms.energy_rows(0.05, SEED, year))
        assert rows and all("gridEmissionFactor" not in r for r in rows)
        for row in rows:
            scope2 = round(float(row["scope2Emissions"]) * 10_000)
            assert scope2 == (row["electricityConsumption"] * factor_1e4 + 500) // 1000
    assert min(published) == 2019 and not firms.energy(0.05, SEED, 2018)


def test_no_esg_indicator_repeats_another_datasets_fact():
    """E02, G01, G05 (public records), S01, G06 (financials), E03, E04 (energy / financials) are derived from
    the datasets holding those facts; the contract and the rows agree."""
    delivered = {code for code, *_ in firms.ESG_INDICATORS}
    assert {"E02", "G01", "G05", "S01", "G06", "E03", "E04"} == set(firms.ESG_DERIVED)
    assert not delivered & set(firms.ESG_DERIVED)
    contract = CONTRACTS["enterprise_esg_indicators"]
    column = next(c for c in contract.columns if c.name == "indicator_code")
    assert set(column.valid_values) == delivered
    rows = list(firms.esg_rows(0.05, SEED, 2020))
    assert {r["indicatorCode"] for r in rows} == delivered
    # the environmental credit grade reflects the penalties of public_environmental_penalties
    penalised = firms.penalties_by_firm(0.05, SEED, 2020)
    assert sum(penalised.values()) == world.count(public_records.PENALTIES_PER_YEAR[2020], 0.05) > 0
    grades = {r["creditCode"]: float(r["value"]) for r in rows if r["indicatorCode"] == "E05"}
    assert all(grades[c] >= 2 for c in penalised if c in grades)


def test_financials_balance_and_look_like_firms():
    financials = firms.financials(0.1, SEED, 2021)
    sizes = {f.uscc: f.size for f in world.enterprises(0.1, SEED)}
    assert all(f.equity == f.assets - f.liabilities for f in financials.values())
    negative = sum(f.equity < 0 for f in financials.values()) / len(financials)
    assert 0 < negative < 0.02  # possible but rare
    low_high = {"大型": (1000, 200_000), "中型": (300, 999), "小型": (20, 299), "微型": (1, 19)}
    assert all(low_high[sizes[c]][0] <= f.employees <= low_high[sizes[c]][1] for c, f in financials.items())
    by_size = defaultdict(list)
    for code, f in financials.items():
        by_size[sizes[code]].append(f.revenue)
    medians = {s: sorted(v)[len(v) // 2] for s, v in by_size.items()}
    assert medians["大型"] > medians["中型"] > medians["小型"] > medians["微型"]


def test_carbon_intensity_mostly_medium_and_key_emitters_in_ets_sectors():
    scale = 0.2
    financials = firms.financials(scale, SEED, 2020)
    energy = firms.energy(scale, SEED, 2020)
    industry = {f.uscc: f.industry_code for f in world.enterprises(scale, SEED)}
    bands = Counter()
    for code, e in energy.items():
        assert industry[code][0] in "BCD"
        assert e.scope2 == (e.kwh * 6101 + 500) // 1000  # 0.6101 t/MWh: 全国 2020 in public_grid_emission_factors
        intensity = (e.scope1 + e.scope2) / 1e4 / (financials[code].value_added / 1e6)
        bands["low" if intensity <= 0.6 else "medium" if intensity <= 2.0 else "high"] += 1
        if e.key_emitter:
            assert e.scope1 + e.scope2 >= 26_000 * 10_000 and e.verification == "核查"
            assert industry[code].startswith(firms.KEY_EMITTER_SECTORS)
    n = len(energy)
    assert bands["medium"] > 0.45 * n and bands["low"] > 0.1 * n and bands["high"] > 0.1 * n
    assert sum(e.key_emitter for e in energy.values()) >= 3
    assert firms.grid_factor_1e4(2023) == 5366


def test_guarantees_form_pairs_chains_and_circles():
    scale = 0.2
    rows = list(firms.guarantee_rows(scale, SEED, dt.date(2022, 12, 31)))
    edges = {(r["guarantorCreditCode"], r["debtorCreditCode"]) for r in rows}
    assert len(edges) == len(rows)  # one contract in force per relationship
    members = {c for edge in edges for c in edge}
    active = sum(f.active_on(dt.date(2022, 12, 31)) for f in world.enterprises(scale, SEED))
    assert 0.01 < len(members) / active < 0.06  # a few per cent of firms
    assert any((b, a) in edges for a, b in edges)  # mutual guarantees
    following = defaultdict(set)
    for a, b in edges:
        following[a].add(b)

    def in_circle(start: str) -> bool:
        seen, frontier = set(), {start}
        for _ in range(6):
            frontier = {n for f in frontier for n in following[f]} - seen
            if start in frontier:
                return True
            seen |= frontier
        return False

    assert any(in_circle(a) for a, b in edges if (b, a) not in edges)  # a circle of three or more


def test_loan_matching_keeps_mostly_to_the_1_3_9_day_promise():
    demands = [d for m in range(month_index("2021-01"), month_index("2021-07")) for d in credit.demands(0.2, SEED, m)]
    assert len(demands) == pytest.approx(6 * 100 * 1.15, rel=0.2)  # 500 a month at scale 1 (assumption)
    assert max(len(d.responses) for d in demands) == credit.MAX_BANKS
    responses = [(d, r) for d in demands for r in d.responses]
    assert all(len({r.bank.code for r in d.responses}) == len(d.responses) for d in demands)
    day = dt.timedelta(days=1)
    claimed = sum(r.claimed - d.posted <= day for d, r in responses) / len(responses)
    contacted = sum(r.contacted - d.posted <= 3 * day for d, r in responses) / len(responses)
    decided = sum(r.decided - d.posted <= 9 * day for d, r in responses) / len(responses)
    assert 0.75 < claimed < 0.97 and 0.75 < contacted < 0.98 and 0.7 < decided < 0.95
    assert all(d.posted <= r.claimed <= r.contacted <= r.decided for d, r in responses)


def test_listing_stages_and_reserve():
    rows = list(capital.listing_status_rows(1.0, SEED, dt.date(2020, 12, 31)))
    stages = Counter(r["stage"] for r in rows)
    assert stages["上市"] == 39 and stages["后备"] > stages["辅导"] > 0 and stages["申报"] + stages["过会"] > 0
    for row in rows:
        if row["board"] == "科创板" and row["listingDate"]:
            assert row["listingDate"] >= capital.STAR_FROM


# --- ingestion ---------------------------------------------------------------------------------------------------
# Defects go into a file big enough to carry each kind: the capital-market datasets have one listed company at
# SCALE, the loan-matching ones two demands a month.
DEFECT_SCALE = {"enterprise_listing_status": 0.1, "enterprise_market_data": 0.5, "enterprise_share_pledges": 0.5,
                "enterprise_direct_financing": 0.5, "enterprise_guarantees": 0.05,
                "enterprise_financing_demands": 0.05, "enterprise_financing_responses": 0.05}
YEAR_2020 = [f"2020-{m:02d}" for m in range(1, 13)]


@pytest.fixture(scope="module")
def shared_lake(tmp_path_factory) -> Settings:
    """One bootstrapped lake for the eleven datasets (each has its own tables): bootstrapping is the slow part."""
    from pipelines import settings as settings_module
    from pipelines.lake import meta

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKEHOUSE_ROOT", str(tmp_path_factory.mktemp("enterprise_lake")))
        for var in ("LAKEHOUSE_CATALOG", "LAKEHOUSE_DATA_PATH", "LAKEHOUSE_LANDING", "LAKEHOUSE_LOCK_FILE"):
            patch.delenv(var, raising=False)
        settings = settings_module.load()
        meta.bootstrap(settings)
        yield settings


def _key(path: Path) -> str | None:
    return None if ent.dataset_of(path).granularity == ent.SNAPSHOT else path.parent.name


def _quarantined(settings: Settings, contract) -> list[tuple]:
    from pipelines.lake.connection import reader

    with reader(settings) as con:
        return con.execute(f"SELECT source_row, column_name, rule, severity FROM {contract.quarantine_table} "
                           "ORDER BY source_row, rule").fetchall()


@pytest.mark.parametrize("name", list(ent.DATASETS))
def test_files_load_clean_then_defects_are_quarantined_by_rule(shared_lake: Settings, name: str) -> None:
    from pipelines.ingest.load import load_partition

    lake = shared_lake
    contract = CONTRACTS[name]
    months = YEAR_2020 if name == "enterprise_direct_financing" else MONTHS  # a month with an issue at SCALE
    paths = ent.generate(lake.landing, scale=SCALE, seed=SEED, months=months, datasets=[name])
    assert paths
    for path in paths:
        clean = load_partition(contract, _key(path), lake, log=lambda _: None)
        assert not clean.rejected and [f.path for f in clean.files] == [str(path)]
        assert clean.rows_read == clean.rows_loaded > 0, _quarantined(lake, contract)
        assert clean.rows_quarantined == 0

    bigger = ent.generate(lake.landing, scale=DEFECT_SCALE.get(name, SCALE), seed=SEED,
                          months=months[:1] if name != "enterprise_direct_financing" else months, datasets=[name])
    path = max(bigger, key=lambda p: len(p.read_bytes().splitlines()))
    rate = min(1.0, max(0.3, 5 / len(path.read_bytes().splitlines())))  # at least five defects
    plan = ent.defect_plan(path, rate, SEED)
    assert ent.inject_defects(path, rate, SEED) == len(plan) >= 4
    kinds = {defect for _, defect, _, _ in plan}
    assert {"wrong_type", "out_of_range"} <= kinds and ("bad_uscc_check" in kinds or name.endswith("responses"))
    result = load_partition(contract, _key(path), lake, log=lambda _: None)
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    assert result.rows_quarantined >= len(plan)
    found = defaultdict(set)
    for row, _column, rule, severity in _quarantined(lake, contract):
        if severity == "error":
            found[row].add(rule)
    for row, defect, field, rule in plan:
        caught = any(r == rule or (rule == "type" and r.startswith("type:")) for r in found[row])
        assert caught, (defect, field, found[row])
        if defect == "duplicate_key":
            assert "primaryKey" in found[row - 1]
