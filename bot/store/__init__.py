"""Storage: SQLAlchemy models and the operations on them."""

from bot.store.repository import Store, database_url, make_engine

__all__ = ["Store", "database_url", "make_engine"]
