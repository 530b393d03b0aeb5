"""Database tables: trainee, scenario, practice session, turn and turn score.

Plain SQLAlchemy 1.4 Core-compatible ORM classes used in the 2.0 style (``future=True``, ``select()``).
JSON columns hold the scorer's output and the patient state verbatim so a report can be rebuilt exactly.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeMeta, registry, relationship

mapper_registry = registry()


class Base(metaclass=DeclarativeMeta):
    """Declarative base spelled out (SQLAlchemy 1.4's typed pattern) so mypy can check the models."""

    __abstract__ = True
    registry = mapper_registry
    metadata = mapper_registry.metadata
    __init__ = mapper_registry.constructor


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_id() -> str:
    return uuid.uuid4().hex


class Trainee(Base):
    __tablename__ = "trainee"
    id = Column(String(32), primary_key=True, default=new_id)
    display_name = Column(String(80), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class ScenarioRecord(Base):
    """The scenarios sessions were played on, kept so old reports still name them."""

    __tablename__ = "scenario"
    id = Column(String(80), primary_key=True)
    version = Column(Integer, nullable=False, default=1)
    title = Column(String(200), nullable=False)
    theme = Column(String(40), nullable=False)


class PracticeSession(Base):
    __tablename__ = "practice_session"
    id = Column(String(32), primary_key=True, default=new_id)
    trainee_id = Column(String(32), ForeignKey("trainee.id"), nullable=False, index=True)
    scenario_id = Column(String(80), ForeignKey("scenario.id"), nullable=False, index=True)
    difficulty = Column(String(20), nullable=False)
    seed = Column(Integer, nullable=False)
    exam_mode = Column(Boolean, nullable=False, default=False)
    status = Column(String(10), nullable=False, default="active")  # active | ended
    ended_by = Column(String(10))  # trainee | patient
    patient_state = Column(JSON)
    # The in-flight guard: while a message is being answered, the token of the request that holds it and when
    # it was taken (epoch seconds). Only the holder of the token may free it.
    busy_since = Column(Float)
    busy_token = Column(String(32))
    busy_owner = Column(String(100))  # the web app instance that holds it, so a restarted one frees its own
    created_at = Column(DateTime, nullable=False, default=utcnow)
    ended_at = Column(DateTime)

    trainee = relationship(Trainee, lazy="joined")
    scenario = relationship(ScenarioRecord, lazy="joined")
    turns = relationship("Turn", order_by="Turn.index", back_populates="session", cascade="all, delete-orphan")


class Turn(Base):
    __tablename__ = "turn"
    __table_args__ = (
        UniqueConstraint("session_id", "index", name="uq_turn_session_index"),
        UniqueConstraint("session_id", "idempotency_key", name="uq_turn_session_idempotency_key"),
    )
    id = Column(Integer, primary_key=True, autoincrement=True)
    session_id = Column(String(32), ForeignKey("practice_session.id"), nullable=False, index=True)
    index = Column(Integer, nullable=False)
    speaker = Column(String(10), nullable=False)  # trainee | patient | system
    text = Column(Text, nullable=False)
    status = Column(String(12))  # trainee turns: pending | answered | unanswered | command
    idempotency_key = Column(String(100))  # trainee turns: the client's key; a retry with it gets this turn back
    reply_to = Column(
        Integer, ForeignKey("turn.id", name="fk_turn_reply_to")
    )  # patient and system turns: the trainee turn they answer
    nlu_intent = Column(String(60))
    pool = Column(String(80))  # patient turns: which reply pool the line came from
    created_at = Column(DateTime, nullable=False, default=utcnow)

    session = relationship(PracticeSession, back_populates="turns")
    score = relationship("TurnScore", uselist=False, back_populates="turn", cascade="all, delete-orphan", lazy="joined")


class TurnScore(Base):
    __tablename__ = "turn_score"
    turn_id = Column(Integer, ForeignKey("turn.id"), primary_key=True)
    empathy = Column(Integer)
    collaboration = Column(Integer)
    shared_decision = Column(Integer)
    detail = Column(JSON, nullable=False)  # the scorer's full output: acts, cues, evidence, tip

    turn = relationship(Turn, back_populates="score")
