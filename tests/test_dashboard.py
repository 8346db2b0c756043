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
def lake(tmp_path_factory):
    """Two demo months of every source through the whole pipeline: ingest, dbt, checks, publication, catalog."""
    root = tmp_path_factory.mktemp("lake")
    from conftest import LOCATION_VARS

    with pytest.MonkeyPatch.context() as mp:
        for var in LOCATION_VARS:  # never the developer's own lake
            mp.delenv(var, raising=False)
        mp.setenv("LAKEHOUSE_ROOT", str(root))
        (root / "dagster").mkdir()
        mp.setenv("DAGSTER_HOME", str(root / "dagster"))
        mp.setenv("LAKEHOUSE_OPENLINEAGE_FILE", str(root / "openlineage.jsonl"))
        from pipelines import run
        from pipelines import settings as settings_module
        from pipelines.demo.sources import generate_all

        settings = settings_module.load()
        generate_all(settings.landing, scale=0.002, seed=7, months=["2020-11", "2020-12"])
        assert run.main([]) == 0
        yield settings


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
    if CHROMIUM is None:
        pytest.skip("Chromium not found (Debian: apt-get install -y chromium); the browser test cannot run")
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
