"""Alembic's environment: runs on the engine the Store hands over, or on ``-x url=...`` from the command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bot.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("Give the database: alembic -c bot/store/migrations/alembic.ini -x url=DATABASE_URL ...")
    engine = create_engine(url, future=True)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER constraints: batch mode copies the table instead
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
