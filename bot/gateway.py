"""The web app's line to the patient: Rasa's REST channel, which runs our custom actions.

Anything that goes wrong on the way (Rasa down, the action server down, a timeout, an unexpected answer)
becomes ``PatientUnavailable`` with a message a trainee can act on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

DEFAULT_RASA_URL = "http://127.0.0.1:5005"
DEFAULT_ACTIONS_URL = "http://127.0.0.1:5055"
PAYLOAD_TYPES = ("patient_turn", "system", "end", "error")


class PatientUnavailable(RuntimeError):
    """The simulated patient could not answer; the caller keeps the trainee's message and says so."""


class RasaGateway:
    def __init__(self, base_url: str | None = None, timeout_s: float | None = None) -> None:
        self.base_url = (base_url or os.environ.get("RASA_URL") or DEFAULT_RASA_URL).rstrip("/")
        self.actions_url = (os.environ.get("RAPPORT_ACTIONS_URL") or DEFAULT_ACTIONS_URL).rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s or float(os.environ.get("RAPPORT_RASA_TIMEOUT", "30")))
        self._http: aiohttp.ClientSession | None = None

    async def _client(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=self.timeout)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def send(
        self, sender: str, message: str, idempotency_key: str | None = None, typed: bool = False
    ) -> dict[str, Any]:
        """Send one message and return our action's JSON payload (patient turn, system note or end).

        ``idempotency_key`` travels as the message's metadata, so the action can recognise a retry of a message
        Rasa has already handled and answer it without moving the patient twice. Raises ``PatientUnavailable``
        on any failure: refused, timed out (``RAPPORT_RASA_TIMEOUT`` seconds), an error status, or an answer
        without our action's payload, which is what Rasa returns when the action server or its tracker store
        failed. ``typed``: the message is the trainee's own words, which always go to the patient, never to an
        app command, whatever intent Rasa reads in them.
        """
        url = f"{self.base_url}/webhooks/rest/webhook"
        body: dict[str, Any] = {"sender": sender, "message": message}
        metadata: dict[str, Any] = {"typed": typed}
        if idempotency_key:
            metadata["idempotency_key"] = idempotency_key
        body["metadata"] = metadata
        try:
            http = await self._client()
            async with http.post(url, json=body) as resp:
                if resp.status != 200:
                    raise PatientUnavailable(f"The conversation engine answered with status {resp.status}.")
                answers = await resp.json(content_type=None)
        except asyncio.TimeoutError as exc:  # aiohttp's timeout; not the builtin TimeoutError before Python 3.11
            log.warning("Rasa did not answer within %.0f s at %s", self.timeout.total or 0, url)
            raise PatientUnavailable("The patient did not answer in time.") from exc
        except (aiohttp.ClientError, json.JSONDecodeError) as exc:
            log.warning("Rasa unreachable at %s: %s", url, exc)
            raise PatientUnavailable("The conversation engine (Rasa) is not reachable.") from exc
        for answer in answers if isinstance(answers, list) else []:
            custom = answer.get("custom") if isinstance(answer, dict) else None
            if isinstance(custom, dict) and custom.get("type") in PAYLOAD_TYPES:
                if custom["type"] == "error":
                    log.warning("The action server reported %s: %s", custom.get("code"), custom.get("text"))
                    raise PatientUnavailable("The patient simulator lost track of this conversation.")
                return custom
        log.warning("Rasa answered without an action payload: %s", answers)
        raise PatientUnavailable("The patient simulator (action server) did not answer.")

    async def healthy(self) -> dict[str, bool]:
        """Whether Rasa and the action server answer (Rasa's own status does not check the latter)."""
        status = {}
        http = await self._client()
        for key, url in (("rasa", self.base_url + "/"), ("actions", self.actions_url + "/health")):
            try:
                async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    status[key] = resp.status == 200
            except (aiohttp.ClientError, TimeoutError):
                status[key] = False
        return status
