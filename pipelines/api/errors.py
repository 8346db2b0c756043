"""Errors as JSON that names what is wrong, never a stack trace."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """A request the API refuses: ``code`` is stable for programs, ``message`` is for people."""

    def __init__(self, status: int, code: str, message: str, **detail: object):
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail


def bad_request(code: str, message: str, **detail: object) -> ApiError:
    return ApiError(400, code, message, **detail)


def body(code: str, message: str, **detail: object) -> dict:
    return {"error": {"code": code, "message": message, **detail}}


def error_response(status: int, code: str, message: str, headers: dict | None = None, **detail: object):
    return JSONResponse(body(code, message, **detail), status_code=status, headers=headers)


async def api_error_handler(_request: Request, exc: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'} if exc.status == 401 else None
    return error_response(exc.status, exc.code, exc.message, headers=headers, **exc.detail)


async def validation_error_handler(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's parameter validation, as a 400 that names each parameter and what it should be."""
    problems = [{"parameter": ".".join(str(p) for p in err.get("loc", ())[1:]) or str(err.get("loc")),
                 "problem": err.get("msg", "invalid")} for err in exc.errors()]
    names = ", ".join(p["parameter"] for p in problems)
    return error_response(400, "invalid_parameter", f"invalid parameter: {names}", problems=problems)


async def http_error_handler(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's own (404 for an unknown path, 405 for a wrong method) in the same shape."""
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))


def internal_error() -> JSONResponse:
    """The catch-all: nothing of the failure leaves the server (it goes to the server's log)."""
    return error_response(500, "internal_error", "internal server error; the request was logged")
