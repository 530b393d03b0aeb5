"""The production set-up: the three servers on PostgreSQL (app tables and Rasa's tracker store) with Rasa's
lock store on Redis; both are private to the test session (``pg_stack`` in conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from bot.store import Store, make_engine
from tests.services import call

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def test_a_conversation_is_stored_in_postgres_and_tracked_by_rasa_there(pg_stack: dict[str, Any]) -> None:
    base = pg_stack["base"]
    status, body = call(base, "POST", "/api/sessions", {"display_name": "PG", "scenario_id": "difficult-news"})
    assert status == 201, body
    sid = body["session"]["id"]
    for line in ("Hello, I'm Dr Khan.", "What have you been told so far?", "I'm afraid it's not good news."):
        status, body = call(base, "POST", f"/api/sessions/{sid}/messages", {"text": line})
        assert status == 200, body
    engine = make_engine(pg_stack["db_url"])
    assert engine.dialect.name == "postgresql"
    turns = Store(engine).turns(sid)
    assert [t["speaker"] for t in turns] == ["patient", "trainee", "patient"] * 1 + ["trainee", "patient"] * 2
    with engine.connect() as conn:
        events = conn.execute(text("select count(*) from events where sender_id = :s"), {"s": sid}).scalar_one()
    assert events > 0  # Rasa's tracker store is in PostgreSQL too
    status, body = call(base, "POST", f"/api/sessions/{sid}/end")
    assert status == 200 and len(body["report"]["transcript"]) == 7
    engine.dispose()
