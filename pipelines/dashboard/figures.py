"""The dashboard's figures, computed server-side from the PUBLISHED marts only.

Every figure reads one mart at its latest publication (``publications.resolve``), never the live table, and
carries that publication (dataset, version, snapshot, time) so a number on the screen can be traced and reproduced.
A figure whose mart comes with a later issue (``compute is None``) or is not published yet says so and shows no
number. Traces are Plotly trace dicts; the browser only draws them.
"""

from __future__ import annotations

import datetime as dt
import logging
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


def green_share_by_month(con, relation):
    rows = _rows(con, f"""
        SELECT strftime(report_month, '%Y-%m') AS month,
               sum(green_loan_balance_yuan)::DOUBLE / nullif(sum(total_loan_balance_yuan), 0)::DOUBLE AS share
        FROM {relation} GROUP BY report_month ORDER BY report_month""")
    trace = {"type": "scatter", "mode": "lines+markers", "name": "绿色贷款占比",
             "x": [m for m, _ in rows], "y": [_num(s) for _, s in rows]}
    layout = {"yaxis": {"title": {"text": "绿色贷款余额 ÷ 各项贷款余额"}, "tickformat": ".1%"},
              "xaxis": {"title": {"text": "月份"}, "type": "category"}}
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


# The screen, top to bottom. Marts of later issues are listed with the name they will have, so the panel is there
# (待接入) and turns live when its figure is written against the published mart.
FIGURES: tuple[Figure, ...] = (
    Figure("plan_indicators", "规划指标与2025年目标", "marts.fct_plan_indicator_progress", None,
           "含绿色贷款占比2025年目标；目标值目前只在 staging（stg_public__plan_indicators），未进入已发布数据集。"),
    Figure("green_share_trend", "绿色贷款占比（按月）", "marts.fct_green_loan_balance_monthly", green_share_by_month,
           "2025年目标：待接入（marts.fct_plan_indicator_progress）。"),
    Figure("green_share_by_district", "各区县绿色贷款占比（最新月份）", "marts.fct_green_loan_balance_monthly",
           green_share_by_district),
    Figure("green_credit_by_category", "绿色贷款余额按《绿色产业指导目录》一级分类（最新月份）",
           "marts.fct_green_loan_statistics_monthly", green_credit_by_category),
    Figure("financed_emissions_by_section", "融资排放按行业门类（最新年度）",
           "marts.fct_financed_emissions_bank_industry_yearly", financed_emissions_by_section),
    Figure("financed_emissions_by_bank", "融资排放按银行（最新年度）",
           "marts.fct_financed_emissions_bank_industry_yearly", financed_emissions_by_bank),
    Figure("bank_evaluation_ranking", "银行业金融机构绿色金融评价排名", "marts.fct_bank_green_evaluation_quarterly",
           None),
    Figure("climate_stress_paths", "气候风险压力测试：资本充足率路径", "marts.fct_climate_stress_bank_yearly",
           climate_stress_paths),
    Figure("climate_stress_pass_fail", "气候风险压力测试：各银行是否达标", "marts.fct_climate_stress_bank_yearly",
           climate_stress_pass_fail),
    Figure("carbon_efficiency_grades", "规上工业企业碳效等级分布（最新年度）", "marts.fct_carbon_efficiency_yearly",
           carbon_efficiency_grades),
    Figure("supervision_breaches", "地方金融组织监管指标违规", "marts.fct_supervision_breaches_monthly", None),
    Figure("risk_watch_list", "风险预警名单", "marts.fct_risk_watch_list_monthly", None),
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
