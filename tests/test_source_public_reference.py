"""Public reference data: the plan's indicator tables parsed from its text, the code lists and factors as
offices publish them (CSV with BOM, GB18030, XLSX with a title row), each loading clean under its contract,
and broken deliveries rejected or quarantined under the rule that names the defect."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from pipelines.contracts.model import CONTRACTS_DIR, Contract, parse, validate_document
from pipelines.demo import codes, plan_indicators, world
from pipelines.demo import public_reference as pr
from pipelines.demo.plan_indicators import PlanParseError, extract, implied_growth_pct
from pipelines.ingest.load import load_partition
from pipelines.lake.connection import reader
from pipelines.settings import Settings

QUIET = {"log": lambda _: None}
MONTHS = ["2020-11", "2020-12"]

# The plan's tables as printed: (seq, name, unit, 2015, 2020, stated growth %, stated change in points).
FYP13 = [
    (1, "金融业增加值", "亿元", "141.7", "254.7", "13.63", None),
    (2, "金融业增加值占GDP比重", "%", "6.8", "7.96", None, "0.23"),
    (3, "金融机构本外币各项存款余额", "亿元", "3089.7", "5956.58", "21.15", None),
    (4, "金融机构本外币各项贷款余额", "亿元", "2535", "5940.01", "13.79", None),
    (5, "绿色贷款余额", "亿元", "369.49", "1080.55", "43.0", None),
    (6, "制造业贷款余额", "亿元", "648.11", "878.04", "7.89", None),
    (7, "小微企业贷款余额", "亿元", "818.95", "1511.58", "16.56", None),
    (8, "中长期贷款余额", "亿元", "1030.17", "3304.27", "33.83", None),
    (9, "企业信用贷款余额", "亿元", "82.09", "338.18", "42.47", None),
    (10, "境内外上市公司数", "家", "22", "39", None, None),
    (11, "累计实现直接融资", "亿元", "874.47", "3995.4", None, None),
    (12, "发行绿色债券规模", "单", None, "29", None, None),
    (13, "保费收入", "亿元", "65.82", "127.7", "12.5", None),
    (14, "绿色金融地方标准", "个", None, "12", None, None),
    (15, "绿色专营机构数量", "家", None, "41", None, None),
    (16, "银行业不良贷款率", "%", "1.53", "0.51", None, None),
]
# (seq, name, unit, 2020, 2025 target, qualifier)
FYP14 = [
    (1, "金融业增加值占GDP比重", "%", "7.96", "8", "以上"),
    (2, "本外币存贷款余额及其他业务融资余额", "万亿元", "1.27", "2", None),
    (3, "绿色贷款余额占全部贷款余额比重", "%", "18.1", "23", None),
    (4, "绿色保费收入同比增长率", "%", "4.5", "10", None),
    (5, "境内外上市公司数", "家", "39", "70", None),
    (6, "累计实现直接融资", "亿元", "3995.42", "5000", None),
    (7, "银行业不良贷款率", "%", "0.51", "1", "以下"),
]
# Rows whose stated growth is more than 0.5 points off what their endpoints give (the loans row: 2535 ->
# 5940.01 is 18.6% a year, stated 13.79%; deposits 14.0%, stated 21.15%). Green loans (5) agree once their
# base is read as 2018-01-01 (footnote [2]): 43.0% over three years.
INCONSISTENT = {1, 3, 4, 6, 7, 8, 9, 13}


def contract(name: str) -> Contract:
    """The dataset's contract, read like all_contracts() does, without depending on other helpers' files."""
    path = CONTRACTS_DIR / f"{name}.odcs.yaml"
    assert validate_document(path) == []
    return parse(path)


@cache
def delivered(dataset: str) -> bytes:
    return pr.dataset_bytes(dataset)


def rows_of(settings: Settings, sql: str) -> list[tuple]:
    with reader(settings) as con:
        return con.execute(sql).fetchall()


# --- the plan's indicator tables ---------------------------------------------------------------------------
def test_parser_extracts_both_tables_with_the_printed_values() -> None:
    indicators = extract()
    fyp13 = [i for i in indicators if i.plan_period == "十三五"]
    fyp14 = [i for i in indicators if i.plan_period == "十四五"]
    assert len(fyp13) == 16 and len(fyp14) == 7
    assert [(i.seq, i.name, i.unit, i.value_2015, i.value_2020, i.stated_avg_growth_pct, i.stated_avg_change_pts)
            for i in fyp13] == FYP13
    assert [(i.seq, i.name, i.unit, i.value_2020, i.value_2025_target, i.target_qualifier) for i in fyp14] == FYP14
    assert all(i.value_2015 is None and i.stated_avg_growth_pct is None for i in fyp14)
    assert all(i.value_2025_target is None for i in fyp13)
    by_seq = {i.seq: i for i in fyp13}
    # footnotes: on a change in points, on a base value (which dates it), on a name
    assert by_seq[2].footnote == "[1] 〔〕为年均增减。"
    assert by_seq[5].footnote == "[2] 该数据为2018年1月1日统计数据。" and by_seq[5].value_2015_as_of == "2018-01-01"
    assert by_seq[11].footnote.startswith("[3] 直接融资包含公司债发行")
    assert {i.value_2015_as_of for s, i in by_seq.items() if s != 5 and i.value_2015} == {"2015-12-31"}
    # rows split over lines, and the page number "6" between rows 14 and 15 skipped
    assert (by_seq[3].source_line, by_seq[3].source_text) == (
        130, "3 / 金融机构本外币各项存款余额 / （亿元） / 3089.7 5956.58 21.15%")
    assert by_seq[15].source_line == 173
    assert fyp14[1].source_text == "2 本外币存贷款余额及其他业务融资余额（万 / 亿元） / 1.27 2"


def test_stated_growth_disagrees_with_its_endpoints_in_exactly_these_rows() -> None:
    off = {i.seq for i in extract() if i.stated_avg_growth_pct is not None
           and abs(implied_growth_pct(i) - float(i.stated_avg_growth_pct)) > 0.5}
    assert off == INCONSISTENT
    loans = next(i for i in extract() if i.plan_period == "十三五" and i.seq == 4)
    assert round(implied_growth_pct(loans), 1) == 18.6


def test_parser_reads_a_rewrapped_text_and_refuses_a_broken_one() -> None:
    text = plan_indicators.plan_text()
    # the same tables with every row on one line and the page number moved: the same indicators
    rewrapped = (text.replace("3\n金融机构本外币各项存款余额\n\n（亿元）\n\n", "3 金融机构本外币各项存款余额（亿元） ")
                 .replace("\n\n6\n\n15 ", "\n\n15 ").replace("13 保费收入", "12\n\n13 保费收入"))
    assert [(i.plan_period, i.seq, i.name, i.value_2020) for i in extract(rewrapped)] == [
        (i.plan_period, i.seq, i.name, i.value_2020) for i in extract()]
    with pytest.raises(PlanParseError, match="not found"):
        extract(text.replace("“十四五”期间绿色金融发展主要预期指标", "主要预期指标"))
    with pytest.raises(PlanParseError, match="unknown unit"):
        extract(text.replace("境内外上市公司数（家） 22", "境内外上市公司数（户） 22"))
    with pytest.raises(PlanParseError, match="not defined"):
        extract(text.replace("[3] 直接融资包含", "直接融资包含"))


# --- generation ----------------------------------------------------------------------------------------------
def test_generation_is_deterministic_and_the_same_in_every_world(tmp_path: Path) -> None:
    first = pr.generate(tmp_path / "a", scale=0.005, seed=7, months=MONTHS)
    again = pr.generate(tmp_path / "b", scale=0.005, seed=7, months=MONTHS)
    other = pr.generate(tmp_path / "c", scale=0.5, seed=8, months=["2025-12"])
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in again]
    for a, b, c in zip(first, again, other, strict=True):
        assert a.read_bytes() == b.read_bytes() == c.read_bytes(), a.name
    assert len(first) == len(pr.FILES)
    assert pr.generate(tmp_path / "d", scale=0.005, seed=7, months=[]) == []


def test_files_are_delivered_as_offices_publish_them(tmp_path: Path) -> None:
    paths = {dataset: pr.write_dataset(tmp_path, dataset, delivered(dataset)) for dataset in pr.FILES}
    assert paths["public_divisions"].read_bytes().startswith(b"\xef\xbb\xbf\xe5\x8c\xba")  # BOM, 区划代码
    taxonomy = paths["public_green_taxonomy"].read_bytes()
    assert taxonomy.startswith("版本代码".encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        taxonomy.decode("utf-8")
    from openpyxl import load_workbook

    book = load_workbook(paths["public_industry_codes"], read_only=True)
    title, header, first = list(book["国民经济行业分类"].iter_rows(max_row=3, values_only=True))
    assert title[0].startswith("国民经济行业分类") and header[0] == "代码"
    assert first[:3] == ("A", "农、林、牧、渔业", "门类")
    book.close()


def test_reference_data_covers_what_the_demo_uses() -> None:
    # divisions: the city, its five districts and counties (the codes every other source uses), the province
    divisions = {code: (name, level, parent) for code, name, level, parent in pr.division_rows()}
    assert {c for c, (_, level, _) in divisions.items() if level in "区县"} == set(codes.DISTRICTS)
    assert divisions["330500"] == ("湖州市", "市", "330000") and divisions["330000"][2] == ""
    # industries: 20 sections, 97 divisions, every class the demo draws, 3741 restored
    industries = pr.industry_rows()
    levels = [row[2] for row in industries]
    assert (levels.count("门类"), levels.count("大类"), levels.count("小类")) == (20, 97, 1381)
    classes = {row[3] + row[6] for row in industries if row[2] == "小类"}
    assert {s + c for s, cs in codes.industry_classes().items() for c in cs} <= classes
    assert "C3741" in classes
    # taxonomy: every category the loans use, its parents, named; each 2021 item maps to a 2019 item
    taxonomy = {(v, code): (name, parent, mapped) for v, _, code, name, _, parent, mapped, *_ in pr.taxonomy_rows()}
    gicg = {code: name for (v, code), (name, _, _) in taxonomy.items() if v == "GICG2019"}
    for code in codes.GREEN_CATEGORIES:
        assert {code, code[:3], code[0]} <= set(gicg), code
    assert {code: gicg[code] for code in codes.GREEN_FIRST_LEVEL} == codes.GREEN_FIRST_LEVEL
    mapped = {m for (v, _), (_, _, m) in taxonomy.items() if v == "GBEPC2021" and m}
    assert mapped == set(codes.GREEN_CATEGORIES)
    assert all(parent == "" or (v, parent) in taxonomy for (v, _), (_, parent, _) in taxonomy.items())
    assert sum(v == "GFEPC2025" for v, _ in taxonomy) == 9
    # grid factors: both regions for 2019-2025, each value with its standing
    factors = {(int(y), region): (f, src) for y, region, f, src in pr.factor_rows()}
    assert set(factors) == {(y, r) for y in range(2019, 2026) for r in ("全国", "华东")}
    assert all(src[:3] in ("[C]", "[S]", "[U]") and 0.3 < float(f) < 1.0 for f, src in factors.values())
    # benchmarks: every industrial class every year, in the carbon-efficiency code's range of magnitudes
    benchmarks = pr.benchmark_rows()
    industrial = {s + c for s in pr.BENCHMARK_SECTIONS for c in codes.industry_classes()[s]}
    assert industrial <= {code for _, code, _, _ in benchmarks}
    assert len(benchmarks) == 7 * len({code for _, code, _, _ in benchmarks})
    values = {code: float(v) for year, code, _, v in benchmarks if year == 2020}
    assert values["C3011"] > 0.6 and values["C3912"] < 0.6 and values["D4411"] > 2.0  # cement, computers, power


def test_plan_figures_agree_with_the_demo_calibration() -> None:
    """The demo world is calibrated to these figures; the parsed table and the constants must not drift apart."""
    fyp13 = {i.seq: i for i in extract() if i.plan_period == "十三五"}
    fyp14 = {i.seq: i for i in extract() if i.plan_period == "十四五"}
    assert int(fyp13[10].value_2015) == world.LISTED_BY_YEAR_END[2015]
    assert int(fyp13[10].value_2020) == world.LISTED_BY_YEAR_END[2020]
    assert int(fyp14[5].value_2025_target) == world.LISTED_BY_YEAR_END[2025]
    # the green-loan share the bank reports are steered to (18.1%) is the plan's, and its own endpoints give it
    assert float(fyp13[5].value_2020) / float(fyp13[4].value_2020) == pytest.approx(
        float(fyp14[3].value_2020) / 100, rel=0.01)


# --- loading -------------------------------------------------------------------------------------------------
# Each lake test bootstraps a lake for every contract in the project, so the datasets share one lake per test.
def deliver(settings: Settings, dataset: str) -> Path:
    return pr.write_dataset(settings.landing, dataset, delivered(dataset))


def test_every_file_loads_clean_and_reads_back_exactly(lake: Settings) -> None:
    for dataset in pr.FILES:
        deliver(lake, dataset)
        c = contract(dataset)
        result = load_partition(c, None, lake, **QUIET)
        n = len(pr.DATASETS[dataset][1]())
        assert not result.rejected, dataset
        assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (n, n, 0), dataset
        assert rows_of(lake, f"SELECT count(*) FROM {c.raw_table}") == [(n,)], dataset
        warned = rows_of(lake, f"SELECT rule, severity, count(*) FROM {c.quarantine_table} GROUP BY ALL")
        if dataset != "public_plan_indicators":
            assert (result.rows_warned, warned) == (0, []), dataset
    # the plan's inconsistent rows load, and each carries its warning
    assert warned == [("growth_agrees_with_endpoints", "warning", len(INCONSISTENT))]
    assert result.rows_warned == len(INCONSISTENT)
    assert {s for (s,) in rows_of(lake, """
        SELECT seq FROM raw.public__plan_indicators r JOIN quarantine.public__plan_indicators q
          ON q.source_file = r._source_file AND q.source_row = r._source_row""")} == INCONSISTENT
    assert rows_of(lake, "SELECT value_2020, stated_avg_growth_pct FROM raw.public__plan_indicators "
                         "WHERE plan_period = '十三五' AND seq = 4") == [(Decimal("5940.0100"), Decimal("13.79"))]
    # XLSX: codes keep their leading zeros, numbers their exact decimals, the title row is skipped
    assert rows_of(lake, "SELECT code, name, level, section_code, division_code, group_code, class_code "
                         "FROM raw.public__industry_codes WHERE code IN ('01', '0111', '3741') ORDER BY code") == [
        ("01", "农业", "大类", "A", "01", None, None), ("0111", "稻谷种植", "小类", "A", "01", "011", "0111"),
        ("3741", "飞机制造", "小类", "C", "37", "374", "3741")]
    assert rows_of(lake, "SELECT CAST(intensity_t_per_10k_yuan AS VARCHAR), _source_row "
                         "FROM raw.public__carbon_intensity_benchmarks "
                         "WHERE benchmark_year = 2023 AND industry_code = 'C3011'") == [
        (pr.carbon_intensity_benchmark("C3011", 2023), 3 + [r[:2] for r in pr.benchmark_rows()].index((2023, "C3011")))]
    assert rows_of(lake, "SELECT CAST(factor_t_per_mwh AS VARCHAR) FROM raw.public__grid_emission_factors "
                         "WHERE factor_year = 2022 AND region = '全国'") == [("0.5366",)]
    assert rows_of(lake, "SELECT effective_from, effective_to FROM raw.public__green_taxonomy "
                         "WHERE taxonomy_version = 'GBEPC2021' AND category_code = '3.2.2.2'") == [
        (dt.date(2021, 7, 1), dt.date(2025, 9, 30))]


# Per defect: the (column, rule) the loader quarantines it under; a column of None is a row rule.
DEFECT_RULES = {
    "bad_code_pattern": {("division_code", "pattern"), ("code", "pattern")},
    "unknown_level": {("division_level", "validValues"), ("level", "validValues")},
    "wrong_parent": {(None, "parent_matches_code")},
    "broken_hierarchy": {(None, "code_is_its_level"), (None, "codes_nest")},
    "unknown_version": {("taxonomy_version", "validValues")},
    "bad_effective_date": {("effective_from", "type:DATE")},
    "factor_in_kg_per_mwh": {("factor_t_per_mwh", "maximum")},
    "no_confidence_marker": {(None, "source_states_confidence")},
    "duplicate_year_region": {("factor_year, region", "primaryKey")},
    "negative_intensity": {("intensity_t_per_10k_yuan", "minimum")},
    "too_many_decimals": {("intensity_t_per_10k_yuan", "scale:4")},
    "bad_industry_code": {("industry_code", "pattern")},
    "unknown_unit": {("unit", "validValues")},
    "growth_not_a_number": {("stated_avg_growth_pct", "type:DECIMAL(9,2)")},
    "qualifier_without_target": {(None, "qualifier_needs_target")},
}
DEFECT_RATES = {"public_divisions": 0.5, "public_industry_codes": 0.003, "public_green_taxonomy": 0.05,
                "public_grid_emission_factors": 0.3, "public_carbon_intensity_benchmarks": 0.001,
                "public_plan_indicators": 0.2}


def test_defective_rows_are_quarantined_under_the_rule_that_names_them(lake: Settings) -> None:
    for dataset in pr.FILES:
        path = deliver(lake, dataset)
        n_rows = len(pr.DATASETS[dataset][1]())
        planned = pr.planned_defects(path, n_rows, DEFECT_RATES[dataset], seed=3)
        assert {d for _, d in planned} == set(pr.DEFECTS[dataset])  # every kind of the dataset is exercised
        assert pr.inject_defects(path, DEFECT_RATES[dataset], seed=3) == len(planned)
        c = contract(dataset)
        result = load_partition(c, None, lake, **QUIET)
        assert result.rows_read == result.rows_loaded + result.rows_quarantined == n_rows, dataset
        first_row = 3 if path.suffix == ".xlsx" else 1  # source_row of the first data row (XLSX: sheet row)
        found: dict[int, set] = {}
        for row, column, rule in rows_of(lake, f"SELECT source_row, column_name, rule FROM {c.quarantine_table} "
                                               "WHERE severity = 'error'"):
            found.setdefault(row - first_row, set()).add((column, rule))
        for i, defect in planned:
            assert found.get(i, set()) & DEFECT_RULES[defect], (dataset, i, defect, found.get(i))
        duplicated = {i - 1 for i, d in planned if d == "duplicate_year_region"}  # the row a duplicate repeats
        assert set(found) == {i for i, _ in planned} | duplicated, dataset
        assert result.rows_quarantined == len(found), dataset


def test_wrong_encoding_and_missing_columns_reject_the_file(lake: Settings) -> None:
    for dataset in pr.FILES:
        deliver(lake, dataset)
    landing = lake.landing
    pr.reencode(landing / pr.FILES["public_divisions"][0], "gb18030")  # promised UTF-8
    pr.reencode(landing / pr.FILES["public_green_taxonomy"][0], "utf-8")  # promised GB18030
    pr.drop_column(landing / pr.FILES["public_plan_indicators"][0], "2020年")
    pr.drop_column(landing / pr.FILES["public_industry_codes"][0], "层级")
    pr.drop_column(landing / pr.FILES["public_grid_emission_factors"][0], "来源及可信度")
    outcome = {}
    for dataset in ("public_divisions", "public_green_taxonomy", "public_plan_indicators", "public_industry_codes",
                    "public_grid_emission_factors"):
        result = load_partition(contract(dataset), None, lake, **QUIET)
        [rejected] = result.rejected
        outcome[dataset] = rejected.rejection.rule
        assert result.rows_loaded == 0 and Path(rejected.path).exists()  # set aside under landing/rejected
    assert outcome["public_divisions"] == "encoding"
    # UTF-8 bytes read as GB18030 decode to other characters: the headers are then not the contract's
    assert outcome["public_green_taxonomy"] in ("encoding", "missing_column")
    assert {outcome[d] for d in ("public_plan_indicators", "public_industry_codes", "public_grid_emission_factors")
            } == {"missing_column"}


def test_the_configurable_factor_file_is_what_is_delivered(tmp_path: Path) -> None:
    path = pr.write_dataset(tmp_path, "public_grid_emission_factors", delivered("public_grid_emission_factors"))
    with path.open(encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header == list(pr.FACTORS_HEADER)
    assert [tuple(r) for r in rows] == pr.factor_rows()
