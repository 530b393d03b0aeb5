"""The sessions API (``/api/sessions...``): a thin adapter from HTTP to ``bot.turns.TurnService``."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.turns import TurnResult, TurnService
from bot.web.errors import json_body

bp = Blueprint("sessions", url_prefix="/api/sessions")

IDEMPOTENCY_HEADER = "Idempotency-Key"
_HIDDEN_TURN_FIELDS = ("id", "pool", "nlu_intent", "reply_to")


def turns_of(request: Request) -> TurnService:
    service: TurnService = request.app.ctx.turns
    return service


def public_turn(turn: dict[str, Any], exam_mode: bool) -> dict[str, Any]:
    out = {k: v for k, v in turn.items() if k not in _HIDDEN_TURN_FIELDS}
    if exam_mode:
        out["score"] = None
    return out


def public_session(session: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in session.items() if k not in ("patient_state", "seed")}
    out["persona"] = (session.get("patient_state") or {}).get("persona") or None
    return out


def exchange(result: TurnResult) -> dict[str, Any]:
    exam = result.session["exam_mode"]
    return {
        "trainee_turn": public_turn(result.trainee_turn, exam),
        "patient_turn": public_turn(result.patient_turn, exam) if result.patient_turn else None,
        "system_turn": public_turn(result.system_turn, False) if result.system_turn else None,
        "session": public_session(result.session),
        "replayed": result.replayed,
    }


@bp.post("")
async def create_session(request: Request) -> HTTPResponse:
    data = json_body(request)
    session, turns = await turns_of(request).start_session(
        data.get("display_name"),
        data.get("scenario_id"),
        difficulty=data.get("difficulty"),
        persona=data.get("persona"),
        seed=data.get("seed"),
        exam_mode=data.get("exam_mode", False),
    )
    body = {"session": public_session(session), "turns": [public_turn(t, session["exam_mode"]) for t in turns]}
    return json_response(body, status=201)


@bp.get("/<session_id:str>")
async def get_session(request: Request, session_id: str) -> HTTPResponse:
    session, turns = await turns_of(request).turns(session_id)
    public = [public_turn(t, session["exam_mode"]) for t in turns]
    return json_response({"session": public_session(session), "turns": public})


@bp.patch("/<session_id:str>")
async def patch_session(request: Request, session_id: str) -> HTTPResponse:
    session = await turns_of(request).set_exam_mode(session_id, json_body(request).get("exam_mode"))
    return json_response({"session": public_session(session)})


def idempotency_key(request: Request, data: dict[str, Any]) -> Any:
    """The header wins; the body field is for clients that cannot set headers."""
    return request.headers.get(IDEMPOTENCY_HEADER, data.get("idempotency_key"))


@bp.post("/<session_id:str>/messages")
async def post_message(request: Request, session_id: str) -> HTTPResponse:
    data = json_body(request)
    result = await turns_of(request).send(session_id, data.get("text"), idempotency_key(request, data))
    return json_response(exchange(result))


@bp.post("/<session_id:str>/commands")
async def post_command(request: Request, session_id: str) -> HTTPResponse:
    data = json_body(request)
    result = await turns_of(request).command(session_id, data.get("command"), idempotency_key(request, data))
    return json_response(exchange(result))


@bp.post("/<session_id:str>/end")
async def end_session(request: Request, session_id: str) -> HTTPResponse:
    return json_response({"report": await turns_of(request).end(session_id)})


@bp.get("/<session_id:str>/report")
async def report(request: Request, session_id: str) -> HTTPResponse:
    return json_response({"report": await turns_of(request).report(session_id)})
