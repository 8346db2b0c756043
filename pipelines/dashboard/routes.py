"""The one screen over HTTP: the page at ``/``, its figures at ``/dashboard/figures.json`` and its static files.

Nothing is fetched from outside the server: Plotly is served from the installed ``plotly`` package, and the
Content-Security-Policy lets the page load scripts, styles and data from this origin only.
"""

from __future__ import annotations

import importlib.resources
import logging

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from pipelines.dashboard import figures, plotly_css
from pipelines.lake.connection import LakeMissing

log = logging.getLogger(__name__)

STATIC = importlib.resources.files("pipelines.dashboard") / "static"
PLOTLY_JS = plotly_css.PLOTLY_JS

# 'self' only, and nothing inline: Plotly's base rules come as a stylesheet (plotly_css) and it styles its SVG
# through the CSSOM, which CSP allows; the charts avoid the traces that set style attributes (heatmaps).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer"}

# The files the page may load, by the name it asks for (a fixed map: no path from the request reaches the disk).
STATIC_FILES = {
    "dashboard.js": (STATIC / "dashboard.js", "text/javascript; charset=utf-8"),
    "dashboard.css": (STATIC / "dashboard.css", "text/css; charset=utf-8"),
    "plotly.min.js": (PLOTLY_JS, "text/javascript; charset=utf-8"),
}

# Plotly's stylesheets, taken from the Plotly that is served (see plotly_css).
GENERATED_CSS = {"plotly-base.css": plotly_css.base_stylesheet, "plotly-maps.css": plotly_css.maps_stylesheet}

router = APIRouter(tags=["dashboard"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def page() -> HTMLResponse:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(html.replace("{{plotly_maps_style_id}}", plotly_css.maps_style_id()), headers=SECURITY_HEADERS)


@router.get("/dashboard/figures.json", summary="一屏通览的图表数据（来自已发布数据集）")
async def figures_json(request: Request) -> JSONResponse:
    """Every figure of the screen with the publication (dataset, version, snapshot, time) it was read from."""
    headers = SECURITY_HEADERS | {"Cache-Control": "no-store"}
    # the lake the app was created for (create_app(settings)); the environment's when mounted on a bare app
    settings = getattr(request.app.state, "settings", None)
    try:
        body = await run_in_threadpool(figures.compute_all, settings)  # DuckDB blocks: keep the event loop free
    except LakeMissing as exc:
        return JSONResponse({"error": "lake_missing", "message": f"数据湖尚未建立：{exc}"}, 503, headers=headers)
    return JSONResponse(body, headers=headers)


@router.get("/static/{name}", include_in_schema=False)
def static_file(name: str) -> Response:
    if name in GENERATED_CSS:
        return Response(GENERATED_CSS[name](), media_type="text/css; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})
    if name not in STATIC_FILES:
        return JSONResponse({"error": "not_found", "message": f"no static file {name!r}"}, 404)
    resource, media_type = STATIC_FILES[name]
    with importlib.resources.as_file(resource) as path:
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})
