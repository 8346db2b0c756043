"""Demo public reference data: code lists, taxonomies, factors and the plan's indicators, as offices publish them.

Government open data arrives as CSV (UTF-8 with a byte-order mark, or GB18030) and as XLSX with a report
title above the header row. Six snapshot datasets land under ``landing/<dataset>/``:

=================================== ====== ========= ==================================================
dataset                             format encoding  content
=================================== ====== ========= ==================================================
public_divisions                    csv    utf-8 BOM GB/T 2260 divisions: Zhejiang, Huzhou, its 5 districts
public_industry_codes               xlsx             GB/T 4754-2017, sections to classes (1,772 rows)
public_green_taxonomy               csv    gb18030   GICG2019 / GBEPC2021 / GFEPC2025 items, by effective date
public_grid_emission_factors        csv    utf-8 BOM grid CO2 factors 2019-2025, national and East China
public_carbon_intensity_benchmarks  xlsx             碳效码 industry averages, industrial classes, 2019-2025
public_plan_indicators              csv    utf-8 BOM the plan's two indicator tables, parsed from its text
=================================== ====== ========= ==================================================

Reference data is published once for everybody: it does not shrink with ``scale`` and does not change with
``seed`` (the same code list in every demo world); ``months`` only decides whether anything is written.
What is published fact and what is a demo assumption is said next to each value (and in the contracts).
"""

from __future__ import annotations

import csv
import io
import math
import os
import random
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from pipelines.demo import codes, plan_indicators
from pipelines.demo.files import read_csv

# --- administrative divisions (GB/T 2260) ----------------------------------------------------------------
# Only codes we are sure of [C, domain-methods.md]: the province, the city and its five districts/counties.
# 南太湖新区 (a functional zone) has no division code of its own and is not listed.
DIVISIONS = (
    ("330000", "浙江省", "省", ""),
    ("330500", "湖州市", "市", "330000"),
    *((code, name, name[-1], "330500") for code, name in codes.DISTRICTS.items()),
)
DIVISIONS_HEADER = ("区划代码", "区划名称", "级别", "上级区划代码")

# --- industries (GB/T 4754-2017) --------------------------------------------------------------------------
INDUSTRY_SHEET = "国民经济行业分类"
INDUSTRY_TITLE = "国民经济行业分类（GB/T 4754—2017）代码表"
INDUSTRY_HEADER = ("代码", "类别名称", "层级", "门类", "大类", "中类", "小类")
LEVELS = {"1": "门类", "2": "大类", "3": "中类", "4": "小类"}

# --- green taxonomies -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaxonomyVersion:
    code: str
    title: str
    effective_from: str
    effective_to: str  # last day in force; empty while in force


# Effective dates: GBEPC2021 from 2021-07-01 and GFEPC2025 from 2025-10-01 [C, domain-methods.md]; the 2019
# catalogue was issued 2019-02-14 (发改环资〔2019〕293号) [S]. That each version ends the day before the next
# begins is the demo's convention for classifying credit (bank_loans switches on 2021-07-01) [U].
TAXONOMY_VERSIONS = {
    v.code: v for v in (
        TaxonomyVersion("GICG2019", "绿色产业指导目录（2019年版）", "2019-02-14", "2021-06-30"),
        TaxonomyVersion("GBEPC2021", "绿色债券支持项目目录（2021年版）", "2021-07-01", "2025-09-30"),
        TaxonomyVersion("GFEPC2025", "绿色金融支持项目目录（2025年版）", "2025-10-01", ""),
    )
}
TAXONOMY_HEADER = ("版本代码", "目录名称", "分类代码", "分类名称", "层级", "上级代码", "对应2019版目录代码",
                   "生效日期", "失效日期")  # fmt: skip

# --- grid emission factors (configurable: data/grid_emission_factors.csv) ----------------------------------
FACTORS_HEADER = ("年份", "区域", "电网排放因子(tCO2/MWh)", "来源及可信度")

# --- carbon intensity benchmarks (碳效码 industry averages) -------------------------------------------------
BENCHMARK_SHEET = "行业碳效基准"
BENCHMARK_TITLE = "工业企业碳效评价行业平均碳排放强度（吨CO2/万元工业增加值，演示数据）"
BENCHMARK_HEADER = ("年份", "行业代码", "行业名称", "行业平均碳排放强度(吨CO2/万元)")
BENCHMARK_YEARS = range(2019, 2026)
# Energy-related CO2 per 10,000 yuan of value added, by GB/T 4754 division, 2019. A demo assumption [U] of
# national magnitudes (power ~18, iron and steel ~6.5, cement and glass ~3, chemicals ~2, textiles ~0.9,
# machinery and electronics 0.1-0.2), not a published table. Each class varies around its division's value
# (log-normal, sigma 0.25, fixed per class) and every class falls 4% a year, about the pace of China's
# 14th-plan target of -18% carbon intensity over five years.
DIVISION_INTENSITY_2019 = {
    "06": 1.2, "07": 0.9, "08": 1.0, "09": 0.8, "10": 0.9, "11": 0.5, "12": 0.6,
    "13": 0.45, "14": 0.4, "15": 0.35, "16": 0.05, "17": 0.9, "18": 0.2, "19": 0.25, "20": 0.6, "21": 0.2,
    "22": 1.6, "23": 0.25, "24": 0.15, "25": 3.5, "26": 2.2, "27": 0.35, "28": 1.3, "29": 0.45, "30": 3.0,
    "31": 6.5, "32": 2.5, "33": 0.45, "34": 0.2, "35": 0.18, "36": 0.15, "37": 0.18, "38": 0.15, "39": 0.12,
    "40": 0.1, "41": 0.3, "42": 0.7, "43": 0.2,
    "44": 18.0, "45": 0.8, "46": 0.7,
}  # fmt: skip
BENCHMARK_SECTIONS = ("B", "C", "D")  # the carbon-efficiency code rates industrial enterprises
ANNUAL_DECLINE = 0.04

# --- the plan's indicator tables ----------------------------------------------------------------------------
PLAN_HEADER = ("规划期", "表名", "序号", "指标名称", "单位", "2015年", "2015年数值日期", "2020年", "年均增速(%)",
               "年均增减(百分点)", "2025年目标", "目标限定", "注释", "原文行号", "原文")  # fmt: skip

# dataset -> (file under landing/, encoding for csv)
FILES = {
    "public_divisions": ("public_divisions/huzhou_divisions.csv", "utf-8-sig"),
    "public_industry_codes": ("public_industry_codes/gbt4754_2017.xlsx", None),
    "public_green_taxonomy": ("public_green_taxonomy/green_taxonomies.csv", "gb18030"),
    "public_grid_emission_factors": ("public_grid_emission_factors/grid_emission_factors.csv", "utf-8-sig"),
    "public_carbon_intensity_benchmarks": ("public_carbon_intensity_benchmarks/carbon_benchmarks.xlsx", None),
    "public_plan_indicators": ("public_plan_indicators/plan_indicators.csv", "utf-8-sig"),
}
XLSX_SHEETS = {"public_industry_codes": (INDUSTRY_SHEET, INDUSTRY_TITLE),
               "public_carbon_intensity_benchmarks": (BENCHMARK_SHEET, BENCHMARK_TITLE)}
FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # zip entry times and document properties of the XLSX files


def _data(name: str) -> str:
    return resources.files(__package__).joinpath(f"data/{name}").read_text(encoding="utf-8")


def _fixed4(value: int) -> str:  # value in 1/10000 units
    return f"{value // 10000}.{value % 10000:04d}"


# --- rows of each dataset ----------------------------------------------------------------------------------
def division_rows() -> list[tuple[str, ...]]:
    return [tuple(row) for row in DIVISIONS]


# data/gbt4754_2017_industries.csv is an exact copy of the shared reference list, which prints class 3741 飞机制造
# as a second group 374 (so the code 374 would appear twice); the standard has 374 航空、航天器及设备制造 with the
# classes 3741 飞机制造, 3742, 3743, 3744 and 3749. Corrected here, on the way out.
INDUSTRY_CORRECTIONS = {("3", "374", "飞机制造"): {"level": "4", "class": "3741"}}


@cache
def _industries() -> tuple[dict[str, str], ...]:
    rows = []
    for row in csv.DictReader(_data("gbt4754_2017_industries.csv").splitlines()):
        fix = INDUSTRY_CORRECTIONS.get((row["level"], row["group"], row["name"].strip()))
        rows.append({**row, **fix} if fix else row)
    return tuple(rows)


def industry_rows() -> list[tuple[str, ...]]:
    """One row per code as the standard prints it; a group with a single class is printed on the class's row
    (its 中类 and 小类 both filled), as the standard does, so 274 of the groups have a row of their own."""
    rows = []
    for r in _industries():
        own = r["class"] or r["group"] or r["division"] or r["section"]
        rows.append((own, r["name"].strip(), LEVELS[r["level"]], r["section"], r["division"], r["group"],
                     r["class"]))
    return rows


def taxonomy_rows() -> list[tuple[str, ...]]:
    rows = []
    for r in csv.DictReader(_data("green_taxonomy.csv").splitlines()):
        version = TAXONOMY_VERSIONS[r["version"]]
        code = r["code"]
        parent = code.rsplit(".", 1)[0] if "." in code else ""
        rows.append((version.code, version.title, code, r["name"], str(code.count(".") + 1), parent,
                     r["gicg2019_code"], version.effective_from, version.effective_to))
    return rows


def factor_rows() -> list[tuple[str, ...]]:
    reader = csv.reader(_data("grid_emission_factors.csv").splitlines())
    if tuple(next(reader)) != FACTORS_HEADER:
        raise ValueError("data/grid_emission_factors.csv: unexpected header")
    return [tuple(row) for row in reader]


def _class_factor(class_code: str) -> float:
    """A class's intensity relative to its division: fixed per class, the same in every demo world."""
    rng = random.Random(f"carbon_benchmark:{class_code}")
    return min(max(rng.lognormvariate(0.0, 0.25), 0.5), 2.0)


def carbon_intensity_benchmark(industry_code: str, year: int) -> str | None:
    """The industry average (t CO2 per 10,000 yuan value added, 4 decimals) of a class such as ``C3011`` in
    ``year``; ``None`` outside the industrial sections. For the generators of enterprise carbon data."""
    section, class_code = industry_code[:1], industry_code[1:]
    if section not in BENCHMARK_SECTIONS or class_code[:2] not in DIVISION_INTENSITY_2019:
        return None
    value = DIVISION_INTENSITY_2019[class_code[:2]] * _class_factor(class_code)
    value *= (1 - ANNUAL_DECLINE) ** (year - BENCHMARK_YEARS[0])
    return _fixed4(max(1, math.floor(value * 10_000 + 0.5)))


def benchmark_rows() -> list[tuple[str | int, ...]]:
    classes = [(r["section"] + r["class"], r["name"].strip()) for r in _industries()
               if r["level"] == "4" and r["section"] in BENCHMARK_SECTIONS]
    return [(year, code, name, carbon_intensity_benchmark(code, year))
            for year in BENCHMARK_YEARS for code, name in classes]


def plan_rows() -> list[tuple[str, ...]]:
    def s(value: object) -> str:
        return "" if value is None else str(value)

    return [(i.plan_period, i.table_title, str(i.seq), i.name, i.unit, s(i.value_2015), s(i.value_2015_as_of),
             s(i.value_2020), s(i.stated_avg_growth_pct), s(i.stated_avg_change_pts), s(i.value_2025_target),
             s(i.target_qualifier), s(i.footnote), str(i.source_line), i.source_text)
            for i in plan_indicators.extract()]


DATASETS: dict[str, tuple[tuple[str, ...], Callable[[], list]]] = {
    "public_divisions": (DIVISIONS_HEADER, division_rows),
    "public_industry_codes": (INDUSTRY_HEADER, industry_rows),
    "public_green_taxonomy": (TAXONOMY_HEADER, taxonomy_rows),
    "public_grid_emission_factors": (FACTORS_HEADER, factor_rows),
    "public_carbon_intensity_benchmarks": (BENCHMARK_HEADER, benchmark_rows),
    "public_plan_indicators": (PLAN_HEADER, plan_rows),
}


# --- writing ------------------------------------------------------------------------------------------------
def _replace(path: Path, data: bytes) -> None:
    """Write through a temporary name, so a file-drop sensor never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], encoding: str) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")  # as Excel and most portals export
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def _deterministic_zip(data: bytes) -> bytes:
    """openpyxl stamps the save time into the document properties and the zip entries: pin both."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                                 rb"\g<1>2020-01-01T00:00:00Z\2", content)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, content)
    return out.getvalue()


def xlsx_bytes(sheet: str, title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """One sheet: the report title in row 1 (merged across the columns), the header in row 2, then rows.
    Codes are text cells (leading zeros kept); years and measures are number cells, as offices publish."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.append(list(header))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
    ws.freeze_panes = "A3"
    buffer = io.BytesIO()
    wb.properties.creator = "lakehouse demo"
    wb.save(buffer)
    return _deterministic_zip(buffer.getvalue())


def _xlsx_value(value: object) -> object:
    """Numbers as number cells (the measure as an exact decimal string becomes a float only in the cell)."""
    if isinstance(value, str) and re.fullmatch(r"-?\d+\.\d+", value):
        return float(value)
    return value


def dataset_bytes(dataset: str, rows: list | None = None) -> bytes:
    header, make_rows = DATASETS[dataset]
    rows = make_rows() if rows is None else rows
    name, encoding = FILES[dataset]
    if name.endswith(".xlsx"):
        sheet, title = XLSX_SHEETS[dataset]
        return xlsx_bytes(sheet, title, header, ([_xlsx_value(v) for v in row] for row in rows))
    return csv_bytes(header, rows, encoding)


def generate(landing: Path, *, scale: float, seed: int, months: Sequence[str],
             on_file: Callable[[Path, int], None] | None = None) -> list[Path]:
    """Write every public reference dataset under ``landing``; return the paths. ``scale`` and ``seed`` do
    not change reference data (see the module docstring); nothing is written for no months."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if not months:
        return []
    paths = []
    for dataset in FILES:
        rows = DATASETS[dataset][1]()
        path = write_dataset(landing, dataset, dataset_bytes(dataset, rows))
        paths.append(path)
        if on_file:
            on_file(path, len(rows))
    return sorted(paths)


def write_dataset(landing: Path, dataset: str, data: bytes | None = None) -> Path:
    """Deliver one dataset's file (``data``: its bytes, if already made) under ``landing``; return its path."""
    path = Path(landing) / FILES[dataset][0]
    _replace(path, dataset_bytes(dataset) if data is None else data)
    return path


# --- defects, for exercising validation and quarantine ------------------------------------------------------
# Per dataset: the defects a row may get, each named after the contract rule that catches it.
DEFECTS = {
    "public_divisions": ("bad_code_pattern", "unknown_level", "wrong_parent"),
    "public_industry_codes": ("bad_code_pattern", "unknown_level", "broken_hierarchy"),
    "public_green_taxonomy": ("unknown_version", "bad_effective_date", "wrong_parent"),
    "public_grid_emission_factors": ("factor_in_kg_per_mwh", "no_confidence_marker", "duplicate_year_region"),
    "public_carbon_intensity_benchmarks": ("negative_intensity", "too_many_decimals", "bad_industry_code"),
    "public_plan_indicators": ("unknown_unit", "growth_not_a_number", "qualifier_without_target"),
}


def dataset_of(path: Path) -> str:
    for dataset, (name, _) in FILES.items():
        if Path(path).parent.name == Path(name).parent.name:
            return dataset
    raise ValueError(f"{path} is not a public reference file")


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a delivered file, every value as a string."""
    dataset = dataset_of(path)
    _, encoding = FILES[dataset]
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True)
        cells = wb.active.iter_rows(min_row=2, values_only=True)
        values = [["" if v is None else str(v) for v in row] for row in cells]
        wb.close()
        return values[0], values[1:]
    return read_csv(path, encoding)


def write_rows(path: Path, header: Sequence[str], rows: list[list[str]]) -> None:
    dataset = dataset_of(path)
    if path.suffix == ".xlsx":
        sheet, title = XLSX_SHEETS[dataset]
        data = xlsx_bytes(sheet, title, header, ([_xlsx_value(v) for v in row] for row in rows))
    else:
        data = csv_bytes(header, rows, FILES[dataset][1])
    _replace(path, data)


def _apply(dataset: str, defect: str, rows: list[list[str]], i: int, col: dict[str, int]) -> None:
    row = rows[i]
    if dataset == "public_divisions":
        if defect == "bad_code_pattern":
            row[col["区划代码"]] = row[col["区划代码"]][:4] + "X" + row[col["区划代码"]][5:]
        elif defect == "unknown_level":
            row[col["级别"]] = "乡"
        else:
            row[col["上级区划代码"]] = "330100"
    elif dataset == "public_industry_codes":
        if defect == "bad_code_pattern":
            row[col["代码"]] = row[col["代码"]] + "Z"
        elif defect == "unknown_level":
            row[col["层级"]] = "细类"
        elif row[col["大类"]]:  # a division that is not the code's own
            row[col["大类"]] = "99"
        else:  # a section row naming another section
            row[col["门类"]] = "A" if row[col["门类"]] != "A" else "B"
    elif dataset == "public_green_taxonomy":
        if defect == "unknown_version":
            row[col["版本代码"]] = "GICG2015"
        elif defect == "bad_effective_date":
            row[col["生效日期"]] = row[col["生效日期"]][:5] + "02-30"
        else:
            row[col["上级代码"]] = "9.9"
    elif dataset == "public_grid_emission_factors":
        if defect == "factor_in_kg_per_mwh":
            row[col["电网排放因子(tCO2/MWh)"]] = str(int(row[col["电网排放因子(tCO2/MWh)"]].replace(".", "")) / 10)
        elif defect == "no_confidence_marker":
            row[col["来源及可信度"]] = re.sub(r"^\[[CSU]\]\s*", "", row[col["来源及可信度"]])
        else:
            row[col["年份"]], row[col["区域"]] = rows[i - 1][col["年份"]], rows[i - 1][col["区域"]]
    elif dataset == "public_carbon_intensity_benchmarks":
        name = "行业平均碳排放强度(吨CO2/万元)"
        if defect == "negative_intensity":
            row[col[name]] = "-" + row[col[name]]
        elif defect == "too_many_decimals":  # an unrounded figure pasted in
            row[col[name]] = row[col[name]] + ("00001" if "." in row[col[name]] else ".00001")
        else:
            row[col["行业代码"]] = row[col["行业代码"]][1:]
    elif dataset == "public_plan_indicators":
        if defect == "unknown_unit":
            row[col["单位"]] = "亿美元"
        elif defect == "growth_not_a_number":
            row[col["年均增速(%)"]] = "约13%"
        else:
            row[col["2025年目标"]], row[col["目标限定"]] = "", "以上"


def planned_defects(path: Path, n_rows: int, rate: float, seed: int) -> list[tuple[int, str]]:
    """(0-based data row, defect) that ``inject_defects`` gives a file of ``n_rows`` rows: about ``rate`` of
    them, never the first (a duplicate repeats the row before it), the defects of the dataset in turn."""
    defects = DEFECTS[dataset_of(path)]
    rng = random.Random(f"defects:{seed}:{Path(path).parent.name}/{Path(path).name}")
    candidates = range(1, n_rows)
    chosen = sorted(rng.sample(candidates, min(len(candidates), max(1, round(rate * n_rows)))))
    return [(i, defects[n % len(defects)]) for n, i in enumerate(chosen)]


def inject_defects(path: Path, rate: float, seed: int) -> int:
    """Give about ``rate`` of the file's rows one defect each (see DEFECTS, in turn); return how many."""
    path = Path(path)
    dataset = dataset_of(path)
    header, rows = read_rows(path)
    col = {name: i for i, name in enumerate(header)}
    planned = planned_defects(path, len(rows), rate, seed)
    for i, defect in planned:
        _apply(dataset, defect, rows, i, col)
    write_rows(path, header, rows)
    return len(planned)


# File-level defects: a whole delivery that cannot be read.
def reencode(path: Path, encoding: str) -> None:
    """Re-deliver a CSV in another encoding (a portal exporting GB18030 where UTF-8 is promised)."""
    dataset = dataset_of(path)
    text = Path(path).read_bytes().decode(FILES[dataset][1])
    _replace(Path(path), text.encode(encoding))


def drop_column(path: Path, column: str) -> None:
    """Re-deliver the file without one of its columns."""
    header, rows = read_rows(Path(path))
    keep = [i for i, name in enumerate(header) if name != column]
    if len(keep) == len(header):
        raise ValueError(f"{path} has no column {column!r}")
    write_rows(Path(path), [header[i] for i in keep], [[row[i] for i in keep] for row in rows])
