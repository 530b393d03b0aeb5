"""Storage on SQLite (the default) and PostgreSQL (production): sessions, turns, scores, the in-flight guard."""

from __future__ import annotations

import threading

import pytest

from bot.store import Store, make_engine

SCENARIO = {"id": "difficult-news", "title": "Jo's biopsy result", "theme": "difficult-news", "version": 1}


def exercise(store: Store) -> None:
    sid = store.create_session("Sam", SCENARIO, "gentle", 42, exam_mode=True)
    session = store.get_session(sid)
    assert session is not None
    assert session["display_name"] == "Sam" and session["exam_mode"] is True and session["status"] == "active"

    store.open_session(sid, "Is it the results?", "opening", {"values": {"trust": 0.4}})
    begun = store.begin_turn(sid, "What have you been told?", "key-0001")
    assert begun.kind == "started" and begun.turn is not None and begun.token
    pending = begun.turn
    assert pending["status"] == "pending" and pending["idempotency_key"] == "key-0001"
    assert store.begin_turn(sid, "A second message", "key-0002").kind == "busy"  # guard held until finish_turn
    assert store.begin_turn(sid, "What have you been told?", "key-0001").kind == "in_flight"
    assert store.begin_turn("no-such-session", "Hello", "key-0003").kind == "unknown"
    assert not store.release(sid, "not-the-holders-token")  # only the holder frees the guard
    score = {
        "dimensions": {"empathy": {"score": None}, "collaboration": {"score": 2}, "shared_decision": {"score": None}},
        "acts": [{"act": "perception_check"}],
    }
    answered, replies, current = store.finish_turn(
        sid,
        pending["id"],
        begun.token,
        "answered",
        score=score,
        nlu_intent="perception_check",
        replies=[("patient", "Not much, to be honest.", "perception_answer"), ("system", "A notice.", None)],
        state={"values": {"trust": 0.5}, "revealed": []},
    )
    assert answered["score"] == score and answered["status"] == "answered"
    assert [(r["index"], r["speaker"], r["reply_to"]) for r in replies] == [
        (2, "patient", pending["id"]),
        (3, "system", pending["id"]),
    ]
    assert current["patient_state"] == {"values": {"trust": 0.5}, "revealed": []}

    replay = store.begin_turn(sid, "What have you been told?", "key-0001")  # a retry: nothing new is stored
    assert replay.kind == "replay" and replay.turn == answered and replay.replies == replies
    assert store.begin_turn(sid, "Something else", "key-0001").kind == "key_conflict"

    turns = store.turns(sid)
    assert [t["index"] for t in turns] == [0, 1, 2, 3]
    assert [t["speaker"] for t in turns] == ["patient", "trainee", "patient", "system"]
    assert turns[1]["score"]["acts"][0]["act"] == "perception_check"

    lost = store.begin_turn(sid, "Are you still there?", "key-0004")  # finish_turn released the guard
    assert lost.kind == "started" and lost.turn is not None and lost.token
    saved, none, _ = store.finish_turn(sid, lost.turn["id"], lost.token, "unanswered")
    assert saved["status"] == "unanswered" and none == [] and saved["text"] == "Are you still there?"
    again = store.begin_turn(sid, "Are you still there?", "key-0004")  # the retry takes up the same turn
    assert again.kind == "started" and again.turn is not None and again.turn["id"] == lost.turn["id"]
    assert again.token
    store.finish_turn(sid, again.turn["id"], again.token, "unanswered")
    later = store.begin_turn(sid, "Shall I go on?", "key-0005")
    assert later.kind == "started" and later.token and later.turn
    store.finish_turn(sid, later.turn["id"], later.token, "answered", replies=[("patient", "Yes.", None)])
    assert store.begin_turn(sid, "Are you still there?", "key-0004").kind == "superseded"
    assert len(store.turns(sid)) == 7  # no copies

    store.set_exam_mode(sid, False)
    store.end_session(sid, by="trainee")
    store.end_session(sid, by="patient")  # a second end changes nothing
    ended = store.get_session(sid)
    assert ended is not None
    assert ended["status"] == "ended" and ended["ended_by"] == "trainee" and ended["exam_mode"] is False
    assert ended["patient_state"] == {"values": {"trust": 0.5}, "revealed": []}
    assert store.begin_turn(sid, "After the end", "key-0006").kind == "ended"
    assert store.get_session("no-such-session") is None


def test_sqlite_store(store: Store) -> None:
    exercise(store)


@pytest.mark.postgres
def test_postgres_store(pg_store: Store) -> None:
    exercise(pg_store)


def guard_holds_across_threads(store: Store) -> None:
    sid = store.create_session("Ann", SCENARIO, "gentle", 1, exam_mode=False)
    results: list[str | None] = []
    barrier = threading.Barrier(6)

    def grab() -> None:
        barrier.wait()
        results.append(store.try_acquire(sid))

    threads = [threading.Thread(target=grab) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tokens = [r for r in results if r]
    assert len(tokens) == 1
    assert store.release(sid, tokens[0])
    assert store.try_acquire(sid)


def test_in_flight_guard_sqlite(store: Store) -> None:
    guard_holds_across_threads(store)


@pytest.mark.postgres
def test_in_flight_guard_postgres(pg_store: Store) -> None:
    guard_holds_across_threads(pg_store)


def stale_guard_is_taken_over(store: Store) -> None:
    """A request that died holding the guard: its turn is marked unanswered by the taker, and the dead request's
    late outcome cannot overwrite anything (its token no longer holds the guard)."""
    from bot.store.repository import GuardLost

    sid = store.create_session("Ann", SCENARIO, "gentle", 1, exam_mode=False)
    dead = store.begin_turn(sid, "Hello?", "key-dead-1")
    assert dead.kind == "started" and dead.turn and dead.token
    assert store.begin_turn(sid, "Anyone?", "key-next-1").kind == "busy"
    store.stale_after_s = -1.0  # every guard is now stale
    taker = store.begin_turn(sid, "Anyone?", "key-next-1")
    assert taker.kind == "started" and taker.token
    assert store.turns(sid)[0]["status"] == "unanswered"
    with pytest.raises(GuardLost):
        store.finish_turn(sid, dead.turn["id"], dead.token, "answered", replies=[("patient", "Late!", None)])
    assert [t["text"] for t in store.turns(sid)] == ["Hello?", "Anyone?"]


def test_stale_guard_is_taken_over_sqlite(store: Store) -> None:
    stale_guard_is_taken_over(store)


@pytest.mark.postgres
def test_stale_guard_is_taken_over_postgres(pg_store: Store) -> None:
    stale_guard_is_taken_over(pg_store)


def test_data_survives_a_new_store_on_the_same_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.store import make_engine

    url = f"sqlite:///{tmp_path / 'keep.db'}"
    first = Store(make_engine(url))
    sid = first.create_session("Kim", SCENARIO, "hard", 7, exam_mode=False)
    first.open_session(sid, "Hello", "opening", {"values": {}})
    first.engine.dispose()
    again = Store(make_engine(url))
    assert [t["text"] for t in again.turns(sid)] == ["Hello"]


def migrate_an_old_database(url: str) -> None:
    """A database made by the schema before migrations is stamped and upgraded, keeping its data; a guard
    held at upgrade time is freed and its pending turn marked unanswered."""
    from sqlalchemy import create_engine

    from bot.store.migrations import current, head

    engine = create_engine(url, future=True)
    serial = "SERIAL" if engine.dialect.name == "postgresql" else "INTEGER"
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE trainee (id VARCHAR(32) PRIMARY KEY, display_name VARCHAR(80) NOT NULL, "
            "created_at TIMESTAMP NOT NULL)"
        )
        conn.exec_driver_sql(
            "CREATE TABLE scenario (id VARCHAR(80) PRIMARY KEY, version INTEGER NOT NULL, title VARCHAR(200) "
            "NOT NULL, theme VARCHAR(40) NOT NULL)"
        )
        conn.exec_driver_sql(
            "CREATE TABLE practice_session (id VARCHAR(32) PRIMARY KEY, trainee_id VARCHAR(32) NOT NULL "
            "REFERENCES trainee(id), scenario_id VARCHAR(80) NOT NULL REFERENCES scenario(id), difficulty "
            "VARCHAR(20) NOT NULL, seed INTEGER NOT NULL, exam_mode BOOLEAN NOT NULL, status VARCHAR(10) NOT NULL, "
            "ended_by VARCHAR(10), patient_state JSON, busy_since FLOAT, created_at TIMESTAMP NOT NULL, "
            "ended_at TIMESTAMP)"
        )
        conn.exec_driver_sql(
            f"CREATE TABLE turn (id {serial} PRIMARY KEY, session_id VARCHAR(32) NOT NULL REFERENCES "
            'practice_session(id), "index" INTEGER NOT NULL, speaker VARCHAR(10) NOT NULL, text TEXT NOT NULL, '
            "status VARCHAR(12), nlu_intent VARCHAR(60), pool VARCHAR(80), created_at TIMESTAMP NOT NULL, "
            'CONSTRAINT uq_turn_session_index UNIQUE (session_id, "index"))'
        )
        conn.exec_driver_sql(
            "CREATE TABLE turn_score (turn_id INTEGER PRIMARY KEY REFERENCES turn(id), empathy INTEGER, "
            "collaboration INTEGER, shared_decision INTEGER, detail JSON NOT NULL)"
        )
        conn.exec_driver_sql("INSERT INTO trainee VALUES ('t1', 'Old', '2026-01-01 10:00:00')")
        conn.exec_driver_sql("INSERT INTO scenario VALUES ('difficult-news', 1, 'Jo', 'difficult-news')")
        conn.exec_driver_sql(
            "INSERT INTO practice_session (id, trainee_id, scenario_id, difficulty, seed, exam_mode, status, "
            "busy_since, created_at) VALUES ('s1', 't1', 'difficult-news', 'gentle', 1, false, 'active', 5.0, "
            "'2026-01-01 10:00:00')"
        )
        conn.exec_driver_sql(
            'INSERT INTO turn (session_id, "index", speaker, text, status, created_at) VALUES '
            "('s1', 0, 'trainee', 'Hello', 'pending', '2026-01-01 10:00:00')"
        )
    engine.dispose()
    store = Store(make_engine(url))
    assert current(store.engine) == head()
    assert [(t["text"], t["status"]) for t in store.turns("s1")] == [("Hello", "unanswered")]
    assert store.begin_turn("s1", "Hello again", "key-after-migration").kind == "started"
    Store(make_engine(url))  # opening it again is a no-op
    store.engine.dispose()


def test_migrating_an_old_sqlite_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    migrate_an_old_database(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
def test_migrating_an_old_postgres_database(pg_url: str) -> None:
    migrate_an_old_database(pg_url)


def a_crashed_request_is_recovered(store: Store) -> None:
    """The web app died mid-turn: at its next start it frees its own guards, and a retry of the pending turn's
    key is taken up at once; a pending turn under a stale guard (another instance died) is taken up too."""
    sid = store.create_session("Ann", SCENARIO, "gentle", 1, exam_mode=False)
    dead = store.begin_turn(sid, "Hello?", "key-crash-01")
    assert dead.kind == "started" and dead.turn
    assert store.begin_turn(sid, "Hello?", "key-crash-01").kind == "in_flight"
    restarted = Store(store.engine, owner=store.owner)
    other = Store(store.engine, owner="another-instance")
    assert other.recover() == 0  # never frees another instance's guards
    assert restarted.recover() == 1
    assert store.turns(sid)[0]["status"] == "unanswered"
    again = restarted.begin_turn(sid, "Hello?", "key-crash-01")
    assert again.kind == "started" and again.turn and again.turn["id"] == dead.turn["id"]
    assert again.turn["status"] == "pending"
    other.stale_after_s = -1.0  # the restarted instance died too; its guard is now stale
    taken = other.begin_turn(sid, "Hello?", "key-crash-01")
    assert taken.kind == "started" and taken.turn and taken.turn["id"] == dead.turn["id"]
    assert len(store.turns(sid)) == 1


def test_a_crashed_request_is_recovered_sqlite(store: Store) -> None:
    a_crashed_request_is_recovered(store)


@pytest.mark.postgres
def test_a_crashed_request_is_recovered_postgres(pg_store: Store) -> None:
    a_crashed_request_is_recovered(pg_store)
