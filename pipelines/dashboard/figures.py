"""The dashboard's figures, computed server-side from the PUBLISHED marts only.

Every figure reads one mart at its latest publication (``publications.resolve``), never the live table, and
carries that publication (dataset, version, snapshot, time) so a number on the screen can be traced and reproduced.
A figure whose mart comes with a later issue (``compute is None``) or is not published yet says so and shows no
number. Traces are Plotly trace dicts; the browser only draws them.
"""

from __future__ import annotations

import datetime as dt
import logging
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import duckdb

from pipelines import settings as settings_module
from pipelines.lake.connection import reader
from pipelines.lake.publications import NotPublished, Publication, latest_check, resolve

log = logging.getLogger(__name__)

# Times are shown as the city reads them.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# (traces, layout, period shown) from a connection and the published relation of the figure's mart.
Compute = Callable[[duckdb.DuckDBPyConnection, str], tuple[list[dict], dict, str | None]]


@dataclass(frozen=True)
class Figure:
    id: str
    title: str
    dataset: str
    compute: Compute | None  # None: the mart comes with a later issue (待接入)
    note: str = ""


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def _num(value) -> float | None:
    return None if value is None else float(value)


def _latest(con: duckdb.DuckDBPyConnection, relation: str, column: str) -> object:
    return con.execute(f"SELECT max({column}) FROM {relation}").fetchone()[0]


PLAN_DATASET = "marts.fct_plan_indicator_progress"


def plan_target(con: duckdb.DuckDBPyConnection, measure_key: str) -> tuple[float, str, Publication] | None:
    """A 14th-plan 2025 target from the published plan mart: (target in the plan's unit, qualifier, publication)."""
    try:
        pub = resolve(con, PLAN_DATASET)
    except NotPublished:
        return None
    row = con.execute(f"""
        SELECT value_2025_target::DOUBLE, coalesce(target_qualifier, '') FROM {pub.relation()}
        WHERE plan_period = '十四五' AND measure_key = ? AND value_2025_target IS NOT NULL
        ORDER BY report_month DESC LIMIT 1""", [measure_key]).fetchone()
    return (row[0], row[1], pub) if row else None


def green_share_by_month(con, relation):
    rows = _rows(con, f"""
        SELECT strftime(report_month, '%Y-%m') AS month,
               sum(green_loan_balance_yuan)::DOUBLE / nullif(sum(total_loan_balance_yuan), 0)::DOUBLE AS share
        FROM {relation} GROUP BY report_month ORDER BY report_month""")
    trace = {"type": "scatter", "mode": "lines+markers", "name": "绿色贷款占比",
             "x": [m for m, _ in rows], "y": [_num(s) for _, s in rows]}
    layout = {"yaxis": {"title": {"text": "绿色贷款余额 ÷ 各项贷款余额"}, "tickformat": ".1%"},
              "xaxis": {"title": {"text": "月份"}, "type": "category"}}
    target = plan_target(con, "green_loan_share_pct")
    if target is not None:  # the plan's 2025 target as a line: a goal, not a month's figure
        value, qualifier, pub = target
        layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": value / 100, "y1": value / 100,
                             "line": {"color": "#d68910", "dash": "dash"}}]
        layout["annotations"] = [{"xref": "paper", "x": 1, "y": value / 100, "xanchor": "right", "yanchor": "bottom",
                                  "showarrow": False,
                                  "text": f"2025年目标 {value:g}%{qualifier}（{PLAN_DATASET} v{pub.version}）"}]
        layout["yaxis"]["rangemode"] = "tozero"
    period = f"{rows[0][0]} 至 {rows[-1][0]}" if rows else None
    return [trace] if rows else [], layout, period


def green_share_by_district(con, relation):
    month = _latest(con, relation, "report_month")
    rows = _rows(con, f"""
        SELECT coalesce(any_value(district_name), district_code) AS district,
               sum(green_loan_balance_yuan)::DOUBLE / nullif(sum(total_loan_balance_yuan), 0)::DOUBLE AS share
        FROM {relation} WHERE report_month = ? GROUP BY district_code ORDER BY district_code""", [month])
    trace = {"type": "bar", "name": "绿色贷款占比", "x": [d for d, _ in rows], "y": [_num(s) for _, s in rows]}
    layout = {"yaxis": {"title": {"text": "绿色贷款占比"}, "tickformat": ".1%"}, "xaxis": {"title": {"text": "区县"}}}
    return [trace] if rows else [], layout, f"{month:%Y-%m}" if month else None


def green_credit_by_category(con, relation):
    month = _latest(con, relation, "report_month")
    rows = _rows(con, f"""
        SELECT coalesce(any_value(green_category_name), green_category_code) AS category,
               round(sum(balance_yuan)::DOUBLE / 10000, 2) AS balance_10k_yuan
        FROM {relation} WHERE report_month = ? AND is_green
        GROUP BY green_category_code ORDER BY green_category_code""", [month])
    trace = {"type": "bar", "name": "绿色贷款余额（万元）", "orientation": "h",
             "y": [c for c, _ in rows], "x": [_num(b) for _, b in rows]}
    layout = {"xaxis": {"title": {"text": "余额（万元）"}}, "yaxis": {"automargin": True, "autorange": "reversed"}}
    return [trace] if rows else [], layout, f"{month:%Y-%m}" if month else None


def _financed_emissions_by(group_label: str, group_key: str, axis_title: str) -> Compute:
    def compute(con, relation):
        year = _latest(con, relation, "year")
        rows = _rows(con, f"""
            SELECT {group_label} AS label, sum(financed_scope12_tco2e)::DOUBLE AS tco2e
            FROM {relation} WHERE year = ? GROUP BY {group_key}
            ORDER BY tco2e DESC NULLS LAST, label""", [year])
        trace = {"type": "bar", "name": "融资排放（范围一+二，tCO2e）", "x": [r[0] for r in rows],
                 "y": [_num(r[1]) for r in rows]}
        layout = {"yaxis": {"title": {"text": "tCO2e"}}, "xaxis": {"title": {"text": axis_title}, "automargin": True}}
        return [trace] if rows else [], layout, f"{year} 年" if year else None
    return compute


financed_emissions_by_section = _financed_emissions_by(
    "coalesce(any_value(section_name), any_value(industry_section), '个人及无行业贷款')", "industry_section",
    "行业门类")
financed_emissions_by_bank = _financed_emissions_by(
    "coalesce(any_value(bank_name), bank_code)", "bank_code", "银行")

SCENARIOS = {"light": "轻度", "medium": "中度", "severe": "重度"}


def climate_stress_paths(con, relation):
    """One line per bank and scenario; a scenario selector shows one scenario's banks at a time (severe first)."""
    rows = _rows(con, f"""
        SELECT coalesce(bank_name, bank_code), scenario, year, capital_ratio::DOUBLE, min_capital_ratio::DOUBLE
        FROM {relation} WHERE capital_ratio IS NOT NULL ORDER BY bank_code, scenario, year""")
    traces: dict[tuple[str, str], dict] = {}
    for bank, scenario, year, ratio, _ in rows:
        trace = traces.setdefault((bank, scenario), {
            "type": "scatter", "mode": "lines+markers", "name": f"{bank} · {SCENARIOS.get(scenario, scenario)}情景",
            "x": [], "y": [], "visible": scenario == "severe"})
        trace["x"].append(year)
        trace["y"].append(ratio)
    scenarios = list(dict.fromkeys(scenario for _, scenario in traces))
    layout = {"yaxis": {"title": {"text": "资本充足率"}, "tickformat": ".2%"}, "xaxis": {"title": {"text": "年份"}},
              "showlegend": True, "height": 480, "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
              "updatemenus": [{"type": "buttons", "direction": "right", "x": 0, "y": 1.12, "xanchor": "left",
                               "active": scenarios.index("severe") if "severe" in scenarios else 0,
                               "buttons": [{"label": f"{SCENARIOS.get(s, s)}情景", "method": "restyle",
                                            "args": [{"visible": [key[1] == s for key in traces]}]}
                                           for s in scenarios]}]}
    minimum = max((r[4] for r in rows if r[4] is not None), default=None)
    if minimum is not None:  # the regulatory floor as a line, not a trace: it is a rule, not a bank's figure
        layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": minimum, "y1": minimum,
                             "line": {"color": "#c0392b", "dash": "dashdot"}}]
        layout["annotations"] = [{"xref": "paper", "x": 1, "y": minimum, "xanchor": "right", "yanchor": "bottom",
                                  "text": f"监管最低要求 {minimum:.1%}", "showarrow": False}]
    years = sorted({r[2] for r in rows})
    return list(traces.values()), layout, f"{years[0]}–{years[-1]} 年" if years else None


VERDICTS = {True: ("通过", "#27ae60"), False: ("未通过", "#e74c3c"), None: ("缺数据", "#aab7b8")}


def climate_stress_pass_fail(con, relation):
    """A bank × scenario grid of verdicts: one marker trace per verdict, so the legend explains the colours."""
    rows = _rows(con, f"""
        SELECT coalesce(any_value(bank_name), bank_code) AS bank, scenario,
               CASE WHEN count(*) FILTER (WHERE passes_all_years IS NULL) > 0 THEN NULL
                    ELSE bool_and(passes_all_years) END AS passes
        FROM {relation} GROUP BY bank_code, scenario ORDER BY bank_code, scenario""")
    traces = []
    for verdict, (label, colour) in VERDICTS.items():
        cells = [(f"{SCENARIOS.get(s, s)}情景", bank) for bank, s, passes in rows if passes is verdict]
        if cells:
            traces.append({"type": "scatter", "mode": "markers", "name": label, "x": [c[0] for c in cells],
                           "y": [c[1] for c in cells], "marker": {"symbol": "square", "size": 14, "color": colour}})
    banks = list(dict.fromkeys(r[0] for r in rows))
    layout = {"height": max(340, 60 + 26 * len(banks)),
              "yaxis": {"automargin": True, "type": "category", "categoryorder": "array", "categoryarray": banks,
                        "autorange": "reversed"},
              "xaxis": {"type": "category", "categoryorder": "array",
                        "categoryarray": [f"{label}情景" for label in SCENARIOS.values()]}}
    return traces, layout, "2021–2030 年每年资本充足率均不低于监管最低要求即为通过"


def carbon_efficiency_grades(con, relation):
    year = _latest(con, relation, "year")
    counts = dict(_rows(con, f"SELECT carbon_efficiency_grade, count(*) FROM {relation} WHERE year = ? "
                             "GROUP BY carbon_efficiency_grade", [year]))
    # every grade 1-5 has a bar, an empty one included; enterprises that could not be graded are counted apart
    labels = {grade: f"{grade}级" for grade in range(1, 6)} | ({None: "缺数据未评级"} if None in counts else {})
    trace = {"type": "bar", "name": "企业数", "x": list(labels.values()), "y": [counts.get(g, 0) for g in labels]}
    layout = {"yaxis": {"title": {"text": "企业数"}},
              "xaxis": {"title": {"text": "碳效等级（1级最优）"}, "type": "category"}}
    return [trace] if counts else [], layout, f"{year} 年" if year else None


def _pct_of(value, target) -> float | None:
    return None if value is None or not target else round(float(value) / float(target) * 100, 2)


PLAN_STATES = {True: ("湖仓值·达到轨迹", "#1e8449"), False: ("湖仓值·落后于轨迹", "#d68910"),
               None: ("湖仓值·无轨迹可比", "#2e86c1")}


def plan_indicator_progress(con, relation):
    """The 14th plan's indicators of the latest month on one axis: every value as a percent of its 2025 target
    (units differ: 亿元, %, 家); the lake's value coloured by whether it is on the trajectory, the plan's 2020 base
    and the month's trajectory as markers. An indicator the lake cannot compute has no bar and says why."""
    month = con.execute(f"SELECT max(report_month) FROM {relation} WHERE plan_period = '十四五'").fetchone()[0]
    rows = _rows(con, f"""
        SELECT indicator_name || '（' || unit || '）', unit, value_2020, value_2025_target,
               coalesce(target_qualifier, ''), lake_value, trajectory_value, progress_pct, on_track, missing_inputs
        FROM {relation} WHERE plan_period = '十四五' AND report_month = ? AND value_2025_target IS NOT NULL
        ORDER BY seq""", [month])
    traces = []
    for state, (name, colour) in PLAN_STATES.items():
        shown = [r for r in rows if r[5] is not None and r[8] is state]
        if shown:
            traces.append({
                "type": "bar", "orientation": "h", "name": name, "marker": {"color": colour},
                "y": [r[0] for r in shown], "x": [_pct_of(r[5], r[3]) for r in shown],
                "hovertext": [f"湖仓值 {float(r[5]):g}{r[1]} · 2025年目标 {float(r[3]):g}{r[1]}{r[4]}"
                              + ("" if r[7] is None else f" · 完成进度 {float(r[7]):g}%") for r in shown],
                "hoverinfo": "text"})
    on_path = [r for r in rows if r[6] is not None]
    if on_path:
        traces.append({"type": "scatter", "mode": "markers", "name": "当月轨迹值", "y": [r[0] for r in on_path],
                       "x": [_pct_of(r[6], r[3]) for r in on_path],
                       "marker": {"symbol": "line-ns-open", "size": 18, "color": "#c0392b"}})
    if rows:
        traces.append({"type": "scatter", "mode": "markers", "name": "规划2020年值", "y": [r[0] for r in rows],
                       "x": [_pct_of(r[2], r[3]) for r in rows],
                       "marker": {"symbol": "diamond", "size": 9, "color": "#5d6d7e"}})
    # named under the chart, one line for the indicator and one for the reason: the screen says which indicators
    # the lake cannot compute, and what source is missing
    missing = [f"{r[0]}：<br>　" + "<br>　".join(textwrap.wrap(r[9], 80)) for r in rows if r[5] is None]
    lines = sum(m.count("<br>") + 1 for m in missing)
    labels = [r[0] for r in rows]
    layout = {"height": 120 + 36 * len(rows) + 17 * lines, "barmode": "overlay",
              "margin": {"l": 20, "r": 20, "t": 40, "b": 80 + 17 * lines},
              "legend": {"orientation": "h", "x": 0, "y": 1.02, "xanchor": "left", "yanchor": "bottom"},
              "xaxis": {"title": {"text": "占2025年目标的百分比（红色虚线：2025年目标）"}, "ticksuffix": "%"},
              "yaxis": {"automargin": True, "type": "category", "categoryorder": "array", "categoryarray": labels,
                        "autorange": "reversed"},
              "shapes": [{"type": "line", "yref": "paper", "y0": 0, "y1": 1, "x0": 100, "x1": 100,
                          "line": {"color": "#c0392b", "dash": "dash"}}],
              "annotations": []}
    if missing:
        layout["annotations"].append({"xref": "paper", "yref": "paper", "x": 0, "y": 0, "xanchor": "left",
                                      "yanchor": "top", "yshift": -45, "align": "left", "showarrow": False,
                                      "font": {"size": 11}, "text": "湖仓无法计算：<br>" + "<br>".join(missing)})
    return (traces if rows else []), layout, f"{month:%Y-%m}" if month else None


SEVERITIES = {"minor": ("轻度", "#f4d03f"), "serious": ("较重", "#e67e22"), "severe": ("严重", "#c0392b")}


def supervision_breaches_latest(con, relation):
    """Each breach of the latest month: organisation × ratio (its name; the formula in the hover text), bar length =
    consecutive months in breach. Organisations are companies, named in their returns (L1 in the catalog)."""
    month = _latest(con, relation, "report_month")
    rows = _rows(con, f"""
        SELECT coalesce(org_name, org_type) || ' · ' || split_part(ratio_name, ' (', 1), severity, months_in_breach,
               strftime(breach_since, '%Y-%m'), excess::DOUBLE, ratio_name
        FROM {relation} WHERE report_month = ? ORDER BY org_type, org_name, org_code, ratio_code""", [month])
    traces = []
    for severity, (label, colour) in SEVERITIES.items():
        shown = [r for r in rows if r[1] == severity]
        if shown:
            traces.append({
                "type": "bar", "orientation": "h", "name": f"{label}超限", "marker": {"color": colour},
                "y": [r[0] for r in shown], "x": [r[2] for r in shown], "hoverinfo": "text",
                "hovertext": [f"{r[5]}<br>自 {r[3]} 起连续 {r[2]} 个月"
                              + ("（比值无法计算）" if r[4] is None else f"，超出限额 {r[4]:.1%}") for r in shown]})
    layout = {"height": max(340, 120 + 28 * len(rows)), "barmode": "overlay",
              "xaxis": {"title": {"text": "连续违规月数"}, "dtick": 1, "rangemode": "tozero"},
              "yaxis": {"automargin": True, "type": "category", "categoryorder": "array",
                        "categoryarray": [r[0] for r in rows], "autorange": "reversed"}}
    return traces, layout, f"{month:%Y-%m}" if month else None


def supervision_breaches_by_month(con, relation):
    """Breaches per month by severity, every month between the first and the last one listed (0 when none)."""
    rows = _rows(con, f"""
        WITH breaches AS (SELECT report_month, severity FROM {relation}),
        months AS (
            SELECT unnest(generate_series(min(report_month), max(report_month), INTERVAL 1 MONTH))::DATE AS m
            FROM breaches)
        SELECT strftime(m, '%Y-%m'), s.severity, count(b.report_month)
        FROM months CROSS JOIN (VALUES ('minor'), ('serious'), ('severe')) s(severity)
        LEFT JOIN breaches b ON b.report_month = m AND b.severity = s.severity
        GROUP BY m, s.severity ORDER BY m""")
    months = list(dict.fromkeys(r[0] for r in rows))
    counts = {(m, s): n for m, s, n in rows}
    traces = [{"type": "bar", "name": f"{label}超限", "marker": {"color": colour}, "x": months,
               "y": [counts.get((m, severity), 0) for m in months]}
              for severity, (label, colour) in SEVERITIES.items()]
    layout = {"barmode": "stack", "yaxis": {"title": {"text": "违规项数（机构×指标）"}},
              "xaxis": {"title": {"text": "月份"}, "type": "category"}}
    return (traces if months else []), layout, f"{months[0]} 至 {months[-1]}" if months else None


WATCH_STATUSES = {"new": ("新进入", "#c0392b"), "still": ("持续在列", "#d68910"), "left": ("已移出", "#27ae60")}
SCORE_BANDS = [f"{low}–{low + 10}" for low in range(0, 100, 10)]
UNSCORED = "未评分"


def risk_watch_list_scores(con, relation):
    """The latest month's watch list as counts only: firms per score band (10 points), stacked by status; the
    legend carries the count of each status. No credit code, no name: the list is about single enterprises and
    individual businesses (L3)."""
    month = _latest(con, relation, "report_month")
    rows = _rows(con, f"""
        SELECT watch_status, CASE WHEN risk_score IS NULL THEN NULL ELSE least(floor(risk_score / 10), 9) END::INT,
               count(*)
        FROM {relation} WHERE report_month = ? GROUP BY ALL""", [month])
    bands = SCORE_BANDS + ([UNSCORED] if any(r[1] is None for r in rows) else [])
    traces = []
    for status, (label, colour) in WATCH_STATUSES.items():
        counts = {UNSCORED if band is None else SCORE_BANDS[band]: n for s, band, n in rows if s == status}
        traces.append({"type": "bar", "name": f"{label}（{sum(counts.values())}家）", "marker": {"color": colour},
                       "x": bands, "y": [counts.get(b, 0) for b in bands]})
    layout = {"barmode": "stack", "yaxis": {"title": {"text": "企业数"}},
              "xaxis": {"title": {"text": "风险评分（0–100）"}, "type": "category"}}
    return (traces if rows else []), layout, f"{month:%Y-%m}" if month else None


def bank_evaluation_ranking(con, relation):
    """The latest quarter's PBoC green-finance evaluation: one bar per evaluated bank, best first, labelled with its
    rank; the hover shows the four indicator scores and the qualitative score. A bank without a total (an input
    missing) keeps its place at the end with an empty bar and the missing input named, never a 0."""
    quarter = _latest(con, relation, "quarter_end_month")
    rows = _rows(con, f"""
        SELECT coalesce(bank_name, bank_code), evaluation_rank, total_score::DOUBLE, quantitative_score::DOUBLE,
               qualitative_score::DOUBLE, score_green_business_share::DOUBLE, score_green_market_share::DOUBLE,
               score_green_growth_yoy::DOUBLE, score_green_risk_ratio::DOUBLE, missing_inputs, quarter, scoring_method
        FROM {relation} WHERE quarter_end_month = ?
        ORDER BY evaluation_rank NULLS LAST, bank_code""", [quarter])

    def score(value) -> str:
        return "缺" if value is None else f"{value:.2f}"

    labels = [f"第{r[1]}名 {r[0]}" if r[1] is not None else f"{r[0]}（缺数据：{r[9]}）" for r in rows]
    trace = {"type": "bar", "orientation": "h", "name": "评价总分（0–100）", "y": labels,
             "x": [_num(r[2]) for r in rows],
             "text": [score(r[2]) for r in rows], "textposition": "auto",
             "hovertext": [f"定量 {score(r[3])}（绿色业务占比 {score(r[5])} · 绿色业务份额 {score(r[6])} · "
                           f"同比增速 {score(r[7])} · 绿色风险 {score(r[8])}）· 定性 {score(r[4])}" for r in rows],
             "hoverinfo": "text"}
    layout = {"height": max(340, 60 + 30 * len(rows)),
              "xaxis": {"title": {"text": "总分 = 80% 定量 + 20% 定性"}, "range": [0, 100]},
              "yaxis": {"automargin": True, "type": "category", "autorange": "reversed"}}
    period = f"{rows[0][10]}（评分方法 {rows[0][11]}）" if rows else None
    return [trace] if rows else [], layout, period


RISK_SIGNALS = {
    "loan_overdue_signal": "贷款逾期", "loan_downgrade_signal": "五级分类下调",
    "environmental_penalty_signal": "环保处罚",
    "tax_rating_d_signal": "纳税信用D级", "dishonest_debtor_signal": "失信被执行人",
    "carbon_efficiency_decline_signal": "碳效等级下降", "guarantee_concentration_signal": "对外担保过度集中",
}


def risk_signal_counts(con, relation):
    """Per signal, the latest month's enterprises at 1 and those whose input is missing (unknown, not 0)."""
    month = _latest(con, relation, "report_month")
    present = ", ".join(f"count(*) FILTER (WHERE {column} = 1)" for column in RISK_SIGNALS)
    unknown = ", ".join(f"count(*) FILTER (WHERE {column} IS NULL)" for column in RISK_SIGNALS)
    row = con.execute(f"SELECT count(*), {present}, {unknown} FROM {relation} WHERE report_month = ?",
                      [month]).fetchone()
    n = len(RISK_SIGNALS)
    labels = list(RISK_SIGNALS.values())
    traces = [{"type": "bar", "name": "信号触发企业数", "marker": {"color": "#c0392b"}, "x": labels,
               "y": list(row[1:1 + n])},
              {"type": "bar", "name": "缺数据无法判断", "marker": {"color": "#aab7b8"}, "x": labels,
               "y": list(row[1 + n:])}]
    layout = {"barmode": "group", "yaxis": {"title": {"text": "企业数"}},
              "xaxis": {"title": {"text": "预警信号"}, "type": "category", "automargin": True}}
    period = f"{month:%Y-%m} · 评分企业 {row[0]} 家" if month else None
    return (traces if row[0] else []), layout, period


AGGREGATES_ONLY = ("仅显示汇总计数：名单涉及单个企业和个体工商户，统一社会信用代码为 L3 级，"
                   "屏上不显示信用代码和名称。")

# The screen, top to bottom. Marts of later issues are listed with the name they will have, so the panel is there
# (待接入) and turns live when its figure is written against the published mart.
FIGURES: tuple[Figure, ...] = (
    Figure("plan_indicators", "“十四五”规划指标进度（最新月份）", PLAN_DATASET, plan_indicator_progress,
           "各指标单位不同，统一以占2025年目标的百分比表示（上限类指标如不良贷款率以不超过100%为达标）；"
           "演示数据按比例缩小，金额类指标远低于规划值。"),
    Figure("green_share_trend", "绿色贷款占比（按月）", "marts.fct_green_loan_balance_monthly", green_share_by_month,
           "虚线为“十四五”规划2025年目标，读取已发布的 " + PLAN_DATASET + "。"),
    Figure("green_share_by_district", "各区县绿色贷款占比（最新月份）", "marts.fct_green_loan_balance_monthly",
           green_share_by_district),
    Figure("green_credit_by_category", "绿色贷款余额按《绿色产业指导目录》一级分类（最新月份）",
           "marts.fct_green_loan_statistics_monthly", green_credit_by_category),
    Figure("financed_emissions_by_section", "融资排放按行业门类（最新年度）",
           "marts.fct_financed_emissions_bank_industry_yearly", financed_emissions_by_section),
    Figure("financed_emissions_by_bank", "融资排放按银行（最新年度）",
           "marts.fct_financed_emissions_bank_industry_yearly", financed_emissions_by_bank),
    Figure("bank_evaluation_ranking", "银行业金融机构绿色金融评价排名（最新季度）",
           "marts.fct_bank_green_evaluation_quarterly", bank_evaluation_ranking,
           "人民银行《银行业金融机构绿色金融评价方案》（2021）；定性评价为演示数据，正式运行时由人行分支机构提供。"),
    Figure("climate_stress_paths", "气候风险压力测试：资本充足率路径", "marts.fct_climate_stress_bank_yearly",
           climate_stress_paths),
    Figure("climate_stress_pass_fail", "气候风险压力测试：各银行是否达标", "marts.fct_climate_stress_bank_yearly",
           climate_stress_pass_fail),
    Figure("carbon_efficiency_grades", "规上工业企业碳效等级分布（最新年度）", "marts.fct_carbon_efficiency_yearly",
           carbon_efficiency_grades),
    Figure("supervision_breaches", "地方金融组织监管：监管指标违规（最新月份）",
           "marts.fct_supervision_breaches_monthly", supervision_breaches_latest,
           "条长为连续违规月数，颜色为超限程度（轻度≤10%、较重≤50%、严重>50%）。"),
    Figure("supervision_breaches_by_month", "地方金融组织监管：违规项数（按月）",
           "marts.fct_supervision_breaches_monthly", supervision_breaches_by_month,
           "首个与最后一个有违规的月份之间，无违规的月份计为0。"),
    Figure("risk_watch_list", "风险预警名单：评分分布与进出名单（最新月份）", "marts.fct_risk_watch_list_monthly",
           risk_watch_list_scores, AGGREGATES_ONLY),
    Figure("risk_signals", "企业风险预警信号（最新月份）", "marts.fct_enterprise_risk_signals_monthly",
           risk_signal_counts, AGGREGATES_ONLY),
)

STATUS_TEXT = {
    "pending": "待接入",
    "unpublished": "尚未发布",
    "empty": "已发布版本中无数据",
    "error": "读取失败",
}


def local_time(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def publication_info(pub: Publication) -> dict:
    return {"version": pub.version, "snapshot_id": pub.snapshot_id, "row_count": pub.row_count,
            "published_at": pub.published_at.isoformat(),
            "caption": f"数据版本 v{pub.version} · {local_time(pub.published_at)}"}


def check_warning(con: duckdb.DuckDBPyConnection, dataset: str, pub: Publication | None) -> str | None:
    """Says so when the newest checks failed, so the screen shows the last good publication knowingly."""
    check = latest_check(con, dataset)
    if check is None or check.passed:
        return None
    if pub is not None and check.snapshot_id is not None and check.snapshot_id <= pub.snapshot_id:
        return None  # an older failure, superseded by this publication
    shown = f"显示上次通过检查的版本 v{pub.version}" if pub else "尚无通过检查的版本"
    return f"最新质量检查未通过（{local_time(check.evaluated_at)}），{shown}"


def figure(con: duckdb.DuckDBPyConnection, spec: Figure) -> dict:
    out = {"id": spec.id, "title": spec.title, "dataset": spec.dataset, "note": spec.note, "publication": None,
           "warning": None, "period": None, "traces": [], "layout": {}}
    if spec.compute is None:
        return out | {"status": "pending", "message": f"待接入：将读取已发布数据集 {spec.dataset}"}
    try:
        pub = resolve(con, spec.dataset)
    except NotPublished:
        return out | {"status": "unpublished", "message": f"尚未发布：{spec.dataset} 还没有通过检查的发布版本",
                      "warning": check_warning(con, spec.dataset, None)}
    out |= {"publication": publication_info(pub), "warning": check_warning(con, spec.dataset, pub)}
    try:
        traces, layout, period = spec.compute(con, pub.relation())
    except duckdb.Error as exc:  # one broken figure must not blank the whole screen; the log has the cause
        log.exception("figure %s failed on %s v%s", spec.id, spec.dataset, pub.version)
        return out | {"status": "error", "message": f"读取失败：{type(exc).__name__}"}
    status = "ok" if traces else "empty"
    return out | {"status": status, "message": STATUS_TEXT.get(status), "traces": traces, "layout": layout,
                  "period": period}


def compute_all(settings: settings_module.Settings | None = None) -> dict:
    settings = settings or settings_module.load()
    with reader(settings) as con:
        figures = [figure(con, spec) for spec in FIGURES]
    return {"generated_at": dt.datetime.now(dt.UTC).isoformat(), "figures": figures}
