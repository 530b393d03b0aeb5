"""The one turn path (bot/turns.py) on SQLite and PostgreSQL: every turn lands exactly once.

The patient here is ``ScriptedPatient``, a stand-in for Rasa and the action server that answers "re: <text>"
(so a test can see which message a reply answers), can be made slow or failing, and, like our action,
answers a retried key with its earlier answer. The whole stack is exercised in test_e2e.py and test_faults.py.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError

from bot.gateway import PatientUnavailable, RasaGateway
from bot.scoring import default_scorer
from bot.store import Store
from bot.text import for_rasa
from bot.turns import TurnError, TurnService

OPENING = {"type": "patient_turn", "text": "Is it the results?", "pool": "opening", "state": {"persona": "standard"}}


class ScriptedPatient:
    """Answers "re: <text>" with the real score; can stall, be slow or fail; replays an answered key."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.max_delay_s = 0.0
        self.failure_rate = 0.0
        self.stall: asyncio.Event | None = None
        self.answered: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    async def send(
        self, sender: str, message: str, idempotency_key: str | None = None, typed: bool = False
    ) -> dict[str, Any]:
        if message.startswith("/start_scenario"):
            return dict(OPENING)
        assert typed != message.startswith("/"), "typed words never go as a payload, payloads never as words"
        self.calls.append(message)
        if self.stall is not None:
            await self.stall.wait()
        if self.max_delay_s:
            await asyncio.sleep(self.rng.uniform(0, self.max_delay_s))
        if self.failure_rate and self.rng.random() < self.failure_rate:
            raise PatientUnavailable("The patient did not answer in time.")
        if idempotency_key and idempotency_key in self.answered:
            return self.answered[idempotency_key]
        if message == "/ask_hint":
            return {"type": "system", "text": "Hint: ask what they know."}
        payload = {
            "type": "patient_turn",
            "text": f"re: {message}",
            "pool": "p",
            "state": {"persona": "standard"},
            "score": default_scorer().score(message).to_dict(),  # the real scorer, as the action server runs it
            "notice": "That was outside the consultation." if "joke" in message else None,
        }
        if idempotency_key:
            self.answered[idempotency_key] = payload
        return payload

    async def healthy(self) -> dict[str, bool]:
        return {"rasa": True, "actions": True}

    async def close(self) -> None:
        return None


def service(store: Store, patient: ScriptedPatient | None = None) -> TurnService:
    return TurnService(store, patient or ScriptedPatient())  # type: ignore[arg-type]


async def new_session(svc: TurnService, **extra: Any) -> str:
    session, turns = await svc.start_session("Sam", "difficult-news", seed=3, **extra)
    assert [t["speaker"] for t in turns] == ["patient"]
    return str(session["id"])


def check_invariants(store: Store, sid: str, echo: bool = True) -> None:
    """Indexes contiguous; no turn pending; each key stored once; every reply right after the turn it answers
    (``echo``: and, with ScriptedPatient, answering that very text)."""
    turns = store.turns(sid)
    assert [t["index"] for t in turns] == list(range(len(turns)))
    assert not [t for t in turns if t["status"] == "pending"]
    keys = Counter(t["idempotency_key"] for t in turns if t["speaker"] == "trainee")
    assert all(n == 1 for n in keys.values()), keys
    by_id = {t["id"]: t for t in turns}
    for reply in turns[1:]:
        if reply["speaker"] == "trainee":
            continue
        answered = by_id[reply["reply_to"]]
        assert answered["speaker"] == "trainee" and answered["status"] in ("answered", "command")
        between = [t for t in turns if answered["index"] < t["index"] < reply["index"]]
        assert all(t["reply_to"] == answered["id"] for t in between), "a reply is separated from its turn"
        if echo and reply["speaker"] == "patient":
            assert reply["text"] == f"re: {for_rasa(answered['text'])}"
    for turn in turns:
        if turn["speaker"] == "trainee" and turn["status"] == "answered":
            assert [t for t in turns if t["reply_to"] == turn["id"] and t["speaker"] == "patient"]


# -- the reproducers of issue 8, on both databases ------------------------------------------------------------
async def joke_and_retry_on_409(store: Store) -> None:
    """Issue 8.1: one client sends an off-topic line (a notice is stored with the reply) while another keeps
    retrying on 409; no 500, and every reply sits next to its own message."""
    patient = ScriptedPatient(seed=1)
    patient.max_delay_s = 0.02
    svc = service(store, patient)
    sid = await new_session(svc)

    async def client(texts: list[str]) -> list[int]:
        statuses = []
        for text in texts:
            key = f"key-{text.replace(' ', '-')}"
            for _ in range(200):
                try:
                    await svc.send(sid, text, key)
                    statuses.append(200)
                    break
                except TurnError as exc:
                    statuses.append(exc.status)
                    assert exc.status == 409, exc.message
                    await asyncio.sleep(0.001)
        return statuses

    one, two = await asyncio.gather(
        client(["Tell me a joke", "How are you", "Tell me a joke again"]),
        client(["What do you know", "Go on", "And then"]),
    )
    assert one.count(200) == 3 and two.count(200) == 3
    check_invariants(store, sid)
    notices = [t for t in store.turns(sid) if t["speaker"] == "system"]
    assert len(notices) == 2


def test_joke_and_retry_on_409_sqlite(store: Store) -> None:
    asyncio.run(joke_and_retry_on_409(store))


@pytest.mark.postgres
def test_joke_and_retry_on_409_postgres(pg_store: Store) -> None:
    asyncio.run(joke_and_retry_on_409(pg_store))


async def timeout_then_retry(store: Store) -> None:
    """Issue 8.2: a turn that times out is unanswered (not pending) and the guard is free; retries with its key
    never store a copy; once the patient is back the retry is answered on the same turn."""
    patient = ScriptedPatient()
    svc = service(store, patient)
    sid = await new_session(svc)
    patient.failure_rate = 1.0
    for _ in range(3):
        with pytest.raises(TurnError) as err:
            await svc.send(sid, "What do you know so far?", "key-timeout-1")
        assert (err.value.status, err.value.code) == (503, "patient_unavailable")
        assert "saved" in err.value.message
        assert [t["status"] for t in store.turns(sid)][-1] == "unanswered"
    patient.failure_rate = 0.0
    result = await svc.send(sid, "What do you know so far?", "key-timeout-1")
    assert result.trainee_turn["status"] == "answered" and result.patient_turn
    again = await svc.send(sid, "What do you know so far?", "key-timeout-1")
    assert again.replayed and again.patient_turn == result.patient_turn
    texts = [t["text"] for t in store.turns(sid)]
    assert texts.count("What do you know so far?") == 1
    report = await svc.report(sid)
    assert [t["text"] for t in report["transcript"]].count("What do you know so far?") == 1
    check_invariants(store, sid)


def test_timeout_then_retry_sqlite(store: Store) -> None:
    asyncio.run(timeout_then_retry(store))


@pytest.mark.postgres
def test_timeout_then_retry_postgres(pg_store: Store) -> None:
    asyncio.run(timeout_then_retry(pg_store))


async def client_gone_mid_turn(store: Store) -> None:
    """A client that disconnects mid-turn does not cut the turn in half: it finishes and is stored, and the
    client's retry with the same key gets that answer without asking the patient again."""
    patient = ScriptedPatient()
    patient.stall = asyncio.Event()
    svc = service(store, patient)
    sid = await new_session(svc)
    request = asyncio.ensure_future(svc.send(sid, "Hello, I'm Dr Khan.", "key-gone-0001"))
    while not patient.calls:
        await asyncio.sleep(0.01)
    request.cancel()
    with pytest.raises(TurnError) as err:
        await svc.send(sid, "Hello, I'm Dr Khan.", "key-gone-0001")
    assert err.value.code == "message_in_flight"
    patient.stall.set()
    await svc.drain()
    retry = await svc.send(sid, "Hello, I'm Dr Khan.", "key-gone-0001")
    assert retry.replayed and retry.patient_turn and retry.patient_turn["text"] == "re: Hello, I'm Dr Khan."
    assert patient.calls == ["Hello, I'm Dr Khan."]
    check_invariants(store, sid)


def test_client_gone_mid_turn_sqlite(store: Store) -> None:
    asyncio.run(client_gone_mid_turn(store))


@pytest.mark.postgres
def test_client_gone_mid_turn_postgres(pg_store: Store) -> None:
    asyncio.run(client_gone_mid_turn(pg_store))


async def keys_and_refusals(store: Store) -> None:
    patient = ScriptedPatient()
    svc = service(store, patient)
    sid = await new_session(svc)
    await svc.send(sid, "First", "key-first-01")
    with pytest.raises(TurnError) as err:
        await svc.send(sid, "Not the first", "key-first-01")
    assert (err.value.status, err.value.code) == (422, "idempotency_key_reused")
    patient.failure_rate = 1.0
    with pytest.raises(TurnError):
        await svc.send(sid, "Lost", "key-lost-001")
    patient.failure_rate = 0.0
    await svc.send(sid, "Moved on", "key-moved-01")
    with pytest.raises(TurnError) as err:
        await svc.send(sid, "Lost", "key-lost-001")
    assert (err.value.status, err.value.code) == (409, "message_superseded")
    for bad in ("short", "has space in it", "x" * 101, 42):
        with pytest.raises(TurnError) as err:
            await svc.send(sid, "Hi", bad)
        assert err.value.code == "invalid_idempotency_key"
    command = await svc.send(sid, "/hint", "key-hint-001")  # the documented typed syntax
    assert command.trainee_turn["status"] == "command" and command.system_turn and not command.patient_turn
    button = await svc.command(sid, "hint", "key-hint-002")  # the page's button
    assert button.trainee_turn["text"] == "/hint" and button.system_turn and not button.patient_turn
    for words in ("hint", "Shall we stop there?", "What should we do next?", "/ /ask_hint"):
        spoken = await svc.send(sid, words)
        assert spoken.patient_turn and spoken.trainee_turn["status"] == "answered", words
    with pytest.raises(TurnError) as err:
        await svc.command(sid, "end")
    assert (err.value.status, err.value.code) == (400, "unknown_command")
    check_invariants(store, sid)


def test_keys_and_refusals_sqlite(store: Store) -> None:
    asyncio.run(keys_and_refusals(store))


@pytest.mark.postgres
def test_keys_and_refusals_postgres(pg_store: Store) -> None:
    asyncio.run(keys_and_refusals(pg_store))


async def bad_fields(store: Store) -> None:
    """Issue 8.7-8.12: every field is type- and range-checked, every text normalised; 4xx, never 500."""
    svc = service(store)

    async def refused(**fields: Any) -> str:
        args = {"display_name": "Sam", "scenario_id": "difficult-news", **fields}
        with pytest.raises(TurnError) as err:
            await svc.start_session(args.pop("display_name"), args.pop("scenario_id"), **args)
        assert 400 <= err.value.status < 500
        return err.value.code

    assert await refused(seed=2**31) == "invalid_field"
    assert await refused(seed=2**70) == "invalid_field"
    assert await refused(seed=-1) == "invalid_field"
    assert await refused(seed=True) == "invalid_field"
    assert await refused(seed="7") == "invalid_field"
    assert await refused(difficulty=["hard"]) == "invalid_field"
    assert await refused(persona={"id": "x"}) == "invalid_field"
    assert await refused(exam_mode="false") == "invalid_field"
    assert await refused(display_name="\u200b\x00 ") == "invalid_field"
    assert await refused(scenario_id=["difficult-news"]) == "unknown_scenario"

    session, _ = await svc.start_session("Sam \ud83d\x00\u200b", "difficult-news", seed=2**31 - 1)
    assert session["display_name"] == "Sam"
    sid = str(session["id"])
    for text in ("\u200b", "\u200b\u200d\ufeff", "\x00", " / / ", "\ud83d"):
        with pytest.raises(TurnError) as err:
            await svc.send(sid, text)
        assert err.value.code == "empty_message"
    result = await svc.send(sid, "hi \ud83d, how\u200b are you?\x00")
    assert result.trainee_turn["text"] == "hi , how are you?"
    assert [t["speaker"] for t in store.turns(sid)] == ["patient", "trainee", "patient"]


def test_bad_fields_sqlite(store: Store) -> None:
    asyncio.run(bad_fields(store))


@pytest.mark.postgres
def test_bad_fields_postgres(pg_store: Store) -> None:
    asyncio.run(bad_fields(pg_store))


async def exam_mode_is_locked(store: Store) -> None:
    """Issue 8.15: once on, exam mode stays on and the report stays closed until the session ends."""
    svc = service(store)
    sid = await new_session(svc)
    await svc.send(sid, "What have you been told?")
    assert (await svc.set_exam_mode(sid, True))["exam_mode"] is True
    with pytest.raises(TurnError) as err:
        await svc.set_exam_mode(sid, False)
    assert (err.value.status, err.value.code) == (409, "exam_mode_locked")
    with pytest.raises(TurnError) as err:
        await svc.report(sid)
    assert err.value.code == "exam_in_progress"
    report = await svc.end(sid)
    assert report["transcript"][1]["score"]
    with pytest.raises(TurnError) as err:
        await svc.set_exam_mode(sid, False)
    assert err.value.code == "session_ended"


def test_exam_mode_is_locked_sqlite(store: Store) -> None:
    asyncio.run(exam_mode_is_locked(store))


@pytest.mark.postgres
def test_exam_mode_is_locked_postgres(pg_store: Store) -> None:
    asyncio.run(exam_mode_is_locked(pg_store))


async def database_fails_after_the_answer(store: Store) -> None:
    """The patient answered but storing it failed: 503, the answer is stored once the database is back, and
    the retry with the key gets it; the patient is not asked twice."""
    patient = ScriptedPatient()
    svc = service(store, patient)
    sid = await new_session(svc)
    real = store.finish_turn
    failures = {"left": 2}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("UPDATE turn ...", {}, Exception("database is locked"))
        return real(*args, **kwargs)

    store.finish_turn = flaky  # type: ignore[method-assign]
    with pytest.raises(TurnError) as err:
        await svc.send(sid, "What do you know so far?", "key-dbfail-01")
    assert (err.value.status, err.value.code) == (503, "database_unavailable")
    await svc.drain()  # the background retry stores it (after 1 s, then 2 s)
    store.finish_turn = real  # type: ignore[method-assign]
    retry = await svc.send(sid, "What do you know so far?", "key-dbfail-01")
    assert retry.replayed and retry.patient_turn and retry.patient_turn["text"] == "re: What do you know so far?"
    assert patient.calls == ["What do you know so far?"]
    check_invariants(store, sid)


def test_database_fails_after_the_answer_sqlite(store: Store) -> None:
    asyncio.run(database_fails_after_the_answer(store))


@pytest.mark.postgres
def test_database_fails_after_the_answer_postgres(pg_store: Store) -> None:
    asyncio.run(database_fails_after_the_answer(pg_store))


async def no_end_while_answering(store: Store) -> None:
    """Ending while a message is being answered is refused, so no reply lands after the end."""
    patient = ScriptedPatient()
    patient.stall = asyncio.Event()
    svc = service(store, patient)
    sid = await new_session(svc)
    request = asyncio.ensure_future(svc.send(sid, "Hello, I'm Dr Khan.", "key-end-0001"))
    while not patient.calls:
        await asyncio.sleep(0.01)
    with pytest.raises(TurnError) as err:
        await svc.end(sid)
    assert (err.value.status, err.value.code) == (409, "message_in_flight")
    patient.stall.set()
    await request
    report = await svc.end(sid)
    assert [t["status"] for t in report["transcript"] if t["speaker"] == "trainee"] == ["answered"]
    check_invariants(store, sid)


def test_no_end_while_answering_sqlite(store: Store) -> None:
    asyncio.run(no_end_while_answering(store))


@pytest.mark.postgres
def test_no_end_while_answering_postgres(pg_store: Store) -> None:
    asyncio.run(no_end_while_answering(pg_store))


def test_a_stalled_patient_is_a_503_not_a_500() -> None:
    """Issue 8.2's cause: aiohttp's timeout is asyncio.TimeoutError, not the builtin one, on Python 3.10."""

    async def run() -> None:
        async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(30)

        server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        gateway = RasaGateway(f"http://127.0.0.1:{port}", timeout_s=0.3)
        try:
            with pytest.raises(PatientUnavailable, match="in time"):
                await gateway.send("s", "hello", "key-stall-01")
        finally:
            await gateway.close()
            server.close()

    asyncio.run(run())


# -- random interleavings of two or three clients ---------------------------------------------------------------
OPS = st.lists(
    st.tuples(
        st.sampled_from(["say", "say", "say", "joke", "hint", "retry", "end"]),
        st.integers(min_value=0, max_value=5),
    ),
    min_size=1,
    max_size=6,
)


async def interleave(store: Store, scripts: list[list[tuple[str, int]]], seed: int, failure_rate: float) -> None:
    patient = ScriptedPatient(seed)
    patient.max_delay_s = 0.01
    patient.failure_rate = failure_rate
    svc = service(store, patient)
    sid = await new_session(svc)
    accepted: dict[str, str] = {}

    async def client(number: int, script: list[tuple[str, int]]) -> None:
        last: tuple[str, str] | None = None
        for step, (op, n) in enumerate(script):
            if op == "end":
                try:
                    await svc.end(sid)
                except TurnError as exc:  # not while a message is being answered
                    assert (exc.status, exc.code) == (409, "message_in_flight")
                continue
            if op == "retry" and last is not None:
                text, key = last
            else:
                text = {"joke": f"Tell me a joke {n}", "hint": "/hint"}.get(op, f"Client {number} says {n}.{step}")
                key = f"key-{number}-{step}-{n}"
            last = (text, key)
            try:
                result = await svc.send(sid, text, key)
            except TurnError as exc:
                assert exc.status in (409, 503), (exc.status, exc.code)
                if exc.status == 503:
                    accepted[key] = text
                continue
            accepted[key] = text
            assert result.trainee_turn["text"] == text
            if result.patient_turn:
                assert result.patient_turn["text"] == f"re: {text}"

    await asyncio.gather(*(client(i, s) for i, s in enumerate(scripts)))
    await svc.drain()
    check_invariants(store, sid)
    stored = {t["idempotency_key"]: t["text"] for t in store.turns(sid) if t["speaker"] == "trainee"}
    assert stored == accepted


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scripts=st.lists(OPS, min_size=2, max_size=3),
    seed=st.integers(0, 10_000),
    failure_rate=st.sampled_from([0.0, 0.2, 0.5]),
)
def test_random_interleavings_sqlite(store: Store, scripts: Any, seed: int, failure_rate: float) -> None:
    asyncio.run(interleave(store, scripts, seed, failure_rate))


@pytest.mark.postgres
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scripts=st.lists(OPS, min_size=2, max_size=3),
    seed=st.integers(0, 10_000),
    failure_rate=st.sampled_from([0.0, 0.2, 0.5]),
)
def test_random_interleavings_postgres(pg_store: Store, scripts: Any, seed: int, failure_rate: float) -> None:
    asyncio.run(interleave(pg_store, scripts, seed, failure_rate))
