"""The one turn path: every way in (web pages, the JSON API, later Slack and the load tool) calls this.

A turn, end to end:
1. the text is normalised (``bot.text``) and checked;
2. one transaction stores it as a pending trainee turn and takes the session's in-flight guard, or finds the
   turn its idempotency key already names (``Store.begin_turn``);
3. the gateway asks the patient (Rasa, then our action server);
4. one transaction stores the patient's answer, any app notice and the score, and frees the guard; on a
   timeout or any failure the turn is marked unanswered and the guard freed, also in one transaction.

Step 3 and 4 run shielded from the caller: a client that disconnects or gives up does not cut a turn in
half; its retry with the same key gets the stored result. Every refusal is a ``TurnError`` with an HTTP
status, a stable code and a message a trainee can act on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import uuid
from dataclasses import dataclass
from typing import Any

from bot.gateway import PatientUnavailable, RasaGateway
from bot.reports import build_report
from bot.scenarios import get_scenario
from bot.store import Store
from bot.store.repository import Begin, GuardLost
from bot.text import for_rasa, normalise

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
MAX_NAME_CHARS = 80
MAX_SEED = 2**31 - 1  # the seed column is a 32-bit integer on PostgreSQL
KEY_PATTERN = re.compile(r"[A-Za-z0-9._:\-]{8,100}")
# App commands (answered by the app, out of role) and the Rasa payload each becomes. A trainee reaches them
# with the page's buttons (POST .../commands) or by typing exactly "/hint" or "/help"; any other text, however
# much it sounds like a command ("shall we stop there?"), goes to the patient.
COMMANDS = {"hint": "/ask_hint", "help": "/ask_help"}


class TurnError(Exception):
    """A refused request: ``status`` (HTTP), ``code`` (stable, documented in docs/api.md) and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class TurnResult:
    """One exchange as stored: the trainee turn, the patient's answer or the app's reply, and the session."""

    trainee_turn: dict[str, Any]
    patient_turn: dict[str, Any] | None
    system_turn: dict[str, Any] | None
    session: dict[str, Any]
    replayed: bool = False


def clean_message(value: Any) -> str:
    """A trainee message in its stored form; raises ``TurnError`` 400 when it is not text, empty or too long."""
    if not isinstance(value, str):
        raise TurnError(400, "invalid_field", "The message must be text.")
    text = normalise(value)
    if not for_rasa(text):
        raise TurnError(400, "empty_message", "Your message is empty. Type what you would say to the patient.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise TurnError(
            400,
            "message_too_long",
            f"Your message has {len(text)} characters; the limit is {MAX_MESSAGE_CHARS}. "
            "Say it in shorter turns, as you would in clinic.",
        )
    return text


def clean_name(value: Any) -> str:
    if not isinstance(value, str) or not normalise(value):
        raise TurnError(400, "invalid_field", "Enter a display name so your sessions can be found again.")
    return normalise(value).replace("\n", " ")[:MAX_NAME_CHARS]


def clean_key(value: Any) -> str:
    """An idempotency key: 8-100 characters of letters, digits and ``._:-`` (a UUID fits); a fresh one if None."""
    if value is None:
        return uuid.uuid4().hex
    if not isinstance(value, str) or not KEY_PATTERN.fullmatch(value):
        raise TurnError(
            400,
            "invalid_idempotency_key",
            "The idempotency key must be 8 to 100 letters, digits or . _ : - (a UUID is ideal).",
        )
    return value


class TurnService:
    """Sessions and turns over a ``Store`` and a ``RasaGateway``; adapters call this and render the result."""

    def __init__(self, store: Store, gateway: RasaGateway) -> None:
        self.store = store
        self.gateway = gateway
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- sessions -------------------------------------------------------------------------------------------
    async def start_session(
        self,
        display_name: Any,
        scenario_id: Any,
        difficulty: Any = None,
        persona: Any = None,
        seed: Any = None,
        exam_mode: Any = False,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Create a session and get the patient's opening line. Returns (session, turns)."""
        name = clean_name(display_name)
        scenario = get_scenario(scenario_id) if isinstance(scenario_id, str) else None
        if scenario is None:
            raise TurnError(404, "unknown_scenario", f"There is no scenario called {scenario_id!r}.")
        difficulty = _choice(difficulty, scenario.difficulties, "Difficulty")
        persona = _choice(persona, scenario.persona_ids, "Persona")
        if seed is None:
            seed = random.randrange(1, MAX_SEED)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise TurnError(400, "invalid_field", f"The seed must be a whole number from 0 to {MAX_SEED}.")
        if not isinstance(exam_mode, bool):
            raise TurnError(400, "invalid_field", "exam_mode must be true or false.")
        listing = {"id": scenario.id, "title": scenario.title, "theme": scenario.theme, "version": scenario.version}
        session_id = await asyncio.to_thread(self.store.create_session, name, listing, difficulty, seed, exam_mode)
        command = "/start_scenario" + json.dumps(
            {"scenario_id": scenario.id, "difficulty": difficulty, "persona": persona, "seed": seed}
        )
        try:
            payload = await self.gateway.send(session_id, command)
            if payload.get("type") != "patient_turn":
                raise PatientUnavailable(str(payload.get("text") or "The patient could not start."))
        except PatientUnavailable as exc:
            await asyncio.to_thread(self.store.end_session, session_id, "error")
            message = f"{exc} The session could not start; try again shortly."
            raise TurnError(503, "patient_unavailable", message) from exc
        await asyncio.to_thread(
            self.store.open_session, session_id, str(payload["text"]), payload.get("pool"), payload.get("state")
        )
        return await self.session(session_id), await asyncio.to_thread(self.store.turns, session_id)

    def recover(self) -> int:
        """At start-up: free what a crashed run of this instance left in flight (``Store.recover``)."""
        freed = self.store.recover()
        if freed:
            log.warning("Freed %d session(s) left in flight by a previous run; their turns are unanswered", freed)
        return freed

    async def session(self, session_id: str) -> dict[str, Any]:
        return await asyncio.to_thread(self._session, session_id)

    async def turns(self, session_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        session = await self.session(session_id)
        return session, await asyncio.to_thread(self.store.turns, session_id)

    def _session(self, session_id: str) -> dict[str, Any]:
        session = self.store.get_session(session_id)
        if session is None:
            raise TurnError(404, "unknown_session", "There is no practice session with that id.")
        return session

    async def set_exam_mode(self, session_id: str, exam_mode: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self._set_exam_mode, session_id, exam_mode)

    def _set_exam_mode(self, session_id: str, exam_mode: Any) -> dict[str, Any]:
        """Exam mode can be switched on while a session runs, never off: once on, scores stay hidden until the
        session ends (else switching it off would reveal them)."""
        if not isinstance(exam_mode, bool):
            raise TurnError(400, "invalid_field", "exam_mode must be true or false.")
        session = self._session(session_id)
        if session["status"] != "active":
            raise TurnError(409, "session_ended", "This session has ended; its settings can no longer change.")
        if session["exam_mode"] and not exam_mode:
            raise TurnError(409, "exam_mode_locked", "Exam mode stays on until the session ends.")
        self.store.set_exam_mode(session_id, exam_mode)
        return self._session(session_id)

    async def end(self, session_id: str) -> dict[str, Any]:
        return await asyncio.to_thread(self._end, session_id)

    def _end(self, session_id: str) -> dict[str, Any]:
        """End the session and return its report; refused while a message is being answered, so the report
        returned is the one an educator reads later (no reply lands after the end)."""
        self._session(session_id)
        if not self.store.end_session(session_id, by="trainee", unless_busy=True):
            raise TurnError(
                409, "message_in_flight", "The patient is still answering your last message. End after the reply."
            )
        return self._report(session_id)

    async def report(self, session_id: str) -> dict[str, Any]:
        return await asyncio.to_thread(self._report, session_id)

    def _report(self, session_id: str) -> dict[str, Any]:
        """The session report; while the session is active only its transcript so far (``in_progress``), since
        the outcome, the hidden concerns and the debrief would give the scenario away; refused in an exam."""
        session = self._session(session_id)
        if session["exam_mode"] and session["status"] == "active":
            raise TurnError(
                409, "exam_in_progress", "This is an exam: scores and the report are shown when the session ends."
            )
        report = build_report(session, self.store.turns(session_id))
        if session["status"] == "active":
            kept = ("session", "scenario", "persona", "transcript")
            return {"in_progress": True, **{key: report[key] for key in kept}}
        return {"in_progress": False, **report}

    # -- turns ----------------------------------------------------------------------------------------------
    async def command(self, session_id: str, name: Any, idempotency_key: Any = None) -> TurnResult:
        """An app command ("hint" or "help"): stored as a command turn with the app's answer."""
        if not isinstance(name, str) or name not in COMMANDS:
            raise TurnError(400, "unknown_command", f"The command must be one of: {', '.join(COMMANDS)}.")
        return await self.send(session_id, "/" + name, idempotency_key)

    async def send(self, session_id: str, text: Any, idempotency_key: Any = None) -> TurnResult:
        """One trainee message, answered at most once whatever the retries (see the module docstring)."""
        text = clean_message(text)
        key = clean_key(idempotency_key)
        begin = await asyncio.to_thread(self.store.begin_turn, session_id, text, key)
        if begin.kind == "replay":
            assert begin.turn is not None and begin.session is not None
            return _result(begin.turn, begin.replies, begin.session, replayed=True)
        if begin.kind != "started":
            raise _refusal(begin)
        assert begin.turn is not None and begin.token is not None
        # Shielded: if the caller is cancelled (client gone), the exchange still finishes and is stored.
        task = asyncio.ensure_future(self._exchange(session_id, begin.turn, begin.token, text, key))
        self._keep(task)
        return await asyncio.shield(task)

    async def drain(self) -> None:
        """Wait for exchanges still running (called on shutdown, so none is left pending)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _exchange(self, sid: str, turn: dict[str, Any], token: str, text: str, key: str) -> TurnResult:
        command = typed_command(text)
        try:
            if command:
                payload = await self.gateway.send(sid, COMMANDS[command], key)
            else:
                payload = await self.gateway.send(sid, for_rasa(text), key, typed=True)
        except PatientUnavailable as exc:
            await self._unanswered(sid, turn, token)
            raise TurnError(
                503, "patient_unavailable", f"{exc} Your message is saved but was not answered; send it again."
            ) from exc
        except BaseException:
            log.exception("Turn %s of session %s failed; marking it unanswered", turn["index"], sid)
            self._unanswered_now(sid, turn, token)
            raise
        try:
            saved, replies, current = await asyncio.to_thread(self._finish, sid, turn, token, payload)
        except GuardLost as exc:
            raise TurnError(
                503, "patient_unavailable", "This message took too long and was not answered; send it again."
            ) from exc
        except Exception as exc:
            # The patient answered but the database failed: keep trying to store the answer in the background,
            # so it is not lost; the client's retry with the same key gets it once it is stored.
            log.error("Storing the answer to turn %s of session %s failed: %s", turn["index"], sid, exc)
            self._keep(asyncio.ensure_future(self._finish_later(sid, turn, token, payload)))
            raise TurnError(
                503, "database_unavailable", "Your message was answered but could not be saved yet; send it again."
            ) from exc
        return _result(saved, replies, current)

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish_later(
        self, sid: str, turn: dict[str, Any], token: str, payload: dict[str, Any], attempts: int = 8
    ) -> None:
        """Retry storing an answer with back-off (1 s doubling, about four minutes in all). If it never lands,
        the guard goes stale and the retry of the message asks the patient again (who answers it from memory)."""
        for attempt in range(attempts):
            await asyncio.sleep(min(2.0**attempt, 60.0))
            try:
                await asyncio.to_thread(self._finish, sid, turn, token, payload)
                log.info("Stored the answer to turn %s of session %s after a database failure", turn["index"], sid)
                return
            except GuardLost:
                return
            except Exception as exc:
                log.warning("Still cannot store the answer to turn %s of session %s: %s", turn["index"], sid, exc)

    def _finish(
        self, sid: str, turn: dict[str, Any], token: str, payload: dict[str, Any]
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
        if payload.get("type") == "patient_turn":
            replies: list[tuple[str, str, str | None]] = [
                ("patient", str(payload.get("text", "")), payload.get("pool"))
            ]
            if payload.get("notice"):  # the guard: the patient stayed in role; the app tells the trainee why
                replies.append(("system", str(payload["notice"]), None))
            return self.store.finish_turn(
                sid,
                turn["id"],
                token,
                "answered",
                score=payload.get("score"),
                nlu_intent=payload.get("nlu_intent"),
                replies=replies,
                state=payload.get("state"),
                ended_by="patient" if payload.get("ended") else None,
            )
        return self.store.finish_turn(
            sid,
            turn["id"],
            token,
            "command",
            replies=[("system", str(payload.get("text", "")), None)],
            ended_by="trainee" if payload.get("type") == "end" else None,
        )

    async def _unanswered(self, sid: str, turn: dict[str, Any], token: str) -> None:
        await asyncio.to_thread(self._unanswered_now, sid, turn, token)

    def _unanswered_now(self, sid: str, turn: dict[str, Any], token: str) -> None:
        """Mark the turn unanswered and free the guard. Called directly (blocking) while the task is being
        cancelled, when awaiting is not safe. A guard already taken over needs nothing: the taker did it."""
        try:
            self.store.finish_turn(sid, turn["id"], token, "unanswered")
        except GuardLost:
            pass
        except Exception:
            log.exception("Could not mark turn %s of session %s unanswered", turn["index"], sid)


def typed_command(text: str) -> str | None:
    """The command a message spells in the documented syntax ("/hint", "/help"), else None."""
    word = text.strip().lower()
    return word[1:] if word.startswith("/") and word[1:] in COMMANDS else None


def _choice(value: Any, allowed: Any, what: str) -> str:
    options = list(allowed)
    if value is None or value == "":
        return str(options[0])
    if not isinstance(value, str) or value not in options:
        raise TurnError(400, "invalid_field", f"{what} must be one of: {', '.join(options)}.")
    return value


def _result(
    turn: dict[str, Any], replies: list[dict[str, Any]], session: dict[str, Any], replayed: bool = False
) -> TurnResult:
    patient = next((r for r in replies if r["speaker"] == "patient"), None)
    system = next((r for r in replies if r["speaker"] == "system"), None)
    return TurnResult(turn, patient, system, session, replayed)


_REFUSALS: dict[str, tuple[int, str, str]] = {
    "unknown": (404, "unknown_session", "There is no practice session with that id."),
    "ended": (409, "session_ended", "This session has ended. Open the report, or start a new one."),
    "busy": (
        409,
        "message_in_flight",
        "The patient is still answering your last message. Wait for the reply, then send this.",
    ),
    "in_flight": (409, "message_in_flight", "This message is still being answered. Wait a moment and look again."),
    "key_conflict": (
        422,
        "idempotency_key_reused",
        "This idempotency key was already used for a different message. Send a new message with a new key.",
    ),
    "superseded": (
        409,
        "message_superseded",
        "This message was not answered and the conversation has moved on. Send it again as a new message if it "
        "still fits.",
    ),
}


def _refusal(begin: Begin) -> TurnError:
    return TurnError(*_REFUSALS[begin.kind])
