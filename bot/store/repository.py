"""Storage operations the web app needs, each one short transaction in SQLAlchemy's 2.0 style.

SQLite (a file under ``var/``) is the default; ``DATABASE_URL`` selects PostgreSQL in production. Functions
return plain dicts so callers never hold ORM objects across awaits.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import create_engine, event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.store.migrations import upgrade
from bot.store.models import PracticeSession, ScenarioRecord, Trainee, Turn, TurnScore, utcnow

DEFAULT_URL = "sqlite:///var/rapport.db"
IN_FLIGHT_TIMEOUT_S = 120.0  # a guard older than this is stale (its request died), so it is taken over

BeginKind = Literal["unknown", "ended", "busy", "started", "replay", "in_flight", "key_conflict", "superseded"]


@dataclass
class Begin:
    """What ``Store.begin_turn`` did.

    - ``started``: the turn is pending and ``token`` holds the session's in-flight guard (a new turn, or an
      unanswered one taken up again by a retry with its key);
    - ``replay``: the key was answered before; ``turn`` and ``replies`` are what was stored then;
    - ``in_flight``: the key's turn is still being answered; ``busy``: another message is;
    - ``key_conflict``: the key was used for a different text; ``superseded``: the key's turn went unanswered
      and the conversation has moved on since;
    - ``ended`` / ``unknown``: the session has ended / does not exist. Nothing is stored unless ``started``.
    """

    kind: BeginKind
    session: dict[str, Any] | None = None
    turn: dict[str, Any] | None = None
    token: str | None = None
    replies: list[dict[str, Any]] = field(default_factory=list)


class GuardLost(RuntimeError):
    """The in-flight guard was taken over (its request was presumed dead); the turn's outcome was not stored."""


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
        event.listen(engine, "begin", _sqlite_begin)
    else:
        # pre-ping: a connection the server dropped (restart, failover, idle kill) is replaced, not used
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
    dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)


def _sqlite_begin(conn: Any) -> None:
    """Writes start with BEGIN IMMEDIATE: SQLite then waits (busy_timeout) for the write lock up front, instead
    of failing with "database is locked" when a read transaction tries to become a write one mid-way."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("rapport_write") else "BEGIN")


class Store:
    """The app's storage. ``stale_after_s``: how old an in-flight guard must be before it is taken over; keep
    it above the gateway's timeout (``RAPPORT_RASA_TIMEOUT``) so a slow answer is never mistaken for a dead one.
    ``owner`` names the web app instance (``recover`` frees what a crashed run of it left). The schema is brought
    to the latest Alembic revision on construction."""

    def __init__(
        self, engine: Engine | None = None, stale_after_s: float = IN_FLIGHT_TIMEOUT_S, owner: str = "local"
    ) -> None:
        self.engine = engine or make_engine()
        self.stale_after_s = stale_after_s
        self.owner = owner  # who takes guards through this store: one web app instance
        upgrade(self.engine)
        self._read = sessionmaker(self.engine, future=True, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(rapport_write=True), future=True, expire_on_commit=False
        )

    def _tx(self) -> Session:
        """A write transaction (use with ``db.begin()``)."""
        return self._write()

    def _ro(self) -> Session:
        return self._read()

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
        with self._ro() as db:
            row = db.get(PracticeSession, session_id)
            return None if row is None else _session_dict(row)

    def set_exam_mode(self, session_id: str, exam_mode: bool) -> None:
        with self._tx() as db, db.begin():
            db.execute(update(PracticeSession).where(PracticeSession.id == session_id).values(exam_mode=exam_mode))

    def open_session(self, session_id: str, line: str, pool: str | None, state: dict[str, Any] | None) -> None:
        """Store the patient's opening line and first state together."""
        with self._tx() as db, db.begin():
            self._new_turn(db, session_id, "patient", line, pool=pool)
            db.execute(update(PracticeSession).where(PracticeSession.id == session_id).values(patient_state=state))

    def end_session(self, session_id: str, by: str, unless_busy: bool = False) -> bool:
        """End an active session; with ``unless_busy``, not while a message is being answered (a live guard).
        Returns whether the session is ended now (True also when it had ended before)."""
        with self._tx() as db, db.begin():
            live = PracticeSession.busy_token.is_(None) | (
                PracticeSession.busy_since < time.time() - self.stale_after_s
            )
            query = update(PracticeSession).where(PracticeSession.id == session_id, PracticeSession.status == "active")
            if unless_busy:
                query = query.where(live)
            db.execute(query.values(status="ended", ended_by=by, ended_at=utcnow()))
            row = db.get(PracticeSession, session_id)
            return row is not None and row.status == "ended"

    def recover(self) -> int:
        """Free the guards this store's owner held when it stopped (a crash or a kill) and mark their pending
        turns unanswered, so their retries are answered at once. Returns how many sessions were freed."""
        with self._tx() as db, db.begin():
            ids = list(db.execute(select(PracticeSession.id).where(PracticeSession.busy_owner == self.owner)).scalars())
            if not ids:
                return 0
            db.execute(
                update(Turn)
                .where(Turn.session_id.in_(ids), Turn.status == "pending")
                .values(status="unanswered")
                .execution_options(synchronize_session=False)
            )
            db.execute(
                update(PracticeSession)
                .where(PracticeSession.id.in_(ids))
                .values(busy_since=None, busy_token=None, busy_owner=None)
                .execution_options(synchronize_session=False)
            )
            return len(ids)

    # -- the in-flight guard --------------------------------------------------------------------------------
    def try_acquire(self, session_id: str) -> str | None:
        """Mark a message in flight; returns the guard's token, or None when another one is being answered."""
        with self._tx() as db, db.begin():
            return _acquire(db, session_id, self.stale_after_s, self.owner)

    def release(self, session_id: str, token: str) -> bool:
        """Free the guard if ``token`` still holds it (a request never frees another request's guard)."""
        with self._tx() as db, db.begin():
            return _release(db, session_id, token)

    # -- one exchange in two transactions ---------------------------------------------------------------------
    def begin_turn(self, session_id: str, text: str, idempotency_key: str) -> Begin:
        """Store the trainee's message as pending and take the in-flight guard, in one transaction.

        A key seen before in this session is never stored twice: an answered turn is handed back as it was
        (``replay``), a pending one is ``in_flight``, and an unanswered one that is still the session's last
        turn is taken up again (``started`` with the same turn). See ``Begin`` for every outcome.
        """
        with self._tx() as db, db.begin():
            row = db.get(PracticeSession, session_id)
            if row is None:
                return Begin("unknown")
            previous = db.execute(
                select(Turn).where(Turn.session_id == session_id, Turn.idempotency_key == idempotency_key)
            ).scalar_one_or_none()
            if previous is not None:
                return self._repeat(db, row, previous, text)
            if row.status != "active":
                return Begin("ended", _session_dict(row))
            token = _acquire(db, session_id, self.stale_after_s, self.owner)
            if token is None:
                return Begin("busy", _session_dict(row))
            turn = self._new_turn(db, session_id, "trainee", text, status="pending", idempotency_key=idempotency_key)
            db.refresh(row)
            return Begin("started", _session_dict(row), _turn_dict(turn), token=token)

    def _repeat(self, db: Session, row: PracticeSession, previous: Turn, text: str) -> Begin:
        """A key seen before. A pending turn whose guard has died (its request crashed, or the guard went
        stale) is taken up again like an unanswered one, so its retry is never refused for ever."""
        session = _session_dict(row)
        if previous.text != text:
            return Begin("key_conflict", session, _turn_dict(previous))
        if previous.status not in ("pending", "unanswered"):
            return Begin("replay", session, _turn_dict(previous), replies=self._replies(db, previous.id))
        if row.status != "active":
            return Begin("ended", session, _turn_dict(previous))
        last = db.execute(select(func.max(Turn.index)).where(Turn.session_id == row.id)).scalar_one()
        if previous.index != last:
            return Begin("superseded", session, _turn_dict(previous))
        token = _acquire(db, row.id, self.stale_after_s, self.owner)  # marks a dead request's turn unanswered
        if token is None:
            return Begin("in_flight" if previous.status == "pending" else "busy", session, _turn_dict(previous))
        db.refresh(previous)
        previous.status = "pending"
        db.flush()
        return Begin("started", session, _turn_dict(previous), token=token)

    @staticmethod
    def _replies(db: Session, turn_id: int) -> list[dict[str, Any]]:
        rows = db.execute(select(Turn).where(Turn.reply_to == turn_id).order_by(Turn.index)).unique().scalars()
        return [_turn_dict(t) for t in rows]

    def finish_turn(
        self,
        session_id: str,
        turn_id: int,
        token: str,
        status: str,
        score: dict[str, Any] | None = None,
        nlu_intent: str | None = None,
        replies: Sequence[tuple[str, str, str | None]] = (),
        state: dict[str, Any] | None = None,
        ended_by: str | None = None,
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
        """Record the outcome of a turn and free the guard, in one transaction.

        ``replies`` are (speaker, text, pool) for the patient's answer and any app notice, stored right after
        the trainee turn and linked to it. Raises ``GuardLost`` (and changes nothing) when ``token`` no longer
        holds the guard, e.g. after a crashed request's guard was taken over; the turn is then left unanswered.
        Returns the trainee turn, the reply turns and the session.
        """
        with self._tx() as db, db.begin():
            turn = db.get(Turn, turn_id)
            if turn is None or turn.session_id != session_id:
                raise KeyError(turn_id)
            session = db.get(PracticeSession, session_id)
            assert session is not None
            if not _release(db, session_id, token):
                raise GuardLost(session_id)
            turn.status = status
            if nlu_intent:
                turn.nlu_intent = nlu_intent
            if score is not None:
                _attach(turn, score)
            added = [
                self._new_turn(db, session_id, speaker, text, pool=pool, reply_to=turn.id)
                for speaker, text, pool in replies
            ]
            if state is not None:
                session.patient_state = state
            if ended_by and session.status == "active":
                session.status, session.ended_by, session.ended_at = "ended", ended_by, utcnow()
            db.flush()
            db.refresh(session)
            return _turn_dict(turn), [_turn_dict(t) for t in added], _session_dict(session)

    @staticmethod
    def _new_turn(db: Session, session_id: str, speaker: str, text: str, **fields: Any) -> Turn:
        last = db.execute(select(func.max(Turn.index)).where(Turn.session_id == session_id)).scalar_one()
        turn = Turn(session_id=session_id, index=0 if last is None else last + 1, speaker=speaker, text=text, **fields)
        db.add(turn)
        db.flush()
        return turn

    # -- turns ----------------------------------------------------------------------------------------------
    def turns(self, session_id: str) -> list[dict[str, Any]]:
        with self._ro() as db:
            rows = db.execute(select(Turn).where(Turn.session_id == session_id).order_by(Turn.index)).unique()
            return [_turn_dict(t) for t in rows.scalars()]


def _acquire(db: Session, session_id: str, stale_after_s: float, owner: str) -> str | None:
    """The in-flight guard: a conditional UPDATE, atomic in SQLite and PostgreSQL alike, so it holds across
    processes. A guard older than ``stale_after_s`` belongs to a request that died; taking it over also marks
    that request's pending turns unanswered, so no turn stays pending for ever. Returns the new token."""
    now = time.time()
    token = uuid.uuid4().hex
    stale = PracticeSession.busy_since < now - stale_after_s
    taken = db.execute(
        update(PracticeSession)
        .where(PracticeSession.id == session_id)
        .where(PracticeSession.busy_token.is_(None) | stale)
        .values(busy_since=now, busy_token=token, busy_owner=owner)
        .execution_options(synchronize_session=False)
    )
    if not taken.rowcount:
        return None
    db.execute(
        update(Turn)
        .where(Turn.session_id == session_id, Turn.status == "pending")
        .values(status="unanswered")
        .execution_options(synchronize_session=False)
    )
    return token


def _release(db: Session, session_id: str, token: str) -> bool:
    freed = db.execute(
        update(PracticeSession)
        .where(PracticeSession.id == session_id, PracticeSession.busy_token == token)
        .values(busy_since=None, busy_token=None, busy_owner=None)
        .execution_options(synchronize_session=False)
    )
    return bool(freed.rowcount)


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
        "idempotency_key": turn.idempotency_key,
        "reply_to": turn.reply_to,
        "pool": turn.pool,
        "nlu_intent": turn.nlu_intent,
        "created_at": _iso(turn.created_at),
        "score": turn.score.detail if turn.score is not None else None,
    }
