"""The trainee's pages and their assets, all served locally (no CDN)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, file

from bot.web.errors import error

STATIC_DIR = Path(__file__).parent / "static"

bp = Blueprint("pages")


@bp.get("/")
async def index(request: Request) -> HTTPResponse:
    return await file(STATIC_DIR / "index.html", mime_type="text/html; charset=utf-8")


@bp.get("/<name:path>")
async def asset(request: Request, name: str) -> HTTPResponse:
    path = (STATIC_DIR / name).resolve()
    if STATIC_DIR.resolve() not in path.parents or not path.is_file():
        return error(404, "not_found", "No such page.")
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if mime.startswith("text/") or mime.endswith("javascript"):
        mime += "; charset=utf-8"
    return await file(path, mime_type=mime)
