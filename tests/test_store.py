"""Storage on SQLite (the default) and PostgreSQL (production): sessions, turns, scores, the in-flight guard."""

from __future__ import annotations

import threading

import pytest

from bot.store import Store

SCENARIO = {"id": "difficult-news", "title": "Jo's biopsy result", "theme": "difficult-news", "version": 1}


def exercise(store: Store) -> None:
    sid = store.create_session("Sam", SCENARIO, "gentle", 42, exam_mode=True)
    session = store.get_session(sid)
    assert session is not None
    assert session["display_name"] == "Sam" and session["exam_mode"] is True and session["status"] == "active"

    store.add_turn(sid, "patient", "Is it the results?", pool="opening")
    _, pending = store.begin_turn(sid, "What have you been told?")
    assert pending is not None and pending["status"] == "pending"
    assert store.begin_turn(sid, "A second message")[1] is None  # the guard is held until finish_turn
    assert store.begin_turn("no-such-session", "Hello") == (None, None)
    score = {
        "dimensions": {"empathy": {"score": None}, "collaboration": {"score": 2}, "shared_decision": {"score": None}},
        "acts": [{"act": "perception_check"}],
    }
    answered, reply, current = store.finish_turn(
        sid,
        pending["id"],
        "answered",
        score=score,
        nlu_intent="perception_check",
        reply=("patient", "Not much, to be honest.", "perception_answer"),
        state={"values": {"trust": 0.5}, "revealed": []},
    )
    assert answered["score"] == score and answered["status"] == "answered"
    assert reply is not None and reply["index"] == 2 and reply["pool"] == "perception_answer"
    assert current["patient_state"] == {"values": {"trust": 0.5}, "revealed": []}

    turns = store.turns(sid)
    assert [t["index"] for t in turns] == [0, 1, 2]
    assert [t["speaker"] for t in turns] == ["patient", "trainee", "patient"]
    assert turns[1]["score"]["acts"][0]["act"] == "perception_check"
    _, unanswered = store.begin_turn(sid, "Are you still there?")  # finish_turn released the guard
    assert unanswered is not None
    saved, none, _ = store.finish_turn(sid, unanswered["id"], "unanswered")
    assert saved["status"] == "unanswered" and none is None and saved["text"] == "Are you still there?"

    store.set_exam_mode(sid, False)
    store.end_session(sid, by="trainee")
    store.end_session(sid, by="patient")  # a second end changes nothing
    ended = store.get_session(sid)
    assert ended is not None
    assert ended["status"] == "ended" and ended["ended_by"] == "trainee" and ended["exam_mode"] is False
    assert ended["patient_state"] == {"values": {"trust": 0.5}, "revealed": []}
    assert store.get_session("no-such-session") is None


def test_sqlite_store(store: Store) -> None:
    exercise(store)


@pytest.mark.postgres
def test_postgres_store(pg_store: Store) -> None:
    exercise(pg_store)


def guard_holds_across_threads(store: Store) -> None:
    sid = store.create_session("Ann", SCENARIO, "gentle", 1, exam_mode=False)
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def grab() -> None:
        barrier.wait()
        results.append(store.try_acquire(sid))

    threads = [threading.Thread(target=grab) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1
    store.release(sid)
    assert store.try_acquire(sid) is True


def test_in_flight_guard_sqlite(store: Store) -> None:
    guard_holds_across_threads(store)


@pytest.mark.postgres
def test_in_flight_guard_postgres(pg_store: Store) -> None:
    guard_holds_across_threads(pg_store)


def test_stale_guard_is_taken_over(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.store.repository as repo

    sid = store.create_session("Ann", SCENARIO, "gentle", 1, exam_mode=False)
    assert store.try_acquire(sid)
    monkeypatch.setattr(repo, "IN_FLIGHT_TIMEOUT_S", -1.0)
    assert store.try_acquire(sid)


def test_data_survives_a_new_store_on_the_same_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.store import make_engine

    url = f"sqlite:///{tmp_path / 'keep.db'}"
    first = Store(make_engine(url))
    sid = first.create_session("Kim", SCENARIO, "hard", 7, exam_mode=False)
    first.add_turn(sid, "trainee", "Hello", status="answered")
    first.engine.dispose()
    again = Store(make_engine(url))
    assert [t["text"] for t in again.turns(sid)] == ["Hello"]
