"""The production set-up: the three servers on PostgreSQL (app tables and Rasa's tracker store) with Rasa's
lock store on Redis, on the services this machine runs (127.0.0.1:5432 database test, 127.0.0.1:6379)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.services import Ports, Services
from bot.store import Store, make_engine
from tests.conftest import PG_URL, ROOT
from tests.test_e2e import call

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
REDIS_URL = "redis://127.0.0.1:6379/3"


def _reachable(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not (_reachable(5432) and _reachable(6379)):
        pytest.skip("PostgreSQL (5432) and Redis (6379) are needed on 127.0.0.1 for the production set-up")
    folder: Path = tmp_path_factory.mktemp("production")
    services = Services(
        ROOT / "models" / "rapport.tar.gz",
        PG_URL,
        Ports(web=18300, rasa=15305, actions=15355),
        log_dir=folder / "log",
        redis_url=REDIS_URL,
    )
    services.start()
    try:
        yield {"base": "http://127.0.0.1:18300", "services": services}
    finally:
        services.stop()


def test_a_conversation_is_stored_in_postgres_and_tracked_by_rasa_there(production: dict[str, Any]) -> None:
    base = production["base"]
    status, body = call(base, "POST", "/api/sessions", {"display_name": "PG", "scenario_id": "difficult-news"})
    assert status == 201, body
    sid = body["session"]["id"]
    for line in ("Hello, I'm Dr Khan.", "What have you been told so far?", "I'm afraid it's not good news."):
        status, body = call(base, "POST", f"/api/sessions/{sid}/messages", {"text": line})
        assert status == 200, body
    engine = make_engine(PG_URL)
    assert engine.dialect.name == "postgresql"
    turns = Store(engine).turns(sid)
    assert [t["speaker"] for t in turns] == ["patient", "trainee", "patient"] * 1 + ["trainee", "patient"] * 2
    with engine.connect() as conn:
        events = conn.execute(text("select count(*) from events where sender_id = :s"), {"s": sid}).scalar_one()
        conn.execute(text("delete from events where sender_id = :s"), {"s": sid})
        conn.commit()
    assert events > 0  # Rasa's tracker store is in PostgreSQL too
    status, body = call(base, "GET", f"/api/sessions/{sid}/report")
    assert status == 200 and len(body["report"]["transcript"]) == 7
