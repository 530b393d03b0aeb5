"""Schema changes as Alembic revisions (``versions/``), applied when a ``Store`` is opened.

A new database gets the current tables straight from the models and is stamped with the latest revision; a
database made before Alembic came in (tables but no ``alembic_version``) is stamped with the baseline and
upgraded; any other is upgraded to the latest revision. ``alembic`` on the command line works too, with
``-x url=...``: ``alembic -c bot/store/migrations/alembic.ini -x url=sqlite:///var/rapport.db upgrade head``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
BASELINE = "0001"


def config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    return cfg


def head() -> str:
    return str(ScriptDirectory.from_config(Config(str(HERE / "alembic.ini"))).get_current_head())


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the database at ``engine`` to the latest revision (idempotent; a no-op when already there)."""
    from bot.store.models import Base

    revision = current(engine)
    if revision == head():
        return
    cfg = config(engine)
    if revision is None:
        tables = set(inspect(engine).get_table_names())
        if "practice_session" not in tables:
            Base.metadata.create_all(engine)
            command.stamp(cfg, "head")
            return
        log.info("Database made before migrations: stamping the baseline, then upgrading")
        command.stamp(cfg, BASELINE)
    command.upgrade(cfg, "head")
