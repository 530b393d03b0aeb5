"""Every error response has the documented shape, including Sanic's own and an unexpected failure (500)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bot.store import Store, make_engine
from bot.web.app import create_app
from tests.services import free_port


def fetch(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_every_error_has_the_documented_shape(tmp_path: Path) -> None:
    app = create_app(Store(make_engine(f"sqlite:///{tmp_path / 'errors.db'}")), name="errors_shape")

    @app.get("/api/test-failure")
    async def failure(request: Any) -> Any:
        raise RuntimeError("an unexpected bug")

    port = free_port()
    base = f"http://127.0.0.1:{port}"

    async def run() -> list[tuple[int, dict[str, Any]]]:
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
        assert server is not None
        await server.startup()
        try:
            return await asyncio.to_thread(
                lambda: [
                    fetch(base + "/api/test-failure"),
                    fetch(base + "/api/nothing-here"),
                    fetch(base + "/api/sessions", "POST", b"{" * 10),
                    fetch(base + "/api/sessions", "POST", b"[" * 3000 + b"]" * 3000),
                    fetch(base + "/api/sessions", "POST", json.dumps({"text": "x" * 70_000}).encode()),
                    fetch(base + "/api/sessions/none/messages", "POST", b'{"text": "hello"}'),
                ]
            )
        finally:
            server.close()
            await server.wait_closed()

    answers = asyncio.run(run())
    assert [(status, body["error"]["code"]) for status, body in answers] == [
        (500, "internal_error"),
        (404, "not_found"),
        (400, "invalid_json"),
        (400, "invalid_json"),
        (413, "payload_too_large"),
        (404, "unknown_session"),
    ]
    assert all(set(body) == {"error"} and set(body["error"]) == {"code", "message"} for _, body in answers)
