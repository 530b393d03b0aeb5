"""The OpenAPI 3 description of the JSON API, served at /api/openapi.json (Sanic 21 makes none itself).

A test compares it with the app's routes so the document cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

_ERR = {"$ref": "#/components/schemas/Error"}


def _resp(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description}
    if schema is not None:
        body["content"] = {"application/json": {"schema": schema}}
    return body


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Bad input (empty, too long, wrong type or range, invalid JSON, invalid idempotency key)",
        404: "Unknown session or scenario",
        409: "A message is still being answered, the session has ended, exam mode is locked on, or an unanswered "
        "message was superseded",
        413: "The request body is larger than 64 KiB",
        422: "The idempotency key was already used for a different message",
        503: "patient_unavailable: Rasa or the action server is down or too slow (the message is kept, unanswered); "
        "database_unavailable: the database failed",
    }
    return {str(c): _resp(text[c], _ERR) for c in codes}


def _json_body(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_SESSION_ID = [{"name": "session_id", "in": "path", "required": True, "schema": {"type": "string"}}]
_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "8-100 characters (letters, digits, . _ : -), new for each message and the same for its retries.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,100}$"},
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Rapport API",
        "version": "1",
        "description": "Practice sessions with a simulated patient.",
    },
    "paths": {
        "/api/health": {"get": {"summary": "Is the patient reachable", "responses": {"200": _resp("Status")}}},
        "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": _resp("OpenAPI")}}},
        "/api/scenarios": {"get": {"summary": "The scenario catalogue", "responses": {"200": _resp("Scenarios")}}},
        "/api/sessions": {
            "post": {
                "summary": "Start a practice session; the patient's opening line comes back",
                "requestBody": _json_body(
                    {
                        "display_name": {"type": "string", "maxLength": 80},
                        "scenario_id": {"type": "string"},
                        "difficulty": {"type": "string"},
                        "persona": {"type": "string"},
                        "exam_mode": {"type": "boolean"},
                        "seed": {"type": "integer", "minimum": 0, "maximum": 2147483647},
                    },
                    required=("display_name", "scenario_id"),
                ),
                "responses": {"201": _resp("Session created"), **_errors(400, 404, 413, 503)},
            }
        },
        "/api/sessions/{session_id}": {
            "parameters": _SESSION_ID,
            "get": {
                "summary": "A session and its turns",
                "responses": {"200": _resp("Session"), **_errors(404)},
            },
            "patch": {
                "summary": "Switch exam mode",
                "requestBody": _json_body({"exam_mode": {"type": "boolean"}}, required=("exam_mode",)),
                "responses": {"200": _resp("Session"), **_errors(400, 404, 409)},
            },
        },
        "/api/sessions/{session_id}/messages": {
            "parameters": _SESSION_ID,
            "post": {
                "summary": "Send a trainee message; get the scored turn and the patient's reply",
                "parameters": [_KEY],
                "requestBody": _json_body(
                    {"text": {"type": "string", "maxLength": 2000}, "idempotency_key": {"type": "string"}},
                    required=("text",),
                ),
                "responses": {
                    "200": _resp("Trainee turn with score, patient turn (replayed: true for a retried key)"),
                    **_errors(400, 404, 409, 413, 422, 503),
                },
            },
        },
        "/api/sessions/{session_id}/commands": {
            "parameters": _SESSION_ID,
            "post": {
                "summary": "An app command (hint or help), answered out of role as a system turn",
                "parameters": [_KEY],
                "requestBody": _json_body({"command": {"type": "string", "enum": ["hint", "help"]}}, ("command",)),
                "responses": {"200": _resp("Command turn and the app's answer"), **_errors(400, 404, 409, 422, 503)},
            },
        },
        "/api/sessions/{session_id}/end": {
            "parameters": _SESSION_ID,
            "post": {
                "summary": "End the session and get the report (not while a message is being answered)",
                "responses": {"200": _resp("Report"), **_errors(404, 409, 503)},
            },
        },
        "/api/sessions/{session_id}/report": {
            "parameters": _SESSION_ID,
            "get": {"summary": "The session report", "responses": {"200": _resp("Report"), **_errors(404, 409)}},
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                },
            }
        }
    },
}
