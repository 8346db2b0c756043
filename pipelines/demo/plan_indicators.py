"""Extract the indicator tables of Huzhou's green-finance plan (2021-2025) from the plan's text.

The plan (湖州市绿色金融发展“十四五”规划, copied to ``data/``) prints two tables: the 13th five-year plan's
main indicators (“十三五”期间绿色金融发展主要指标: 2015, 2020, average annual growth) and the 14th's expected
indicators (“十四五”期间绿色金融发展主要预期指标: 2020, 2025 target). The text is a PDF extraction, so the
parser cannot trust the layout:

- a row may be split over several lines: the number alone, the name, its unit in parentheses, then the
  values (``3`` / ``金融机构本外币各项存款余额`` / ``（亿元）`` / ``3089.7 5956.58 21.15%``), and a unit
  itself may be cut in two (``（万`` / ``亿元）``);
- a page number interrupts a table (a bare ``6`` between rows 14 and 15): a bare number that is not the
  row expected next is skipped;
- footnote markers ``[1]`` follow a name or a value and are defined below the rows (``[1] 〔 〕为年均增减。``);
- values are ``-`` (none), a percentage ``13.63%``, an average annual change in points ``〔0.23〕``, or a
  target with a qualifier ``8以上`` / ``1以下``.

Rows are recognised by their sequence number and completed by their value count (taken from the table's
own header), never by line positions, so the parser reads a re-wrapped text just as well. Every value is
kept as the decimal string the plan prints; nothing is converted to float.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from importlib import resources

PLAN_FILE = "data/huzhou-green-finance-plan-2021-2025.txt"
# (plan period, the table's title as printed); the tables are found by their titles.
TABLES = (
    ("十三五", "“十三五”期间绿色金融发展主要指标"),
    ("十四五", "“十四五”期间绿色金融发展主要预期指标"),
)
UNITS = ("万亿元", "亿元", "%", "家", "单", "个")
QUALIFIERS = ("以上", "以下", "左右")
FOOTNOTE_DEF = re.compile(r"^\[(\d+)\]\s*(.+)$")
FOOTNOTE_MARK = re.compile(r"\[(\d+)\]")
# One printed value: none, a change in points, or a number (percent or with a target qualifier), each
# optionally followed by footnote markers.
VALUE = re.compile(r"^(?:-|〔-?\d+(?:\.\d+)?〕|-?\d+(?:\.\d+)?%?(?:以上|以下|左右)?)(?:\[\d+\])*$")
UNIT_AT_END = re.compile(r"[（(]([^（()）]+)[）)]$")
# A date a footnote gives for a value (该数据为 2018年 1月 1日统计数据).
FOOTNOTE_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"


class PlanParseError(ValueError):
    pass


@dataclass
class Indicator:
    """One row of an indicator table, values as printed (decimal strings, ``None`` for ``-``)."""

    plan_period: str  # 十三五 / 十四五
    table_title: str
    seq: int
    name: str  # without its unit, e.g. 金融业增加值占GDP比重
    unit: str
    value_2015: str | None = None
    value_2015_as_of: str | None = None  # the date the 2015 value describes: year end, or a footnote's date
    value_2020: str | None = None
    stated_avg_growth_pct: str | None = None
    stated_avg_change_pts: str | None = None  # 〔x〕: average annual change in percentage points
    value_2025_target: str | None = None
    target_qualifier: str | None = None
    footnote: str | None = None
    source_line: int = 0  # line of the plan text where the row starts (1-based)
    source_text: str = ""  # the row as extracted, its lines joined with " / "
    footnote_marks: dict[str, list[str]] = field(default_factory=dict, repr=False)  # field -> markers


def squeeze(text: str) -> str:
    """Drop the spaces a PDF extraction puts between Chinese and Latin text (金融业增加值占 GDP比重)."""
    text = re.sub(rf"(?<={_CJK})\s+|\s+(?={_CJK})", "", text.strip())
    return re.sub(r"\s+", " ", text)


def plan_text() -> str:
    return resources.files(__package__).joinpath(PLAN_FILE).read_text(encoding="utf-8")


def _find_title(lines: list[str], title: str) -> int:
    for i, line in enumerate(lines):
        if squeeze(line) == title:
            return i
    raise PlanParseError(f"table title {title!r} not found in the plan text")


def _columns(header: str) -> tuple[list[str], bool]:
    """The years of the value columns and whether an average-growth column follows, from the header."""
    header = squeeze(header)
    if not header.startswith("序号") or "指标名称" not in header:
        raise PlanParseError(f"not a table header: {header!r}")
    years = re.findall(r"(\d{4})年", header)
    if not years:
        raise PlanParseError(f"no year columns in the header {header!r}")
    return years, header.endswith("年均增速")


def _value_suffix(tokens: list[str]) -> int:
    """How many of the trailing tokens are printed values."""
    n = 0
    while n < len(tokens) and VALUE.match(tokens[len(tokens) - 1 - n]):
        n += 1
    return n


@dataclass
class _Row:
    seq: int
    line: int
    name_parts: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


def _rows(lines: list[str], start: int, n_values: int) -> tuple[list[_Row], dict[str, str]]:
    """The rows after the header at ``start`` and the footnotes defined among them."""
    rows: list[_Row] = []
    footnotes: dict[str, str] = {}
    row: _Row | None = None
    for number, raw in enumerate(lines[start + 1:], start + 2):
        line = raw.strip()
        if not line:
            continue
        expected = rows[-1].seq + 1 if rows else 1
        complete = row is None or len(row.values) == n_values
        head = re.match(r"^(\d+)(?:\s+(.*))?$", line)
        if complete and head and int(head.group(1)) == expected:
            row = _Row(expected, number)
            rows.append(row)
            line = (head.group(2) or "").strip()
            row.text.append(raw.strip())
            if not line:
                continue
        elif complete and FOOTNOTE_DEF.match(line):
            mark, text = FOOTNOTE_DEF.match(line).groups()
            footnotes[mark] = squeeze(text)
            continue
        elif complete and re.fullmatch(r"\d+", line):
            continue  # a page number
        elif complete:
            break  # the text after the table
        elif row is not None and not row.name_parts and not row.values and head and int(head.group(1)) == row.seq:
            # what looked like the row's number alone was a page number equal to it
            row.line, row.text = number, []
            line = (head.group(2) or "").strip()
            row.text.append(raw.strip())
            if not line:
                continue
        else:
            row.text.append(raw.strip())
        tokens = line.split()
        n = min(_value_suffix(tokens), n_values - len(row.values))
        if n < len(tokens):
            if row.values:
                raise PlanParseError(f"line {number}: text after the values of row {row.seq}: {raw.strip()!r}")
            row.name_parts.append(" ".join(tokens[:len(tokens) - n]))
        row.values.extend(tokens[len(tokens) - n:])
    if row is not None and len(row.values) != n_values:
        raise PlanParseError(f"row {row.seq} ends with {len(row.values)} values, expected {n_values}")
    return rows, footnotes


def _split_marks(token: str) -> tuple[str, list[str]]:
    return FOOTNOTE_MARK.sub("", token), FOOTNOTE_MARK.findall(token)


def _number(token: str) -> str | None:
    return None if token == "-" else token


def _indicator(period: str, title: str, years: list[str], growth: bool, row: _Row,
               footnotes: dict[str, str]) -> Indicator:
    name, name_marks = _split_marks(squeeze("".join(row.name_parts)))
    unit_match = UNIT_AT_END.search(name)
    if not unit_match:
        raise PlanParseError(f"line {row.line}: indicator {name!r} has no unit in parentheses")
    unit = unit_match.group(1)
    if unit not in UNITS:
        raise PlanParseError(f"line {row.line}: unknown unit {unit!r} of {name!r}")
    ind = Indicator(period, title, row.seq, name[:unit_match.start()], unit, source_line=row.line,
                    source_text=" / ".join(row.text))
    if name_marks:
        ind.footnote_marks["name"] = name_marks
    for i, token in enumerate(row.values):
        value, marks = _split_marks(token)
        if i < len(years):
            column = f"value_{years[i]}" if years[i] != "2025" else "value_2025_target"
            qualifier = next((q for q in QUALIFIERS if value.endswith(q)), None)
            if qualifier:
                if column != "value_2025_target":
                    raise PlanParseError(f"line {row.line}: qualifier {qualifier} on an actual value {token!r}")
                value, ind.target_qualifier = value[:-len(qualifier)], qualifier
            if value.endswith("%"):
                raise PlanParseError(f"line {row.line}: percent sign on a value column: {token!r}")
        elif growth:
            if value.startswith("〔"):
                column, value = "stated_avg_change_pts", value.strip("〔〕")
            else:
                column, value = "stated_avg_growth_pct", value.removesuffix("%")
        else:
            raise PlanParseError(f"line {row.line}: more values than columns: {row.values}")
        if not hasattr(ind, column):
            raise PlanParseError(f"line {row.line}: no column for the year {years[i]}")
        setattr(ind, column, _number(value))
        if marks:
            ind.footnote_marks[column] = marks
    notes = []
    for column, marks in ind.footnote_marks.items():
        for mark in marks:
            if mark not in footnotes:
                raise PlanParseError(f"line {row.line}: footnote [{mark}] is not defined")
            notes.append(f"[{mark}] {footnotes[mark]}")
            dated = FOOTNOTE_DATE.search(footnotes[mark])
            if column == "value_2015" and dated:  # the value is not the 2015 year end
                ind.value_2015_as_of = "{}-{:0>2}-{:0>2}".format(*dated.groups())
    if ind.value_2015 is not None and ind.value_2015_as_of is None:
        ind.value_2015_as_of = "2015-12-31"
    ind.footnote = " ".join(notes) or None
    return ind


def extract(text: str | None = None) -> list[Indicator]:
    """Both indicator tables of the plan, 13th plan first, rows in their printed order."""
    lines = (plan_text() if text is None else text).splitlines()
    indicators: list[Indicator] = []
    for period, title in TABLES:
        at = _find_title(lines, title)
        header = next((i for i in range(at + 1, len(lines)) if lines[i].strip()), None)
        if header is None:
            raise PlanParseError(f"table {title!r} has no header")
        years, growth = _columns(lines[header])
        rows, footnotes = _rows(lines, header, len(years) + growth)
        if not rows:
            raise PlanParseError(f"table {title!r} has no rows")
        indicators.extend(_indicator(period, title, years, growth, row, footnotes) for row in rows)
    return indicators


def implied_growth_pct(ind: Indicator) -> float | None:
    """The average annual growth the endpoints imply, in percent (for checks and tests; not delivered)."""
    if ind.value_2015 is None or ind.value_2020 is None or ind.value_2015_as_of is None:
        return None
    base, end = float(ind.value_2015), float(ind.value_2020)
    year, month, day = map(int, ind.value_2015_as_of.split("-"))
    years = round((dt.date(2020, 12, 31) - dt.date(year, month, day)).days / 365.25)
    return ((end / base) ** (1 / years) - 1) * 100 if base > 0 else None
