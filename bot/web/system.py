"""Health, the OpenAPI document and the scenario catalogue."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.practice import scenario_catalogue
from bot.web.openapi import OPENAPI

bp = Blueprint("system", url_prefix="/api")


@bp.get("/health")
async def health(request: Request) -> HTTPResponse:
    status = await request.app.ctx.turns.gateway.healthy()
    return json_response({"status": "ok", **status})


@bp.get("/openapi.json")
async def openapi(request: Request) -> HTTPResponse:
    return json_response(OPENAPI)


@bp.get("/scenarios")
async def scenarios(request: Request) -> HTTPResponse:
    return json_response({"scenarios": scenario_catalogue()})
