"""The FastAPI application: published marts for application teams, over ``/api/v1``.

Read-only by construction: every lake access is a read-only session (the lake attached READ_ONLY, as ``reader()``
opens it), kept in a small pool; such a session sees every publication committed after it attached. Interactive
docs (``/docs``, ``/redoc``) are off: FastAPI's pages load Swagger UI and ReDoc from a CDN, which the reform zone's
network cannot reach; the OpenAPI document itself is at ``/openapi.json`` for tools (code generators,
schemathesis, Postman). ``/``, ``/dashboard``, ``/static`` (the one screen) and ``/data-docs`` are mounted beside.
"""

import datetime as dt
import json
import logging
import queue
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Literal

import duckdb
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipelines import settings as settings_module
from pipelines.api import catalog, formats, rows
from pipelines.api.access import AccessControl, Caller
from pipelines.api.audit import AuditLog, Entry, audit_path
from pipelines.api.errors import (
    ApiError,
    api_error_handler,
    bad_request,
    http_error_handler,
    internal_error,
    validation_error_handler,
)
from pipelines.lake import connection, publications
from pipelines.lake.publications import NotPublished, Publication
from pipelines.settings import Settings

log = logging.getLogger("lakehouse.api")
PREFIX = "/api/v1"
MAX_AUDIT_ROWS = 1000

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key from api_access.yml")
bearer = HTTPBearer(auto_error=False, description="the same API key as a bearer token")


class ReaderPool:
    """Read-only lake sessions kept between requests: attaching the lake costs about half a second, and a
    READ_ONLY DuckLake session sees every snapshot committed after it attached, so reuse serves fresh data.
    A session serves one request at a time; one that failed in DuckDB is closed, not reused."""

    def __init__(self, settings: Settings, keep: int = 4):
        self.settings, self.keep = settings, keep
        self._idle: queue.LifoQueue[duckdb.DuckDBPyConnection] = queue.LifoQueue()

    def take(self) -> duckdb.DuckDBPyConnection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return connection.connect(self.settings, read_only=True)  # what reader() opens: READ_ONLY

    def give_back(self, con: duckdb.DuckDBPyConnection, healthy: bool) -> None:
        if healthy and self._idle.qsize() < self.keep:
            self._idle.put(con)
        else:
            con.close()

    def close(self) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().close()


def closing(pool: ReaderPool):
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        pool.close()
    return lifespan


def publication_doc(pub: Publication) -> dict:
    try:  # the publisher records the check results as a JSON object
        checks = json.loads(pub.checks) if pub.checks else None
    except ValueError:
        checks = pub.checks
    return {"version": pub.version, "snapshot_id": pub.snapshot_id, "published_at": pub.published_at,
            "row_count": pub.row_count, "checks": checks}


def create_app(settings: Settings | None = None, access_path: str | None = None) -> FastAPI:
    settings = settings or settings_module.load()
    access = AccessControl.load(access_path)
    audit = AuditLog(audit_path(settings))
    pool = ReaderPool(settings)

    app = FastAPI(
        title="Huzhou green-finance lakehouse: data API",
        version="1",
        description="Validated, published marts of the lakehouse (湖州绿色金融改革创新试验区), read-only. "
                    "Authenticate with `X-API-Key: <key>` (or `Authorization: Bearer <key>`). Columns above "
                    "the key's clearance (JR/T 0197 L1-L5; JR/T 0171 C1-C3) are masked.",
        docs_url=None, redoc_url=None, openapi_url="/openapi.json", lifespan=closing(pool),
    )
    app.state.settings, app.state.access, app.state.audit = settings, access, audit
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)

    @app.middleware("http")
    async def audit_and_catch_all(request: Request, call_next):
        """Audits every request under /api/ and turns any unexpected failure into a bare JSON 500."""
        started, at = time.perf_counter(), dt.datetime.now(dt.UTC)
        request.state.audit = {}
        try:
            response = await call_next(request)
        except Exception:  # the catch-all: the trace goes to the server log, not to the client
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            response = internal_error()
        if request.url.path.startswith("/api/"):
            caller: Caller | None = getattr(request.state, "caller", None)
            info = request.state.audit
            try:
                audit.record(Entry(at=at, method=request.method, path=request.url.path, status=response.status_code,
                                   duration_ms=(time.perf_counter() - started) * 1000,
                                   key_id=caller.key_id if caller else None,
                                   role=caller.role.name if caller else None, dataset=info.get("dataset"),
                                   filters=info.get("query"), rows_returned=info.get("rows"),
                                   client=request.client.host if request.client else None))
            except Exception:  # losing one audit row must be loud in the log, not fail the reply
                log.exception("could not write the audit row")
        return response

    def caller(request: Request, key: Annotated[str | None, Depends(api_key_header)],
               token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
        who = access.authenticate(key or (token.credentials if token else None))
        request.state.caller = who
        return who

    Who = Annotated[Caller, Depends(caller)]

    def admin(who: Who) -> Caller:
        if not who.role.admin:
            raise ApiError(403, "admin_only", f"role {who.role.name} cannot read the audit")
        return who

    def lake() -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            con = pool.take()
        except (connection.LakeMissing, duckdb.Error) as exc:
            log.warning("lake not reachable: %s", exc)
            raise ApiError(503, "lake_unavailable", "the lake is not reachable right now") from None
        healthy = False
        try:
            yield con
            healthy = True
        except ApiError:  # the request was refused; the session is fine
            healthy = True
            raise
        finally:
            pool.give_back(con, healthy)

    Lake = Annotated[duckdb.DuckDBPyConnection, Depends(lake)]

    # -------------------------------------------------------------------------------------------- health

    @app.get(f"{PREFIX}/health", tags=["service"], summary="Lake reachable? When was the catalog built?")
    def health() -> JSONResponse:
        try:
            con = pool.take()
            try:
                snapshot = connection.current_snapshot(con)
                built_at = catalog.catalog_built_at(con)
                served = len(catalog.published(con))
            except BaseException:
                pool.give_back(con, healthy=False)
                raise
            pool.give_back(con, healthy=True)
        except (connection.LakeMissing, duckdb.Error) as exc:
            log.warning("health: lake not reachable: %s", exc)
            return JSONResponse({"status": "unavailable", "lake": "unreachable"}, status_code=503)
        return JSONResponse(formats.plain({"status": "ok", "lake": "reachable", "snapshot_id": snapshot,
                                           "catalog_built_at": built_at, "published_datasets": served}))

    # ------------------------------------------------------------------------------------------ datasets

    @app.get(f"{PREFIX}/datasets", tags=["datasets"], summary="The published marts")
    def list_datasets(request: Request, who: Who, con: Lake) -> JSONResponse:
        entries = catalog.entries(con)
        items = []
        for name, pub in sorted(catalog.published(con).items()):
            entry = entries.get(name, {})
            items.append({"dataset": name, "description": entry.get("description"), "owner": entry.get("owner"),
                          "domain": entry.get("domain"), "latest_publication": publication_doc(pub),
                          **catalog.check_status(con, pub.dataset)})
        request.state.audit["rows"] = len(items)
        return JSONResponse(formats.plain({"datasets": items, "role": who.role.name}))

    @app.get(f"{PREFIX}/datasets/{{dataset}}", tags=["datasets"],
             summary="A mart's catalog entry, its columns as the caller sees them, its publications")
    def dataset_entry(dataset: str, request: Request, who: Who, con: Lake) -> JSONResponse:
        request.state.audit["dataset"] = dataset
        qualified = catalog.require_published(con, dataset)
        history = publications.history(con, qualified)
        entry = catalog.entries(con).get(dataset, {})
        cols = [{"name": c.name, "type": c.data_type, "description": c.description,
                 "classification": c.classification, "personal_information": c.personal_information,
                 "effective_level": c.level_label, "access": "clear" if c.in_clear_for(who.role) else "masked",
                 "masking": None if c.in_clear_for(who.role) else c.masking()}
                for c in catalog.columns(con, history[0])]
        scope = rows.scope_of(who.role, [c for c in catalog.columns(con, history[0])])
        return JSONResponse(formats.plain({
            "dataset": dataset, "relation": qualified, **entry, **catalog.check_status(con, qualified),
            "role": who.role.name, "clearance": who.role.clearance_label, "row_scope": scope,
            "columns": cols, "publications": [publication_doc(p) for p in history]}))

    # ---------------------------------------------------------------------------------------------- rows

    @app.get(f"{PREFIX}/datasets/{{dataset}}/rows", tags=["datasets"], summary="Rows of a published mart",
             responses={200: {"description": "One page of rows; the publication read is in the body (JSON) "
                                             "and the Lakehouse-* headers (every format)",
                              "content": {media.split(";")[0]: {} for media in formats.MEDIA_TYPES.values()}}})
    def dataset_rows(
        dataset: str, request: Request, who: Who, con: Lake,
        columns: Annotated[str | None, Query(description="comma-separated columns to return (default: all)")] = None,
        filter: Annotated[list[str], Query(description="column:op:value, repeatable; ops eq ne lt le gt ge like in "
                                                       "(in: values separated by ',')")] = (),
        sort: Annotated[str | None, Query(description="comma-separated columns, '-' for descending, e.g. a,-b")] = None,
        limit: Annotated[int, Query(description=f"rows per page, at most {rows.MAX_LIMIT}")] = rows.DEFAULT_LIMIT,
        cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
        version: Annotated[int | None, Query(ge=1, description="a publication version")] = None,
        as_of: Annotated[dt.date | None,
                         Query(description="the latest publication on or before this day (UTC)")] = None,
        format: Annotated[Literal["json", "csv", "arrow", "parquet"] | None,
                          Query(description="overrides the Accept header")] = None,
    ) -> Response:
        request.state.audit.update(dataset=dataset, query={
            k: v for k, v in {"columns": columns, "filter": list(filter) or None, "sort": sort, "version": version,
                              "as_of": as_of and as_of.isoformat(), "limit": limit}.items() if v is not None})
        fmt = formats.negotiate(format, request.headers.get("accept"))
        qualified = catalog.require_published(con, dataset)
        limit = rows.parse_limit(limit)
        pin = {"version": version, "as_of": as_of and as_of.isoformat()}
        try:
            latest = publications.resolve(con, qualified, version=version, as_of=as_of)
        except NotPublished as exc:
            raise ApiError(404, "not_published", str(exc), dataset=dataset) from None
        all_columns = catalog.columns(con, latest)
        by_name = {c.name: c for c in all_columns}
        query = rows.RowsQuery(columns=rows.parse_columns(columns, by_name, dataset),
                               filters=[rows.parse_filter(f, by_name, who.role, dataset) for f in filter],
                               sort=rows.parse_sort(sort, by_name, who.role, dataset), limit=limit)
        mark = rows.fingerprint(dataset, query, pin, who.role)
        publication = latest
        if cursor:
            pinned_version, query.offset = rows.decode_cursor(cursor, mark)
            if pinned_version != latest.version:  # the pages of one answer all read the publication it began on
                try:
                    publication = publications.resolve(con, qualified, version=pinned_version)
                except NotPublished:
                    raise bad_request("bad_cursor", "the cursor names a publication that does not exist") from None
                all_columns = catalog.columns(con, publication)
                if [c.name for c in all_columns] != list(by_name):
                    raise bad_request("bad_cursor", "the cursor's publication has other columns; start again")
        sql, params = rows.build_sql(publication.relation(), all_columns, query, who.role)
        table = connection.retry_transient(lambda: con.execute(sql, params).arrow().read_all())
        more = table.num_rows > limit
        table = table.slice(0, limit)
        next_cursor = rows.encode_cursor(publication.version, query.offset + limit, mark) if more else None
        request.state.audit["rows"] = table.num_rows
        return render(fmt, dataset, publication, query, who, all_columns, table, next_cursor)

    def render(fmt, dataset, publication, query, who, all_columns, table, next_cursor) -> Response:
        masked = [c.name for c in query.columns if not c.in_clear_for(who.role)]
        headers = {"Lakehouse-Dataset": dataset, "Lakehouse-Publication-Version": str(publication.version),
                   "Lakehouse-Snapshot-Id": str(publication.snapshot_id),
                   "Lakehouse-Published-At": publication.published_at.isoformat(),
                   "Lakehouse-Masked-Columns": ",".join(masked)}
        if next_cursor:
            headers["Lakehouse-Next-Cursor"] = next_cursor
        if fmt == "json":
            return JSONResponse(formats.plain({
                "dataset": dataset, "publication": publication_doc(publication), "role": who.role.name,
                "row_scope": rows.scope_of(who.role, all_columns),
                "columns": [{"name": c.name, "type": c.data_type, "access": "masked" if c.name in masked else "clear"}
                            for c in query.columns],
                "rows": formats.json_rows(table), "returned": table.num_rows, "next_cursor": next_cursor}),
                headers=headers)
        metadata = {"dataset": dataset, "publication_version": str(publication.version),
                    "snapshot_id": str(publication.snapshot_id), "published_at": publication.published_at.isoformat(),
                    "masked_columns": ",".join(masked), "next_cursor": next_cursor or ""}
        if fmt == "csv":
            content = formats.csv_bytes(table)
        elif fmt == "arrow":
            content = formats.arrow_bytes(table, metadata)
        else:
            content = formats.parquet_bytes(table, metadata)
        return Response(content, media_type=formats.MEDIA_TYPES[fmt], headers=headers)

    # --------------------------------------------------------------------------------------------- audit

    @app.get(f"{PREFIX}/audit", tags=["service"], summary="The request audit, newest first (admin keys only)")
    def read_audit(request: Request, who: Annotated[Caller, Depends(admin)],
                   limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_ROWS)] = 100, dataset: str | None = None,
                   key_id: str | None = None, since: dt.datetime | None = None) -> JSONResponse:
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        entries = audit.read(limit=limit, dataset=dataset, key_id=key_id, since=since)
        request.state.audit["rows"] = len(entries)
        return JSONResponse({"entries": entries})

    @app.get(PREFIX, include_in_schema=False)
    def index() -> JSONResponse:
        return JSONResponse({"openapi": "/openapi.json", "health": f"{PREFIX}/health",
                             "datasets": f"{PREFIX}/datasets"})

    mount_screen(app, settings)
    return app


# Great Expectations' pages link styles and a logo on CDNs (with a tracking query string): with the network
# unreachable they render unstyled, and this policy keeps them from calling out where it is reachable.
DATA_DOCS_CSP = ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
                 "script-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def mount_screen(app: FastAPI, settings: Settings) -> None:
    """The one screen at ``/`` and the Data Docs of the validated marts at ``/data-docs/``, beside the API."""
    from fastapi.staticfiles import StaticFiles

    from pipelines.dashboard.routes import router as dashboard
    from pipelines.quality.expectations import data_docs_dir

    app.include_router(dashboard)
    app.mount("/data-docs", StaticFiles(directory=data_docs_dir(settings), html=True, check_dir=False),
              name="data-docs")

    @app.middleware("http")
    async def data_docs_policy(request: Request, call_next):
        response = await call_next(request)
        if request.url.path.startswith("/data-docs"):
            response.headers["Content-Security-Policy"] = DATA_DOCS_CSP
        return response

