"""Helpers shared by the actions: reading what Rasa understood, and routing unsure meta intents."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

META_CONFIDENCE = 0.6  # below this a "meta" intent is more likely a clinical turn that Rasa misread


def latest_intent(tracker: Tracker) -> tuple[str, float] | None:
    intent = (tracker.latest_message or {}).get("intent") or {}
    name = intent.get("name")
    return (str(name), float(intent.get("confidence") or 0.0)) if name else None


def entity(tracker: Tracker, name: str) -> Any:
    return next(tracker.get_latest_entity_values(name), None)


def is_confident_meta(tracker: Tracker) -> bool:
    """Whether a meta intent (hint, help, end, ...) should be answered by the app.

    Never for the trainee's own words (the web app marks them ``typed``): natural speech such as "shall we stop
    there?" always goes to the patient; commands come from the page's buttons as payloads (``/ask_hint``,
    confidence 1.0). Other channels' text must be clear enough.
    """
    if ((tracker.latest_message or {}).get("metadata") or {}).get("typed"):
        return False
    intent = latest_intent(tracker)
    return intent is not None and intent[1] >= META_CONFIDENCE


def system(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "system", "text": text, **extra}
