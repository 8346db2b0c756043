"""The banks' other reports (family bank_reports): deposits, green bonds, insurance premiums, the institution
registry. Determinism, the plan's 2020 figures, cross-dataset identifiers, clean loads and quarantined defects."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.contracts.model import CONTRACTS_DIR, Contract, parse
from pipelines.demo import bank_reports as br
from pipelines.demo import codes, world
from pipelines.ingest.load import load_partition
from pipelines.lake.connection import reader
from pipelines.settings import Settings

SEED = 20201231
SMALL = 0.01
MONTHS = ["2020-11", "2020-12", "2021-07"]  # a year end and the switch to the 2021 bond catalogue
CODE = re.compile(r"[A-Z][0-9]{4}[0-9]{6}[0-9]{3}")
QUIET = {"log": lambda _: None}


def contract(name: str) -> Contract:
    return parse(CONTRACTS_DIR / f"{name}.odcs.yaml")


def read(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("gb18030")  # strict: fails on anything GB18030 cannot decode
    header, *rows = list(csv.reader(text.splitlines()))
    return [dict(zip(header, row, strict=True)) for row in rows]


def files(paths: list[Path], dataset: str) -> list[Path]:
    return [p for p in paths if br.dataset_of(p) == dataset]


def rows(paths: list[Path], dataset: str) -> list[dict[str, str]]:
    return [row for p in files(paths, dataset) for row in read(p)]


def yuan(rows_: list[dict[str, str]], column: str) -> Decimal:
    return sum((Decimal(r[column]) for r in rows_), Decimal(0))


def near(value: Decimal, target: str, rel: float) -> bool:
    """Within ``rel`` of ``target`` (the plan's figures are compared as ratios, exactly)."""
    return abs(value / Decimal(target) - 1) <= Decimal(str(rel))


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Scale 1, the years the plan's figures speak of: 2019 and 2020, the registry at the end of 2020."""
    months = [f"{y}-{m:02d}" for y in (2019, 2020) for m in range(1, 13)]
    return br.generate(tmp_path_factory.mktemp("city"), scale=1.0, seed=SEED, months=months)


# --- determinism ----------------------------------------------------------------------------------------
def test_same_seed_same_bytes_and_months_stand_alone(tmp_path: Path) -> None:
    first = br.generate(tmp_path / "a", scale=SMALL, seed=SEED, months=MONTHS)
    second = br.generate(tmp_path / "b", scale=SMALL, seed=SEED, months=MONTHS)
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
    # 12 deposit files, a bond file and a premium file per month, one registry
    assert len(first) == len(MONTHS) * (len(world.BANKS) + 2) + 1
    # A month's files do not depend on the other months generated
    alone = br.generate(tmp_path / "c", scale=SMALL, seed=SEED, months=["2020-12"])
    for path in alone:
        if br.dataset_of(path) != "bank_institutions":
            assert path.read_bytes() == (tmp_path / "a" / path.relative_to(tmp_path / "c")).read_bytes()
    other = br.generate(tmp_path / "d", scale=SMALL, seed=SEED + 1, months=["2020-12"])
    assert files(other, "bank_deposits")[0].read_bytes() != files(alone, "bank_deposits")[0].read_bytes()


# --- calibration to the plan (2020, scale 1 and scale SMALL ÷ SMALL) -----------------------------------------
def test_deposits_are_the_citys_5956_58_yi_at_the_end_of_2020(city: list[Path], tmp_path: Path) -> None:
    by_month = defaultdict(Decimal)
    for row in rows(city, "bank_deposits"):
        by_month[row["报告期"]] += Decimal(row["存款余额(元)"])
    assert near(by_month["2020-12"], "595658000000", 0.01)
    assert near(by_month["2020-12"] / by_month["2019-12"], "1.2115", 0.01)
    quarter_end, after = by_month["2020-06"], by_month["2020-07"]
    assert quarter_end > after  # deposits peak at the quarter end
    small = br.generate(tmp_path, scale=SMALL, seed=SEED, months=["2020-12"])
    assert near(yuan(rows(small, "bank_deposits"), "存款余额(元)") / Decimal(str(SMALL)), "595658000000", 0.01)
    # every reporting bank reports every category, at every scale
    assert Counter(r["金融机构代码"] for r in rows(small, "bank_deposits")) == {
        b.code: len(br.DEPOSIT_CATEGORIES) for b in world.BANKS}


def test_29_green_bonds_in_2020(city: list[Path], tmp_path: Path) -> None:
    bonds = rows(city, "bank_green_bonds")
    assert sum(b["发行日期"].startswith("2020") for b in bonds) == 29
    assert len(files(city, "bank_green_bonds")) == 24  # a file for every month, with or without issues
    small = br.generate(tmp_path, scale=0.1, seed=SEED, months=[f"2020-{m:02d}" for m in range(1, 13)])
    assert len(rows(small, "bank_green_bonds")) == world.count(29, 0.1)
    empty = [p for p in files(small, "bank_green_bonds") if not read(p)]
    assert empty and all(len(p.read_bytes().decode("gb18030").splitlines()) == 1 for p in empty)


def test_premiums_127_7_yi_in_2020_and_green_growth(city: list[Path], tmp_path: Path) -> None:
    premiums = rows(city, "bank_insurance_premiums")
    in_2020 = [r for r in premiums if r["报告期"].startswith("2020")]
    assert near(yuan(in_2020, "当月保费收入(元)"), "12770000000", 0.01)
    # the year-to-date figure of a product's last report in the year adds up its months
    by_product: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
    for r in in_2020:
        by_product[(r["保险机构代码"], r["险类"], r["险种"])].append(r)
    for reports in by_product.values():
        last = max(reports, key=lambda r: r["报告期"])
        assert Decimal(last["本年累计保费收入(元)"]) == yuan(reports, "当月保费收入(元)")
    green = defaultdict(Decimal)
    for r in premiums:
        if r["是否绿色保险"] == "是":
            green[r["报告期"][:4]] += Decimal(r["当月保费收入(元)"])
    assert near(green["2020"] / green["2019"], "1.045", 0.001)
    # the 2025 target, from the year's allocation directly (it needs no files)
    by_year = {y: sum(Decimal(r[8]) for month in br._premium_year(y, 1.0, SEED).values() for r in month
                      if r[6] == "是") for y in (2024, 2025)}  # fmt: skip
    assert near(by_year[2025] / by_year[2024], "1.10", 0.001)
    small = br.generate(tmp_path, scale=SMALL, seed=SEED, months=["2020-12"])
    ytd = yuan(rows(small, "bank_insurance_premiums"), "本年累计保费收入(元)")
    assert near(ytd / Decimal(str(SMALL)), "12770000000", 0.01)


def test_registry_counts_of_the_plan(city: list[Path]) -> None:
    registry = rows(city, "bank_institutions")
    assert {r["数据日期"] for r in registry} == {"2020-12-31"}
    operating = [r for r in registry if r["经营状态"] == "正常营业"]
    assert len(operating) == 128
    assert sum(r["是否绿色专营机构"] == "是" for r in operating) == 41

    def operating_on(day: str) -> int:
        return sum(r["开业日期"] <= day and (not r["终止日期"] or r["终止日期"] > day) for r in registry)

    assert operating_on("2015-12-31") == 93
    assert operating_on("2020-12-31") == 128
    kinds = Counter(r["机构类型"] for r in operating)
    assert set(kinds) <= set(br.KINDS) and kinds["银行"] >= 12 and kinds["保险"] > 0 and kinds["证券"] > 0


# --- realism and one data, one source ---------------------------------------------------------------------
def test_identifiers_agree_across_the_reports(city: list[Path]) -> None:
    registry = {r["机构代码"]: r for r in rows(city, "bank_institutions")}
    assert all(CODE.fullmatch(code) for code in registry)
    assert all(codes.uscc_is_valid(r["统一社会信用代码"]) for r in registry.values())
    for bank in world.BANKS:  # the reporting banks, with their codes and names
        assert registry[bank.code]["机构名称"] == bank.name
        assert registry[bank.code]["统一社会信用代码"] == br.bank_uscc(bank)
    for r in rows(city, "bank_deposits"):
        assert registry[r["金融机构代码"]]["机构名称"] == r["金融机构名称"]
    for r in rows(city, "bank_insurance_premiums"):
        insurer = registry[r["保险机构代码"]]
        assert (insurer["机构名称"], insurer["机构细类"]) == (r["保险机构名称"], r["公司类型"])
    firms = {f.uscc: f for f in world.enterprises(1.0, SEED)}
    bank_usccs = {br.bank_uscc(b): b for b in world.BANKS}
    for b in rows(city, "bank_green_bonds"):
        issued = dt.date.fromisoformat(b["发行日期"])
        assert registry[b["主承销商机构代码"]]["机构名称"] == b["主承销商名称"]
        assert registry[b["主承销商机构代码"]]["开业日期"] <= b["发行日期"]
        if b["发行人类型"] == "金融机构":
            assert b["债券类型"] == "绿色金融债" and bank_usccs[b["发行人统一社会信用代码"]].name == b["发行人名称"]
        else:
            firm = firms[b["发行人统一社会信用代码"]]
            assert firm.name == b["发行人名称"] and firm.active_on(issued)
        assert dt.date.fromisoformat(b["到期日期"]) > issued and issued.weekday() < 5
        assert re.fullmatch(r"[0-9]{6,9}\.(IB|SH|SZ)", b["债券代码"])
        version = "GBEPC2021" if issued >= dt.date(2021, 7, 1) else "GBEPC2015"
        catalogue = br.GBEPC2021 if version == "GBEPC2021" else br.GBEPC2015
        assert b["绿色分类标准版本"] == version and catalogue[b["绿色项目类别代码"]] == b["绿色项目类别名称"]
    assert len({b["债券代码"] for b in rows(city, "bank_green_bonds")}) == len(rows(city, "bank_green_bonds"))


def test_green_flags_and_lines_are_consistent(city: list[Path]) -> None:
    for r in rows(city, "bank_insurance_premiums"):
        assert (r["是否绿色保险"] == "是") == (r["绿色保险类别"] != "")
        assert r["险类"] in br.LINES and (not r["绿色保险类别"] or r["绿色保险类别"] in br.GREEN_CATEGORIES)
        assert Decimal(r["本年累计保费收入(元)"]) >= Decimal(r["当月保费收入(元)"]) >= 0
    for r in rows(city, "bank_institutions"):
        assert r["机构细类"] in br.SUBTYPES[r["机构类型"]]
        assert (r["是否绿色专营机构"] == "是") == (r["绿色专营机构认定日期"] != "")
        assert (r["法人或分支"] == "分支机构") == (r["上级机构名称"] != "")
        assert r["区县代码"] in codes.DISTRICTS


# --- loading -------------------------------------------------------------------------------------------------
def load_all(settings: Settings, months: list[str]) -> dict[str, list]:
    results = defaultdict(list)
    for name in br.DATASETS:
        c = contract(name)
        for key in ([None] if c.granularity == "snapshot" else months):
            results[name].append(load_partition(c, key, settings, **QUIET))
    return results


def test_every_file_loads_clean_and_reconciles(lake: Settings) -> None:
    # two months with a green bond at this scale: one under each catalogue (2015, then 2021 from 2021-07)
    issues = [r[0] for year in (2020, 2021, 2022) for r in br.bond_year(year, SMALL, SEED)]
    months = [issues[0], next(month for month in issues if month >= "2021-07")]
    paths = br.generate(lake.landing, scale=SMALL, seed=SEED, months=months)
    delivered = {name: sum(len(read(p)) for p in files(paths, name)) for name in br.DATASETS}
    assert delivered["bank_green_bonds"] >= 2
    results = load_all(lake, months)
    for name, loads in results.items():
        for result in loads:
            assert not result.rejected, (name, [f.rejected for f in result.rejected])
            assert result.rows_quarantined == 0, (name, result.partition_key)
            assert result.rows_read == result.rows_loaded + result.rows_quarantined
        assert sum(r.rows_read for r in loads) == delivered[name]
        assert sum(len(r.files) for r in loads) == len(files(paths, name))  # header-only files are logged too
    with reader(lake) as con:
        for name in br.DATASETS:
            table = contract(name).raw_table
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == delivered[name]
            quarantined = con.execute(f"SELECT count(*) FROM {contract(name).quarantine_table}").fetchone()[0]
            assert quarantined == 0, name  # not even a warning


EXPECTED_RULES = {
    "bank_deposits": {"type:DECIMAL(18,2)", "primaryKey", "validValues", "minimum"},
    "bank_green_bonds": {"type:DATE", "primaryKey", "validValues", "minimum"},
    "bank_insurance_premiums": {"type:DECIMAL(18,2)", "primaryKey", "validValues", "minimum"},
    "bank_institutions": {"type:DATE", "primaryKey", "validValues", "minimum"},
}


@pytest.mark.parametrize("name", br.DATASETS)
def test_injected_defects_are_quarantined_by_rule(lake: Settings, name: str) -> None:
    # one month: for bonds, the month of 2024 with the most issues at scale 1; for the rest, small
    scale, months = SMALL, ["2020-12"]
    if name == "bank_green_bonds":
        scale, months = 1.0, [Counter(r[0] for r in br.bond_year(2024, 1.0, SEED)).most_common(1)[0][0]]
    paths = files(br.generate(lake.landing, scale=scale, seed=SEED, months=months), name)
    changed: set[tuple[str, int]] = set()
    injected = 0
    for path in paths:
        before = read(path)
        injected += br.inject_defects(path, 0.8, seed=3)
        after = read(path)
        assert len(after) == len(before)
        for i, (old, new) in enumerate(zip(before, after, strict=True), 1):
            if old != new:
                changed.add((path.name, i))
                if i > 1 and new == after[i - 2]:  # a duplicate: the row it repeats is quarantined too
                    changed.add((path.name, i - 1))
    assert injected >= 4
    c = contract(name)
    results = [load_partition(c, key, lake, **QUIET)
               for key in ([None] if c.granularity == "snapshot" else months)]  # fmt: skip
    assert not any(r.rejected for r in results)
    assert all(r.rows_read == r.rows_loaded + r.rows_quarantined for r in results)
    with reader(lake) as con:
        quarantined = con.execute(
            f"SELECT source_file, source_row, rule FROM {c.quarantine_table} WHERE severity = 'error'").fetchall()
    rules = {rule for _, _, rule in quarantined}
    assert EXPECTED_RULES[name] <= rules, rules
    rows_out = {(Path(file).name, row) for file, row, _ in quarantined}
    assert rows_out == changed
    assert sum(r.rows_quarantined for r in results) == len(changed)
