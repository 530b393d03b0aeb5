"""The web app: the trainee's pages and the JSON API, the one door in front of Rasa and the action server.

Routes are grouped by concern in blueprints (``sessions``, ``system``, ``pages``); each is a thin adapter
over ``bot.turns.TurnService``, which owns storage and the exchange with the patient.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
from typing import Any

from sanic import Sanic

from bot.gateway import RasaGateway
from bot.store import Store
from bot.turns import TurnService
from bot.web import errors, pages, sessions, system

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # a 2,000-character message is at most ~24 KB of JSON, even all escaped
_names = itertools.count()


def create_app(store: Store | None = None, gateway: RasaGateway | None = None, name: str | None = None) -> Sanic:
    app = Sanic(name or f"rapport_web_{next(_names)}")
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.REQUEST_MAX_SIZE = int(os.environ.get("RAPPORT_MAX_BODY_BYTES", MAX_BODY_BYTES))
    gateway = gateway or RasaGateway()
    if store is None:
        # a guard is stale only well after the gateway has given up on its turn; the owner names this instance
        owner = os.environ.get("RAPPORT_INSTANCE_ID") or f"{socket.gethostname()}:{os.environ.get('RAPPORT_WEB_PORT')}"
        store = Store(stale_after_s=max(120.0, 2 * (gateway.timeout.total or 30.0) + 30.0), owner=owner[:100])
    app.ctx.turns = TurnService(store, gateway)
    app.ctx.store = store
    errors.install(app)
    app.blueprint(system.bp)
    app.blueprint(sessions.bp)
    app.blueprint(pages.bp)

    @app.before_server_start
    async def _recover(app: Sanic, _loop: Any) -> None:
        app.ctx.turns.recover()  # what a crashed run of this instance left in flight is freed at once

    @app.before_server_stop
    async def _drain(app: Sanic, _loop: Any) -> None:
        await app.ctx.turns.drain()  # turns in flight finish (answered or unanswered), none stays pending

    @app.after_server_stop
    async def _close(app: Sanic, _loop: Any) -> None:
        await app.ctx.turns.gateway.close()

    return app
