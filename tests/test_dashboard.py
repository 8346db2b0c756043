"""The one screen, end to end: a real lake with published marts, the router served by uvicorn, the page loaded in
headless Chromium; the charts must be drawn, with the published values, and nothing fetched from outside."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections import defaultdict
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import requests
import uvicorn
from fastapi import FastAPI, Request

from pipelines.dashboard import figures
from pipelines.dashboard.routes import PLOTLY_JS, router
from pipelines.lake.connection import reader
from pipelines.lake.publications import latest_all, resolve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LIVE = [f for f in figures.FIGURES if f.compute is not None]
PENDING = [f for f in figures.FIGURES if f.compute is None]


@pytest.fixture(scope="module")
def lake(tmp_path_factory, pipeline_template):
    """Two demo months of every source through the whole pipeline (conftest's session build), this module's copy."""
    from conftest import copy_pipeline, located_at

    root = tmp_path_factory.mktemp("lake")
    copy_pipeline(pipeline_template, root)
    with located_at(root):
        from pipelines import settings as settings_module

        yield settings_module.load()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(lake):
    """The router in an app of its own (the API mounts it the same way), with every request it receives logged."""
    app = FastAPI()
    app.include_router(router)
    requests_seen: list[str] = []

    @app.middleware("http")
    async def log_requests(request: Request, call_next):
        requests_seen.append(f"{request.method} {request.url.path}")
        return await call_next(request)

    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", requests_seen
    uv.should_exit = True
    thread.join(timeout=10)


# HTML elements without an end tag; Chromium serializes every other element, SVG ones included, with one.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Elements(HTMLParser):
    """The attributes of every element with an id, and the classes of the elements inside each chart."""

    def __init__(self):
        super().__init__()
        self.by_id: dict[str, dict[str, str]] = {}
        self.classes_in: dict[str, list[str]] = defaultdict(list)
        self.body: dict[str, str] = {}
        self._open: list[str | None] = []  # for each open element, the chart it is in

    def _record(self, tag, attrs) -> str | None:
        attrs = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.body = attrs
        if "id" in attrs:
            self.by_id[attrs["id"]] = attrs
        chart = attrs["id"] if attrs.get("id", "").startswith("chart-") else (self._open[-1] if self._open else None)
        if chart:
            self.classes_in[chart].extend(attrs.get("class", "").split())
        return chart

    def handle_starttag(self, tag, attrs):
        chart = self._record(tag, attrs)
        if tag not in VOID:
            self._open.append(chart)

    def handle_startendtag(self, tag, attrs):
        self._record(tag, attrs)

    def handle_endtag(self, tag):
        if tag not in VOID and self._open:
            self._open.pop()


@pytest.fixture(scope="module")
def page(server, tmp_path_factory):
    """The page as Chromium leaves it once the figures are drawn, and the requests the server received for it."""
    # like PostgreSQL for the server-storage test, `make test` installs it; a missing browser fails, it never skips
    assert CHROMIUM is not None, "Chromium is missing: run `make test` (it installs it) or `apt-get install chromium`"
    base, requests_seen = server
    requests_seen.clear()
    profile = tmp_path_factory.mktemp("chromium-profile")
    # Any host but the server resolves to nothing, so even a request the CSP missed could not leave the machine.
    result = subprocess.run(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         "--virtual-time-budget=20000", "--window-size=1400,3000", "--dump-dom", base + "/"],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    parsed = Elements()
    parsed.feed(result.stdout)
    return parsed, list(requests_seen), result.stdout


# --- the figures, as served ---------------------------------------------------------------------------------------

def test_every_live_figure_carries_the_publication_it_was_read_from(lake, server):
    base, _ = server
    body = requests.get(base + "/dashboard/figures.json", timeout=120).json()
    by_id = {f["id"]: f for f in body["figures"]}
    assert [f["id"] for f in body["figures"]] == [f.id for f in figures.FIGURES]
    with reader(lake) as con:
        published = latest_all(con)
    for spec in LIVE:
        fig = by_id[spec.id]
        pub = published.get(spec.dataset)
        assert pub is not None, f"{spec.dataset} is not published in the demo lake: the figure cannot be tested"
        if pub.row_count == 0:  # published but empty: an honest "no rows", never a made-up zero
            assert (fig["status"], fig["traces"]) == ("empty", []), fig
            assert fig["message"] == figures.STATUS_TEXT["empty"]
            continue
        assert fig["status"] == "ok", fig
        assert fig["dataset"] == spec.dataset
        assert fig["publication"]["version"] == pub.version
        assert fig["publication"]["snapshot_id"] == pub.snapshot_id
        assert fig["publication"]["published_at"] == pub.published_at.isoformat()
        assert fig["publication"]["caption"].startswith(f"数据版本 v{pub.version} · {pub.published_at:%Y}-")
        assert fig["traces"], spec.id
    for spec in PENDING:
        fig = by_id[spec.id]
        assert (fig["status"], fig["traces"], fig["publication"]) == ("pending", [], None)
        assert spec.dataset in fig["message"] and "待接入" in fig["message"]


def test_every_figure_of_an_empty_published_mart_draws_nothing(lake):
    """A published mart without rows (small demo months can leave one empty) gives no trace, hence the "no rows"
    state, and no error."""
    with reader(lake) as con:
        for spec in LIVE:
            empty = f"(SELECT * FROM {resolve(con, spec.dataset).relation()} WHERE false)"
            traces, _, _ = spec.compute(con, empty)
            assert traces == [], spec.id


def test_a_mart_never_published_shows_no_number(lake):
    spec = figures.Figure("ghost", "未发布的数据集", "marts.fct_not_published_yet", figures.green_share_by_month)
    with reader(lake) as con:
        fig = figures.figure(con, spec)
    assert fig["status"] == "unpublished" and fig["traces"] == [] and fig["publication"] is None
    assert "尚未发布" in fig["message"]


def test_the_page_allows_only_its_own_origin_and_serves_plotly_from_the_package(server):
    base, _ = server
    response = requests.get(base + "/", timeout=10)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self';" in csp and "connect-src 'self'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    assert "<script>" not in response.text and "http://" not in response.text and "https://" not in response.text
    assert 'href="/data-docs/"' in response.text
    plotly = requests.get(base + "/static/plotly.min.js", timeout=10)
    assert plotly.status_code == 200 and plotly.content == PLOTLY_JS.read_bytes()
    assert requests.get(base + "/static/..%2Fpipelines%2Fsettings.py", timeout=10).status_code == 404
    assert requests.get(base + "/static/figures.py", timeout=10).status_code == 404


# --- the page, in a browser ---------------------------------------------------------------------------------------

def values(parsed: Elements, figure_id: str) -> list[dict]:
    return json.loads(parsed.by_id[f"chart-{figure_id}"]["data-values"])


def test_every_chart_with_data_is_drawn(page):
    parsed, _, dom = page
    assert parsed.by_id["status"]["data-state"] == "ready", parsed.by_id["status"]
    for spec in LIVE:
        if parsed.by_id[f"figure-{spec.id}"]["data-status"] == "empty":
            assert f"chart-{spec.id}" not in parsed.by_id, spec.id
            continue
        chart = parsed.by_id.get(f"chart-{spec.id}")
        assert chart is not None and chart.get("data-rendered") == "true", spec.id
        classes = parsed.classes_in[f"chart-{spec.id}"]
        assert "main-svg" in classes, f"{spec.id}: no Plotly SVG"
        assert "trace" in classes, f"{spec.id}: no trace drawn"
        # one mark per category or point of every shown trace (Plotly draws an empty mark for a null bar)
        drawn = sum(len(t["x"]) for t in values(parsed, spec.id) if t["visible"])
        assert classes.count("point") == drawn > 0, f"{spec.id}: {classes.count('point')} marks for {drawn} values"
    section = parsed.by_id["figure-green_share_trend"]
    assert section["data-status"] == "ok" and section["data-version"] and section["data-snapshot"]
    assert "数据版本 v" in dom
    for spec in PENDING:
        assert parsed.by_id[f"figure-{spec.id}"]["data-status"] == "pending"
        assert f"chart-{spec.id}" not in parsed.by_id
    assert dom.count("待接入") >= len(PENDING)


def test_the_page_made_no_request_outside_the_server(page):
    parsed, seen, _ = page
    assert "data-csp-violations" not in parsed.body, parsed.body.get("data-csp-violations")
    expected = {"GET /", "GET /static/plotly-base.css", "GET /static/plotly-maps.css", "GET /static/dashboard.css",
                "GET /static/plotly.min.js", "GET /static/dashboard.js", "GET /dashboard/figures.json"}
    assert expected <= set(seen), seen
    assert set(seen) - expected <= {"GET /favicon.ico"}, seen


def published_rows(con, dataset: str, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of the mart exactly as published, independently of the dashboard's queries."""
    relation = resolve(con, dataset).relation()
    return con.execute(sql.format(mart=relation), params or []).fetchall()


def test_green_share_charts_show_the_published_values(lake, page):
    parsed, _, _ = page
    dataset = "marts.fct_green_loan_balance_monthly"
    with reader(lake) as con:
        rows = published_rows(con, dataset, "SELECT report_month, district_code, district_name, "
                                            "green_loan_balance_yuan, total_loan_balance_yuan FROM {mart}")
    green, total = defaultdict(Decimal), defaultdict(Decimal)
    for month, _, _, g, t in rows:
        green[month] += g
        total[month] += t
    months = sorted(total)
    [trend] = values(parsed, "green_share_trend")
    assert trend["x"] == [f"{m:%Y-%m}" for m in months]
    assert trend["y"] == pytest.approx([float(green[m] / total[m]) for m in months], rel=1e-12)

    latest = months[-1]
    by_district: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    names = {}
    for month, code, name, g, t in rows:
        if month == latest:
            by_district[code][0] += g
            by_district[code][1] += t
            names[code] = name or code
    [district] = values(parsed, "green_share_by_district")
    codes = sorted(by_district)
    assert district["x"] == [names[c] for c in codes]
    assert district["y"] == pytest.approx([float(by_district[c][0] / by_district[c][1]) for c in codes], rel=1e-12)


def test_green_credit_by_category_shows_the_published_balances(lake, page):
    parsed, _, _ = page
    with reader(lake) as con:
        rows = published_rows(con, "marts.fct_green_loan_statistics_monthly",
                              "SELECT green_category_code, green_category_name, balance_yuan FROM {mart} "
                              "WHERE is_green AND report_month = (SELECT max(report_month) FROM {mart})")
    balance, names = defaultdict(Decimal), {}
    for code, name, b in rows:
        balance[code] += b
        names[code] = name or code
    [bars] = values(parsed, "green_credit_by_category")
    codes = sorted(balance)
    assert bars["y"] == [names[c] for c in codes]
    assert bars["x"] == pytest.approx([float(balance[c] / 10000) for c in codes], abs=0.0051)
    assert sum(bars["x"]) > 0


def test_financed_emissions_and_carbon_grades_show_the_published_values(lake, page):
    parsed, _, _ = page
    with reader(lake) as con:
        emissions = published_rows(con, "marts.fct_financed_emissions_bank_industry_yearly",
                                   "SELECT bank_code, bank_name, financed_scope12_tco2e FROM {mart} "
                                   "WHERE year = (SELECT max(year) FROM {mart})")
        grades = published_rows(con, "marts.fct_carbon_efficiency_yearly",
                                "SELECT carbon_efficiency_grade FROM {mart} "
                                "WHERE year = (SELECT max(year) FROM {mart})")
    per_bank: dict[str, Decimal | None] = {}
    for code, name, tco2e in emissions:
        key = name or code
        if tco2e is not None:
            per_bank[key] = (per_bank.get(key) or Decimal(0)) + tco2e
        else:
            per_bank.setdefault(key, None)
    [bars] = values(parsed, "financed_emissions_by_bank")
    assert dict(zip(bars["x"], bars["y"], strict=True)) == pytest.approx(
        {k: None if v is None else float(v) for k, v in per_bank.items()})

    counts = {f"{grade}级": 0 for grade in range(1, 6)}
    for (grade,) in grades:
        label = f"{grade}级" if grade is not None else "缺数据未评级"
        counts[label] = counts.get(label, 0) + 1
    [histogram] = values(parsed, "carbon_efficiency_grades")
    assert dict(zip(histogram["x"], histogram["y"], strict=True)) == counts


def test_climate_stress_shows_each_banks_published_path_and_verdict(lake, page):
    parsed, _, _ = page
    with reader(lake) as con:
        rows = published_rows(con, "marts.fct_climate_stress_bank_yearly",
                              "SELECT coalesce(bank_name, bank_code), scenario, year, capital_ratio, passes_all_years "
                              "FROM {mart}")
    paths = {(t["name"]): dict(zip(t["x"], t["y"], strict=True)) for t in values(parsed, "climate_stress_paths")}
    expected: dict[str, dict[int, float]] = defaultdict(dict)
    verdict = {}
    for bank, scenario, year, ratio, passes in rows:
        if ratio is not None:
            expected[f"{bank} · {figures.SCENARIOS[scenario]}情景"][year] = float(ratio)
        verdict[(bank, f"{figures.SCENARIOS[scenario]}情景")] = None if passes is None else int(passes)
    assert paths.keys() == expected.keys() and paths
    for name, path in paths.items():
        assert path == pytest.approx(expected[name], rel=1e-12)

    shown = {(bank, scenario): trace["name"] for trace in values(parsed, "climate_stress_pass_fail")
             for scenario, bank in zip(trace["x"], trace["y"], strict=True)}
    assert shown == {cell: {1: "通过", 0: "未通过", None: "缺数据"}[v] for cell, v in verdict.items()}


def figures_json(server) -> dict[str, dict]:
    base, _ = server
    return {f["id"]: f for f in requests.get(base + "/dashboard/figures.json", timeout=120).json()["figures"]}


def drawn(parsed: Elements, figure_id: str) -> list[dict]:
    """The traces drawn, or none when the published mart had no rows (checked to be so)."""
    if parsed.by_id[f"figure-{figure_id}"]["data-status"] == "empty":
        return []
    return values(parsed, figure_id)


def pct_of(value, target) -> float | None:
    return None if value is None else round(float(value / target * 100), 2)


def test_plan_indicators_show_the_published_values_against_the_2025_targets(lake, server, page):
    parsed, _, _ = page
    with reader(lake) as con:
        rows = published_rows(con, "marts.fct_plan_indicator_progress",
                              "SELECT indicator_name || '（' || unit || '）', value_2020, value_2025_target, "
                              "lake_value, trajectory_value, on_track, missing_inputs FROM {mart} "
                              "WHERE plan_period = '十四五' AND value_2025_target IS NOT NULL AND report_month = "
                              "(SELECT max(report_month) FROM {mart} WHERE plan_period = '十四五')")
        share = published_rows(con, "marts.fct_plan_indicator_progress",
                               "SELECT DISTINCT value_2025_target FROM {mart} WHERE plan_period = '十四五' "
                               "AND measure_key = 'green_loan_share_pct'")
    assert len(rows) == 7, rows  # the 14th plan's indicator table
    traces = {t["name"]: dict(zip(t["y"], t["x"], strict=True)) for t in values(parsed, "plan_indicators")}
    state = {True: "湖仓值·达到轨迹", False: "湖仓值·落后于轨迹", None: "湖仓值·无轨迹可比"}
    expected_bars: dict[str, dict] = defaultdict(dict)
    for label, _, target, lake_value, _, on_track, _ in rows:
        if lake_value is not None:
            expected_bars[state[on_track]][label] = pct_of(lake_value, target)
    assert {name: bars for name, bars in traces.items() if name.startswith("湖仓值")} == expected_bars
    assert traces["规划2020年值"] == {r[0]: pct_of(r[1], r[2]) for r in rows}
    on_path = {r[0]: pct_of(r[4], r[2]) for r in rows if r[4] is not None}
    assert traces.get("当月轨迹值", {}) == on_path

    # the indicators the lake cannot compute are named on the chart, with the missing source
    layout = figures_json(server)["plan_indicators"]["layout"]
    notes = " ".join(a["text"] for a in layout["annotations"]).replace("<br>　", " ")  # lines wrapped for the panel
    missing = [r for r in rows if r[3] is None]
    assert missing, "the demo lake computes every indicator: the missing-source note is not exercised"
    for label, *_, missing_inputs in missing:
        assert f"{label}： {missing_inputs}" in notes

    # the green share's 2025 target, drawn on the green-share chart at the published value
    [(target,)] = share
    trend = figures_json(server)["green_share_trend"]["layout"]
    [line] = trend["shapes"]
    assert line["y0"] == line["y1"] == pytest.approx(float(target) / 100)
    assert "2025年目标" in trend["annotations"][0]["text"]


def test_supervision_breaches_show_the_published_breaches(lake, page):
    parsed, _, _ = page
    with reader(lake) as con:
        rows = published_rows(con, "marts.fct_supervision_breaches_monthly",
                              "SELECT report_month, coalesce(org_name, org_type) || ' · ' "
                              "|| split_part(ratio_name, ' (', 1), severity, months_in_breach FROM {mart}")
    label = {"minor": "轻度超限", "serious": "较重超限", "severe": "严重超限"}
    latest = max((r[0] for r in rows), default=None)
    expected: dict[str, dict] = defaultdict(dict)
    per_month: dict[str, int] = defaultdict(int)
    for month, name, severity, months in rows:
        per_month[f"{month:%Y-%m}"] += 1
        if month == latest:
            expected[label[severity]][name] = months
    shown = {t["name"]: dict(zip(t["y"], t["x"], strict=True)) for t in drawn(parsed, "supervision_breaches")}
    assert shown == expected

    totals: dict[str, int] = defaultdict(int)
    for trace in drawn(parsed, "supervision_breaches_by_month"):
        for month, n in zip(trace["x"], trace["y"], strict=True):
            totals[month] += n
    assert {m: n for m, n in totals.items() if n} == per_month
    if per_month:  # every month between the first and the last breach has a bar, 0 included
        assert list(totals) == sorted(totals) and len(totals) >= len(per_month)


def test_risk_panels_show_published_counts_and_no_firm(lake, server, page):
    parsed, _, dom = page
    with reader(lake) as con:
        watch = published_rows(con, "marts.fct_risk_watch_list_monthly",
                               "SELECT watch_status, risk_score FROM {mart} "
                               "WHERE report_month = (SELECT max(report_month) FROM {mart})")
        signals = published_rows(con, "marts.fct_enterprise_risk_signals_monthly",
                                 f"SELECT {', '.join(figures.RISK_SIGNALS)} FROM {{mart}} "
                                 "WHERE report_month = (SELECT max(report_month) FROM {mart})")
        firms = published_rows(con, "marts.fct_enterprise_risk_signals_monthly",
                               "SELECT credit_code, enterprise_name FROM {mart}")
        firms += published_rows(con, "marts.fct_risk_watch_list_monthly",
                                "SELECT credit_code, enterprise_name FROM {mart}")
    status_label = {"new": "新进入", "still": "持续在列", "left": "已移出"}
    expected: dict[str, dict[str, int]] = {label: defaultdict(int) for label in status_label.values()}
    for status, score in watch:
        band = "未评分" if score is None else figures.SCORE_BANDS[min(int(score // 10), 9)]
        expected[status_label[status]][band] += 1
    shown = {t["name"]: {b: n for b, n in zip(t["x"], t["y"], strict=True) if n}
             for t in drawn(parsed, "risk_watch_list")}
    assert shown == ({f"{label}（{sum(c.values())}家）": dict(c) for label, c in expected.items()} if watch else {})

    counts = {name: [0, 0] for name in figures.RISK_SIGNALS.values()}
    for row in signals:
        for column_value, name in zip(row, figures.RISK_SIGNALS.values(), strict=True):
            if column_value is None:
                counts[name][1] += 1
            elif column_value == 1:
                counts[name][0] += 1
    traces = {t["name"]: dict(zip(t["x"], t["y"], strict=True)) for t in drawn(parsed, "risk_signals")}
    if signals:
        assert traces["信号触发企业数"] == {name: c[0] for name, c in counts.items()}
        assert traces["缺数据无法判断"] == {name: c[1] for name, c in counts.items()}

    # aggregates only: no credit code and no name of any listed or scored firm, on the screen or in the data behind it
    assert firms, "the demo lake has no scored firm: the no-identification check is not exercised"
    served = json.dumps(figures_json(server), ensure_ascii=False)
    for code, name in firms:
        assert code not in dom and code not in served
        if name:
            assert name not in dom and name not in served
    assert dom.count(figures.AGGREGATES_ONLY) == 2  # each panel says why it shows counts only
