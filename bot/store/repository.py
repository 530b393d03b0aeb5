"""Storage operations the web app needs, each one short transaction in SQLAlchemy's 2.0 style.

SQLite (a file under ``var/``) is the default; ``DATABASE_URL`` selects PostgreSQL in production. Functions
return plain dicts so callers never hold ORM objects across awaits.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.store.models import Base, PracticeSession, ScenarioRecord, Trainee, Turn, TurnScore, utcnow

DEFAULT_URL = "sqlite:///var/rapport.db"
IN_FLIGHT_TIMEOUT_S = 120.0  # a guard older than this is stale (a crashed request), so it is taken over


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        # SQLAlchemy 1.4 gives file SQLite a NullPool: a new connection (and pragmas) per transaction. A small
        # queue pool shared across the web app's worker threads keeps them open instead.
        engine = create_engine(
            url,
            future=True,
            poolclass=QueuePool,
            pool_size=4,
            max_overflow=4,
            connect_args={"check_same_thread": False},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, future=True, pool_pre_ping=True)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL lets the web app read while a write is under way; foreign keys are off by default in SQLite."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # with WAL: safe against crashes, one fsync per checkpoint
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


class Store:
    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or make_engine()
        Base.metadata.create_all(self.engine)
        self._session = sessionmaker(self.engine, future=True, expire_on_commit=False)

    def _tx(self) -> Session:
        return self._session()

    # -- sessions -------------------------------------------------------------------------------------------
    def create_session(
        self, display_name: str, scenario: dict[str, Any], difficulty: str, seed: int, exam_mode: bool
    ) -> str:
        with self._tx() as db, db.begin():
            record = db.get(ScenarioRecord, scenario["id"])
            if record is None:
                db.add(
                    ScenarioRecord(
                        id=scenario["id"],
                        version=scenario.get("version", 1),
                        title=scenario["title"],
                        theme=scenario["theme"],
                    )
                )
            else:
                record.title, record.theme = scenario["title"], scenario["theme"]
            trainee = Trainee(display_name=display_name)
            db.add(trainee)
            db.flush()
            session = PracticeSession(
                trainee_id=trainee.id,
                scenario_id=scenario["id"],
                difficulty=difficulty,
                seed=seed,
                exam_mode=exam_mode,
            )
            db.add(session)
            db.flush()
            return str(session.id)

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        with self._tx() as db:
            row = db.get(PracticeSession, session_id)
            return None if row is None else _session_dict(row)

    def set_exam_mode(self, session_id: str, exam_mode: bool) -> None:
        with self._tx() as db, db.begin():
            db.execute(update(PracticeSession).where(PracticeSession.id == session_id).values(exam_mode=exam_mode))

    def save_patient_state(self, session_id: str, state: dict[str, Any] | None) -> None:
        with self._tx() as db, db.begin():
            db.execute(update(PracticeSession).where(PracticeSession.id == session_id).values(patient_state=state))

    def end_session(self, session_id: str, by: str) -> None:
        with self._tx() as db, db.begin():
            db.execute(
                update(PracticeSession)
                .where(PracticeSession.id == session_id, PracticeSession.status == "active")
                .values(status="ended", ended_by=by, ended_at=utcnow())
            )

    # -- the in-flight guard --------------------------------------------------------------------------------
    def try_acquire(self, session_id: str) -> bool:
        """Mark a message in flight; False when another one is still being answered."""
        with self._tx() as db, db.begin():
            return _acquire(db, session_id)

    def release(self, session_id: str) -> None:
        with self._tx() as db, db.begin():
            db.execute(update(PracticeSession).where(PracticeSession.id == session_id).values(busy_since=None))

    # -- one exchange in two transactions ---------------------------------------------------------------------
    def begin_turn(self, session_id: str, text: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Take the in-flight guard and store the trainee's message as pending, in one transaction.

        Returns (session, turn); the session is None when unknown, and the turn is None (nothing stored)
        when the session has ended or another of its messages is still being answered.
        """
        with self._tx() as db, db.begin():
            row = db.get(PracticeSession, session_id)
            if row is None:
                return None, None
            session = _session_dict(row)
            if row.status != "active" or not _acquire(db, session_id):
                return session, None
            return session, _turn_dict(self._new_turn(db, session_id, "trainee", text, status="pending"))

    def finish_turn(
        self,
        session_id: str,
        turn_id: int,
        status: str,
        score: dict[str, Any] | None = None,
        nlu_intent: str | None = None,
        reply: tuple[str, str, str | None] | None = None,
        state: dict[str, Any] | None = None,
        ended_by: str | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
        """Record the outcome of a turn and release the guard in one transaction.

        ``reply`` is (speaker, text, pool) for the patient's or the app's answer. Returns the trainee turn,
        the reply turn and the session, so the caller needs no further reads.
        """
        with self._tx() as db, db.begin():
            turn = db.get(Turn, turn_id)
            if turn is None or turn.session_id != session_id:
                raise KeyError(turn_id)
            turn.status = status
            if nlu_intent:
                turn.nlu_intent = nlu_intent
            if score is not None:
                _attach(turn, score)
            reply_turn = None
            if reply is not None:
                reply_turn = self._new_turn(db, session_id, reply[0], reply[1], pool=reply[2])
            session = db.get(PracticeSession, session_id)
            assert session is not None
            session.busy_since = None
            if state is not None:
                session.patient_state = state
            if ended_by and session.status == "active":
                session.status, session.ended_by, session.ended_at = "ended", ended_by, utcnow()
            db.flush()
            return _turn_dict(turn), (_turn_dict(reply_turn) if reply_turn else None), _session_dict(session)

    @staticmethod
    def _new_turn(db: Session, session_id: str, speaker: str, text: str, **fields: Any) -> Turn:
        index = db.execute(select(func.count(Turn.id)).where(Turn.session_id == session_id)).scalar_one()
        turn = Turn(session_id=session_id, index=index, speaker=speaker, text=text, **fields)
        db.add(turn)
        db.flush()
        return turn

    # -- turns ----------------------------------------------------------------------------------------------
    def add_turn(
        self,
        session_id: str,
        speaker: str,
        text: str,
        status: str | None = None,
        pool: str | None = None,
        score: dict[str, Any] | None = None,
        nlu_intent: str | None = None,
    ) -> dict[str, Any]:
        with self._tx() as db, db.begin():
            turn = self._new_turn(db, session_id, speaker, text, status=status, pool=pool, nlu_intent=nlu_intent)
            if score is not None:
                _attach(turn, score)
            return _turn_dict(turn)

    def turns(self, session_id: str) -> list[dict[str, Any]]:
        with self._tx() as db:
            rows = db.execute(select(Turn).where(Turn.session_id == session_id).order_by(Turn.index)).unique()
            return [_turn_dict(t) for t in rows.scalars()]


def _acquire(db: Session, session_id: str) -> bool:
    """The in-flight guard: a conditional UPDATE, atomic in SQLite and PostgreSQL alike, so it holds across
    processes; a guard older than IN_FLIGHT_TIMEOUT_S (a crashed request) is taken over."""
    now = time.time()
    taken = db.execute(
        update(PracticeSession)
        .where(PracticeSession.id == session_id)
        .where((PracticeSession.busy_since.is_(None)) | (PracticeSession.busy_since < now - IN_FLIGHT_TIMEOUT_S))
        .values(busy_since=now)
    )
    return bool(taken.rowcount)


def _attach(turn: Turn, score: dict[str, Any]) -> None:
    dims = score.get("dimensions", {})
    turn.score = TurnScore(
        empathy=dims.get("empathy", {}).get("score"),
        collaboration=dims.get("collaboration", {}).get("score"),
        shared_decision=dims.get("shared_decision", {}).get("score"),
        detail=score,
    )


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat() + "Z"


def _session_dict(row: PracticeSession) -> dict[str, Any]:
    return {
        "id": row.id,
        "display_name": row.trainee.display_name,
        "scenario_id": row.scenario_id,
        "scenario_title": row.scenario.title,
        "difficulty": row.difficulty,
        "seed": row.seed,
        "exam_mode": bool(row.exam_mode),
        "status": row.status,
        "ended_by": row.ended_by,
        "created_at": _iso(row.created_at),
        "ended_at": _iso(row.ended_at),
        "patient_state": row.patient_state,
    }


def _turn_dict(turn: Turn) -> dict[str, Any]:
    return {
        "id": turn.id,
        "index": turn.index,
        "speaker": turn.speaker,
        "text": turn.text,
        "status": turn.status,
        "pool": turn.pool,
        "nlu_intent": turn.nlu_intent,
        "created_at": _iso(turn.created_at),
        "score": turn.score.detail if turn.score is not None else None,
    }
