"""The web app: the trainee's pages and the JSON API, the one door in front of Rasa and the action server.

Storage happens here: the trainee's message is stored before Rasa is asked, so a failure downstream never
loses it; the in-flight guard turns a second message during a pending one into a clear 409.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import mimetypes
import random
from pathlib import Path
from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse, file
from sanic.response import json as json_response

from bot.practice import scenario_catalogue
from bot.reports import build_report
from bot.scenarios import get_scenario
from bot.store import Store
from bot.web.gateway import PatientUnavailable, RasaGateway
from bot.web.openapi import OPENAPI

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
MAX_MESSAGE_CHARS = 2000
MAX_NAME_CHARS = 80
_names = itertools.count()


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error(status: int, code: str, message: str) -> HTTPResponse:
    return json_response({"error": {"code": code, "message": message}}, status=status)


def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return data


def _clean_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ApiError(400, "invalid_field", "The message must be text.")
    text = value.replace("\x00", "").strip()
    if not text:
        raise ApiError(400, "empty_message", "Your message is empty. Type what you would say to the patient.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ApiError(
            400,
            "message_too_long",
            f"Your message has {len(text)} characters; the limit is {MAX_MESSAGE_CHARS}. "
            "Say it in shorter turns, as you would in clinic.",
        )
    return text


def _for_rasa(text: str) -> str:
    """Trainee text never reaches Rasa as a command: a leading '/' would be read as an intent payload."""
    return text.lstrip("/").strip() or text


def create_app(store: Store | None = None, gateway: RasaGateway | None = None, name: str | None = None) -> Sanic:
    app = Sanic(name or f"rapport_web_{next(_names)}")
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.store = store or Store()
    app.ctx.gateway = gateway or RasaGateway()

    @app.exception(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> HTTPResponse:
        return error(exc.status, exc.code, exc.message)

    @app.after_server_stop
    async def _close(app: Sanic, _loop: Any) -> None:
        await app.ctx.gateway.close()

    def session_or_404(session_id: str) -> dict[str, Any]:
        session = app.ctx.store.get_session(session_id)
        if session is None:
            raise ApiError(404, "unknown_session", "There is no practice session with that id.")
        return session

    def public_turn(turn: dict[str, Any], exam_mode: bool) -> dict[str, Any]:
        out = {k: v for k, v in turn.items() if k not in ("id", "pool", "nlu_intent")}
        if exam_mode:
            out["score"] = None
        return out

    def public_session(session: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in session.items() if k not in ("patient_state", "seed")}
        out["persona"] = (session.get("patient_state") or {}).get("persona") or None
        return out

    # -- API ------------------------------------------------------------------------------------------------
    @app.get("/api/health")
    async def health(request: Request) -> HTTPResponse:
        status = await app.ctx.gateway.healthy()
        return json_response({"status": "ok", **status})

    @app.get("/api/openapi.json")
    async def openapi(request: Request) -> HTTPResponse:
        return json_response(OPENAPI)

    @app.get("/api/scenarios")
    async def scenarios(request: Request) -> HTTPResponse:
        return json_response({"scenarios": scenario_catalogue()})

    @app.post("/api/sessions")
    async def create_session(request: Request) -> HTTPResponse:
        data = _body(request)
        name = data.get("display_name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "invalid_field", "Enter a display name so your sessions can be found again.")
        name = name.strip()[:MAX_NAME_CHARS]
        scenario_id = data.get("scenario_id")
        scenario = get_scenario(scenario_id) if isinstance(scenario_id, str) else None
        if scenario is None:
            raise ApiError(404, "unknown_scenario", f"There is no scenario called {scenario_id!r}.")
        difficulty = data.get("difficulty") or next(iter(scenario.difficulties))
        if difficulty not in scenario.difficulties:
            raise ApiError(400, "invalid_field", f"Difficulty must be one of: {', '.join(scenario.difficulties)}.")
        persona = data.get("persona") or scenario.persona_ids[0]
        if persona not in scenario.persona_ids:
            raise ApiError(400, "invalid_field", f"Persona must be one of: {', '.join(scenario.persona_ids)}.")
        seed = data.get("seed", random.randrange(1, 2**31))
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ApiError(400, "invalid_field", "The seed must be a whole number.")
        exam_mode = bool(data.get("exam_mode", False))
        store: Store = app.ctx.store
        session_id = store.create_session(
            name,
            {
                "id": scenario.id,
                "title": scenario.title,
                "theme": scenario.theme,
                "version": scenario.version,
            },
            difficulty,
            seed,
            exam_mode,
        )
        command = "/start_scenario" + json.dumps(
            {"scenario_id": scenario.id, "difficulty": difficulty, "persona": persona, "seed": seed}
        )
        try:
            payload = await app.ctx.gateway.send(session_id, command)
        except PatientUnavailable as exc:
            store.end_session(session_id, by="error")
            raise ApiError(
                503, "patient_unavailable", f"{exc} The session could not start; try again shortly."
            ) from exc
        if payload.get("type") != "patient_turn":
            store.end_session(session_id, by="error")
            raise ApiError(503, "patient_unavailable", payload.get("text") or "The patient could not start.")
        store.add_turn(session_id, "patient", payload["text"], pool=payload.get("pool"))
        store.save_patient_state(session_id, payload.get("state"))
        session = store.get_session(session_id) or {}
        turns = [public_turn(t, exam_mode) for t in store.turns(session_id)]
        return json_response({"session": public_session(session), "turns": turns}, status=201)

    @app.get("/api/sessions/<session_id:str>")
    async def get_session(request: Request, session_id: str) -> HTTPResponse:
        session = session_or_404(session_id)
        turns = [public_turn(t, session["exam_mode"]) for t in app.ctx.store.turns(session_id)]
        return json_response({"session": public_session(session), "turns": turns})

    @app.patch("/api/sessions/<session_id:str>")
    async def patch_session(request: Request, session_id: str) -> HTTPResponse:
        session_or_404(session_id)
        data = _body(request)
        if not isinstance(data.get("exam_mode"), bool):
            raise ApiError(400, "invalid_field", "exam_mode must be true or false.")
        app.ctx.store.set_exam_mode(session_id, data["exam_mode"])
        return json_response({"session": public_session(session_or_404(session_id))})

    @app.post("/api/sessions/<session_id:str>/messages")
    async def post_message(request: Request, session_id: str) -> HTTPResponse:
        text = _clean_text(_body(request).get("text"))
        store: Store = app.ctx.store
        session, trainee = await asyncio.to_thread(store.begin_turn, session_id, text)
        if session is None:
            raise ApiError(404, "unknown_session", "There is no practice session with that id.")
        if session["status"] != "active":
            raise ApiError(409, "session_ended", "This session has ended. Open the report, or start a new one.")
        if trainee is None:
            raise ApiError(
                409,
                "message_in_flight",
                "The patient is still answering your last message. Wait for the reply, then send this.",
            )
        try:
            return await _exchange(session, trainee, text)
        except BaseException:
            await asyncio.to_thread(store.release, session_id)  # finish_turn did not run: free the session
            raise

    async def _exchange(session: dict[str, Any], trainee: dict[str, Any], text: str) -> HTTPResponse:
        store: Store = app.ctx.store
        sid = session["id"]
        try:
            payload = await app.ctx.gateway.send(sid, _for_rasa(text))
        except PatientUnavailable as exc:
            await asyncio.to_thread(store.finish_turn, sid, trainee["id"], "unanswered")
            raise ApiError(
                503,
                "patient_unavailable",
                f"{exc} Your message is saved but was not answered; send it again in a moment.",
            ) from exc
        kind = payload.get("type")
        if kind == "patient_turn":
            saved, reply, current = await asyncio.to_thread(
                store.finish_turn,
                sid,
                trainee["id"],
                "answered",
                score=payload.get("score"),
                nlu_intent=payload.get("nlu_intent"),
                reply=("patient", payload["text"], payload.get("pool")),
                state=payload.get("state"),
                ended_by="patient" if payload.get("ended") else None,
            )
        else:
            saved, reply, current = await asyncio.to_thread(
                store.finish_turn,
                sid,
                trainee["id"],
                "command",
                reply=("system", payload.get("text", ""), None),
                ended_by="trainee" if kind == "end" else None,
            )
        exam = session["exam_mode"]
        notice = None
        if kind == "patient_turn" and payload.get("notice"):  # guard: the patient stayed in role; tell the trainee why
            notice = await asyncio.to_thread(store.add_turn, sid, "system", str(payload["notice"]))
        system_turn = public_turn(reply, False) if reply and kind != "patient_turn" else None
        return json_response(
            {
                "trainee_turn": public_turn(saved, exam),
                "patient_turn": public_turn(reply, exam) if reply and kind == "patient_turn" else None,
                "system_turn": public_turn(notice, False) if notice else system_turn,
                "session": public_session(current),
            }
        )

    @app.post("/api/sessions/<session_id:str>/end")
    async def end_session(request: Request, session_id: str) -> HTTPResponse:
        session_or_404(session_id)
        app.ctx.store.end_session(session_id, by="trainee")
        return json_response({"report": _report(session_id)})

    @app.get("/api/sessions/<session_id:str>/report")
    async def report(request: Request, session_id: str) -> HTTPResponse:
        session_or_404(session_id)
        return json_response({"report": _report(session_id)})

    def _report(session_id: str) -> dict[str, Any]:
        session = session_or_404(session_id)
        return build_report(session, app.ctx.store.turns(session_id))

    # -- pages and assets (all local: no CDN) ---------------------------------------------------------------
    @app.get("/")
    async def index(request: Request) -> HTTPResponse:
        return await file(STATIC_DIR / "index.html", mime_type="text/html; charset=utf-8")

    @app.get("/<name:path>")
    async def asset(request: Request, name: str) -> HTTPResponse:
        path = (STATIC_DIR / name).resolve()
        if STATIC_DIR.resolve() not in path.parents or not path.is_file():
            return error(404, "not_found", "No such page.")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if mime.startswith("text/") or mime.endswith("javascript"):
            mime += "; charset=utf-8"
        return await file(path, mime_type=mime)

    return app
