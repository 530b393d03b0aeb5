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

from bot.store.models import Base, PracticeSession, ScenarioRecord, Trainee, Turn, TurnScore, utcnow

DEFAULT_URL = "sqlite:///var/rapport.db"
IN_FLIGHT_TIMEOUT_S = 120.0  # a guard older than this is stale (a crashed request), so it is taken over


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL lets the web app read while a write is under way; foreign keys are off by default in SQLite."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
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
        """Mark a message in flight; False when another one is still being answered.

        A conditional UPDATE is atomic in SQLite and PostgreSQL alike, so this holds across processes.
        """
        now = time.time()
        with self._tx() as db, db.begin():
            result = db.execute(
                update(PracticeSession)
                .where(PracticeSession.id == session_id)
                .where(
                    (PracticeSession.busy_since.is_(None)) | (PracticeSession.busy_since < now - IN_FLIGHT_TIMEOUT_S)
                )
                .values(busy_since=now)
            )
            return bool(result.rowcount)

    def release(self, session_id: str) -> None:
        with self._tx() as db, db.begin():
            db.execute(update(PracticeSession).where(PracticeSession.id == session_id).values(busy_since=None))

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
            index = db.execute(select(func.count(Turn.id)).where(Turn.session_id == session_id)).scalar_one()
            turn = Turn(
                session_id=session_id,
                index=index,
                speaker=speaker,
                text=text,
                status=status,
                pool=pool,
                nlu_intent=nlu_intent,
            )
            db.add(turn)
            db.flush()
            if score is not None:
                _attach(turn, score)
            return _turn_dict(turn)

    def answer_turn(
        self, turn_id: int, status: str, score: dict[str, Any] | None = None, nlu_intent: str | None = None
    ) -> dict[str, Any]:
        with self._tx() as db, db.begin():
            turn = db.get(Turn, turn_id)
            if turn is None:
                raise KeyError(turn_id)
            turn.status = status
            if nlu_intent:
                turn.nlu_intent = nlu_intent
            if score is not None:
                _attach(turn, score)
            db.flush()
            return _turn_dict(turn)

    def turns(self, session_id: str) -> list[dict[str, Any]]:
        with self._tx() as db:
            rows = db.execute(select(Turn).where(Turn.session_id == session_id).order_by(Turn.index)).unique()
            return [_turn_dict(t) for t in rows.scalars()]


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
