"""Faults during a conversation, on the real servers: SQLite, and PostgreSQL with Rasa's Redis lock store.

A stopped (SIGSTOP) or killed (SIGKILL) action server or Rasa, a lost database: the trainee gets a 503 with
a clear message (never a 500), nothing is stored twice, no turn stays pending, every reply sits right after
the message it answers, and the conversation goes on with the patient remembering it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.store import Store, make_engine
from tests.services import call
from tests.test_turns import check_invariants

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgres"])
def any_stack(request: pytest.FixtureRequest) -> dict[str, Any]:
    stack: dict[str, Any] = request.getfixturevalue("stack" if request.param == "sqlite" else "pg_stack")
    return stack


def start(base: str) -> str:
    status, body = call(base, "POST", "/api/sessions", {"display_name": "Faults", "scenario_id": "difficult-news"})
    assert status == 201, body
    return str(body["session"]["id"])


def say(base: str, sid: str, text: str, key: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Idempotency-Key": key} if key else None
    return call(base, "POST", f"/api/sessions/{sid}/messages", {"text": text}, headers=headers)


def status_of(base: str, sid: str, text: str, key: str) -> int:
    """The status of one message, 0 when the web app cannot be reached at all (it is being restarted)."""
    try:
        return say(base, sid, text, key)[0]
    except OSError:
        return 0


def until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def patient_turns_so_far(store: Store, sid: str) -> int:
    state = (store.get_session(sid) or {}).get("patient_state") or {}
    return int(state.get("turn", 0))


def test_stopped_action_server_gives_503_and_one_stored_copy(any_stack: dict[str, Any]) -> None:
    """Issue 8.2: SIGSTOP the action server; the turn times out as 503 (not 500), is unanswered (not pending),
    retries store no copy, and after SIGCONT the retry is answered on the same turn, once."""
    base, services = any_stack["base"], any_stack["services"]
    store = Store(make_engine(any_stack["db_url"]))
    sid = start(base)
    assert say(base, sid, "Hello, I'm Dr Khan.")[0] == 200
    actions = services.procs["actions"]
    os.killpg(actions.pid, signal.SIGSTOP)
    try:
        for _ in range(3):
            began = time.monotonic()
            status, body = say(base, sid, "What have you been told so far?", key="fault-stop-0001")
            assert (status, body["error"]["code"]) == (503, "patient_unavailable"), body
            assert time.monotonic() - began < 30
            assert store.turns(sid)[-1]["status"] == "unanswered"
    finally:
        os.killpg(actions.pid, signal.SIGCONT)
    until(lambda: say(base, sid, "What have you been told so far?", key="fault-stop-0001")[0] == 200, 60, "answer")
    turns = store.turns(sid)
    assert [t["text"] for t in turns].count("What have you been told so far?") == 1
    status, report = call(base, "GET", f"/api/sessions/{sid}/report")
    assert [t["text"] for t in report["report"]["transcript"]].count("What have you been told so far?") == 1
    assert patient_turns_so_far(store, sid) == 2  # the patient moved once for each message, not per attempt
    assert say(base, sid, "How much would you like to know today?")[0] == 200
    check_invariants(store, sid, echo=False)


def test_stopped_rasa_gives_503_then_goes_on(any_stack: dict[str, Any]) -> None:
    base, services = any_stack["base"], any_stack["services"]
    store = Store(make_engine(any_stack["db_url"]))
    sid = start(base)
    rasa = services.procs["rasa"]
    os.killpg(rasa.pid, signal.SIGSTOP)
    try:
        status, body = say(base, sid, "Hello, I'm Dr Khan.", key="fault-rasa-0001")
        assert (status, body["error"]["code"]) == (503, "patient_unavailable"), body
    finally:
        os.killpg(rasa.pid, signal.SIGCONT)
    until(lambda: say(base, sid, "Hello, I'm Dr Khan.", key="fault-rasa-0001")[0] == 200, 60, "answer")
    assert say(base, sid, "What have you been told so far?")[0] == 200
    assert patient_turns_so_far(store, sid) == 2
    check_invariants(store, sid, echo=False)


def test_a_killed_action_server_is_restarted_while_the_rest_serves(any_stack: dict[str, Any]) -> None:
    """Issue 8.5: SIGKILL the action server; Rasa and the web app keep running (503 meanwhile, never 500),
    and the supervisor brings the action server back."""
    base, services = any_stack["base"], any_stack["services"]
    store = Store(make_engine(any_stack["db_url"]))
    sid = start(base)
    assert say(base, sid, "Hello, I'm Dr Khan.")[0] == 200
    others = {name: services.procs[name].pid for name in ("rasa", "web")}
    old = services.procs["actions"].pid
    os.killpg(old, signal.SIGKILL)
    statuses = []
    for _ in range(240):
        status, body = say(base, sid, "What have you been told so far?", key="fault-kill-0001")
        statuses.append(status)
        if status == 200:
            break
        assert status == 503 and body["error"]["code"] == "patient_unavailable", body
        time.sleep(0.5)
    assert statuses[-1] == 200, statuses
    assert services.procs["actions"].pid != old
    assert {name: services.procs[name].pid for name in ("rasa", "web")} == others
    check_invariants(store, sid, echo=False)


def test_a_killed_rasa_is_restarted_and_remembers_the_conversation(stack: dict[str, Any]) -> None:
    base, services = stack["base"], stack["services"]
    store = Store(make_engine(stack["db_url"]))
    sid = start(base)
    assert say(base, sid, "Hello, I'm Dr Khan.")[0] == 200
    os.killpg(services.procs["rasa"].pid, signal.SIGKILL)
    until(lambda: say(base, sid, "What have you been told so far?", key="fault-kill-rasa-1")[0] == 200, 240, "Rasa")
    assert patient_turns_so_far(store, sid) == 2
    check_invariants(store, sid, echo=False)


def test_two_clients_joke_and_retry_over_http(any_stack: dict[str, Any]) -> None:
    """Issue 8.1 on the real servers: an off-topic line from one client and a 409-retrying other client."""
    base = any_stack["base"]
    store = Store(make_engine(any_stack["db_url"]))
    sid = start(base)
    failures: list[Any] = []

    def client(texts: list[str]) -> None:
        for n, text in enumerate(texts):
            key = f"http-{threading.get_ident()}-{n}"
            for _ in range(400):
                status, body = say(base, sid, text, key=key)
                if status == 200:
                    break
                if status != 409:
                    failures.append((status, body))
                    return
                time.sleep(0.01)

    threads = [
        threading.Thread(target=client, args=(["Tell me a joke", "How are you feeling?", "Tell me a joke, go on"],)),
        threading.Thread(target=client, args=(["What have you been told?", "Go on.", "What worries you most?"],)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    turns = store.turns(sid)
    check_invariants(store, sid, echo=False)
    assert len([t for t in turns if t["speaker"] == "trainee"]) == 6
    assert len([t for t in turns if t["speaker"] == "system"]) == 2  # the two off-topic notices


def test_a_lost_database_fails_the_turn_and_never_forgets(pg_stack: dict[str, Any]) -> None:
    """Issue 8.3: connections cut, then the database down: Rasa never falls back to an empty in-memory tracker
    (no "No practice session" command turn), the turn is a 503, and afterwards the patient remembers."""
    base, postgres = pg_stack["base"], pg_stack["postgres"]
    store = Store(make_engine(pg_stack["db_url"]))
    sid = start(base)
    assert say(base, sid, "Hello, I'm Dr Khan.")[0] == 200
    with store.engine.begin() as conn:
        conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()")
    status, body = say(base, sid, "What have you been told so far?")
    assert status == 200, body  # pre-ping: both the app and Rasa reconnect
    postgres.stop()
    try:
        status, body = say(base, sid, "How much would you like to know?", key="fault-db-0001")
        assert status == 503, body
    finally:
        postgres.start()
    until(lambda: say(base, sid, "How much would you like to know?", key="fault-db-0001")[0] == 200, 60, "answer")
    store.engine.dispose()
    turns = store.turns(sid)
    assert not [t for t in turns if t["status"] == "command"]
    assert "No practice session" not in " ".join(t["text"] for t in turns)
    assert patient_turns_so_far(store, sid) == 3
    check_invariants(store, sid, echo=False)


def test_a_web_app_killed_mid_turn_comes_back_and_the_retry_is_answered(stack: dict[str, Any]) -> None:
    """The web app dies while the patient is answering: it is restarted, frees its own guard at start, and the
    retry with the same key gets the patient's answer (given from Rasa's memory: the patient moves once)."""
    base, services = stack["base"], stack["services"]
    store = Store(make_engine(stack["db_url"]))
    sid = start(base)
    actions = services.procs["actions"]
    os.killpg(actions.pid, signal.SIGSTOP)
    sender = threading.Thread(target=status_of, args=(base, sid, "Hello, I'm Dr Khan.", "fault-web-0001"))
    try:
        sender.start()
        until(lambda: bool(store.turns(sid)[1:]), 20, "the pending turn")
        old_web = services.procs["web"].pid
        os.killpg(old_web, signal.SIGKILL)
    finally:
        os.killpg(actions.pid, signal.SIGCONT)
    sender.join(timeout=60)
    until(lambda: status_of(base, sid, "Hello, I'm Dr Khan.", "fault-web-0001") == 200, 120, "the web app")
    assert services.procs["web"].pid != old_web
    turns = store.turns(sid)
    assert [t["status"] for t in turns if t["speaker"] == "trainee"] == ["answered"]
    assert patient_turns_so_far(store, sid) == 1
    check_invariants(store, sid, echo=False)
