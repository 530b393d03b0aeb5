"""Start the Rasa server (``python -m bot.rasa_server run ...``, the same arguments as ``rasa``) with three fixes.

1. The action-response schema is checked once, not on every call (below).
2. The tracker store never falls back to memory: Rasa 3.6 wraps it in ``FailSafeTrackerStore``, which on a
   database error carries on with an empty in-memory tracker, so the patient forgets the conversation and the
   message is answered as if no session were running. Here an error propagates: the turn fails (the web app
   answers 503 and keeps the message unanswered) and the next turn uses the database again.
3. The tracker store's connections are checked before use (``pool_pre_ping``), so a dropped connection is
   replaced instead of failing a turn; SQLite connections are pooled.

Profiling our turn showed that Rasa 3.6 spent over half of its time per message in
``RemoteAction._validate_action_result``: ``jsonschema.validate`` re-checks the (constant) response schema
against its meta-schema on every call. Here the validator is built and the schema checked once; each
response is still validated against the same schema, with the same error message on failure.
This is the only module of ``bot`` that imports Rasa, and only in the Rasa server's own process.
"""

from __future__ import annotations

from typing import Any

_VALIDATOR: Any = None


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    from jsonschema import ValidationError
    from rasa.shared.constants import DOCS_BASE_URL

    try:
        _VALIDATOR.validate(result)
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise e


def install() -> None:
    """Swap in the cached validator (idempotent)."""
    global _VALIDATOR
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    if _VALIDATOR is None:
        spec = RemoteAction.action_response_format_spec()
        cls = validator_for(spec)
        cls.check_schema(spec)
        _VALIDATOR = cls(spec)
    RemoteAction._validate_action_result = _validate_action_result


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL and normal sync for the SQLite tracker store: readers never wait for the writer, and a commit does
    not wait for the disk (still safe against a crash of any process)."""
    import sqlite3

    if isinstance(dbapi_conn, sqlite3.Connection):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


class TrackerStoreUnavailable(RuntimeError):
    """The tracker store failed; the message is not handled (never from an empty in-memory tracker)."""


def _raise(error: Exception) -> None:
    raise TrackerStoreUnavailable(f"The tracker store failed: {error}") from error


def _strict_tracker_store() -> None:
    """Make Rasa's fail-safe wrapper re-raise instead of falling back to an in-memory tracker (fix 2)."""
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, TrackerStore
    from rasa.shared.core.domain import Domain

    def _create_tracker_store(store: TrackerStore | None, domain: Domain) -> TrackerStore:
        if store is not None:
            store.domain = domain
        else:
            store = InMemoryTrackerStore(domain)  # `rasa shell` and tests without endpoints
        return FailSafeTrackerStore(store, on_tracker_store_error=_raise)

    Agent._create_tracker_store = staticmethod(_create_tracker_store)


def _pool_sqlite_tracker_store() -> None:
    """SQLAlchemy 1.4 opens a new SQLite connection per tracker-store call (NullPool); keep one open instead,
    and pre-ping PostgreSQL connections so one the server dropped is replaced (fix 3).

    Rasa builds its engine with ``sqlalchemy.create_engine``; the PostgreSQL tracker store otherwise keeps
    Rasa's own pool settings.
    """
    import sqlalchemy
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import QueuePool

    original = sqlalchemy.create_engine

    def create_engine(url: Any, **kwargs: Any) -> Engine:
        if str(url).startswith("sqlite") and ":memory:" not in str(url):
            kwargs.setdefault("poolclass", QueuePool)
            kwargs.setdefault("connect_args", {"check_same_thread": False})
        elif not str(url).startswith("sqlite"):
            kwargs.setdefault("pool_pre_ping", True)
        return original(url, **kwargs)

    sqlalchemy.create_engine = create_engine
    event.listen(Engine, "connect", _sqlite_pragmas)


def main() -> None:
    install()
    _strict_tracker_store()
    _pool_sqlite_tracker_store()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
