"""Every error response, from every route and from Sanic itself, in the one documented shape:
``{"error": {"code": "...", "message": "..."}}`` with the HTTP status (docs/api.md)."""

from __future__ import annotations

import json
import logging
from typing import Any

from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.turns import TurnError

log = logging.getLogger(__name__)

# Codes for the errors Sanic raises itself (unknown route, wrong method, body too large, ...).
_SANIC_CODES = {
    400: ("bad_request", "The request could not be read."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    408: ("request_timeout", "The request took too long to arrive."),
    413: ("payload_too_large", "The request body is too large."),
    416: ("range_not_satisfiable", "The requested range cannot be served."),
    503: ("service_unavailable", "The service is not available right now; try again shortly."),
}


def error(status: int, code: str, message: str) -> HTTPResponse:
    return json_response({"error": {"code": code, "message": message}}, status=status)


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; a ``TurnError`` 400 when the body is not one."""
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise TurnError(400, "invalid_json", "The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise TurnError(400, "invalid_json", "The request body must be a JSON object.")
    return data


def install(app: Sanic) -> None:
    @app.exception(TurnError)
    async def _turn_error(request: Request, exc: TurnError) -> HTTPResponse:
        return error(exc.status, exc.code, exc.message)

    @app.exception(SanicException)
    async def _sanic_error(request: Request, exc: SanicException) -> HTTPResponse:
        status = int(getattr(exc, "status_code", 500) or 500)
        code, message = _SANIC_CODES.get(status, ("http_error", "The request failed."))
        return error(status, code, message)

    @app.exception(OperationalError, DBAPIError)
    async def _database_down(request: Request, exc: Exception) -> HTTPResponse:
        log.error("Database error on %s %s: %s", request.method, request.path, exc)
        return error(503, "database_unavailable", "The database is not reachable right now; try again shortly.")

    @app.exception(Exception)
    async def _unexpected(request: Request, exc: Exception) -> HTTPResponse:
        log.exception("Unexpected error on %s %s", request.method, request.path)
        return error(
            500,
            "internal_error",
            "Something went wrong on our side. Reload the session to see what was saved, then try again.",
        )
