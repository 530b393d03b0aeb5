"""The practice loop: start a scenario, answer each trainee turn in role, end the session."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import entity, is_confident_meta, latest_intent, system
from bot import practice

log = logging.getLogger(__name__)


class ActionStartScenario(Action):
    def name(self) -> str:
        return "action_start_scenario"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[Any]:
        scenario_id = entity(tracker, "scenario_id") or tracker.get_slot("scenario_id")
        if tracker.get_slot("patient_state") and tracker.get_slot("scenario_id"):
            if not is_confident_meta(tracker):
                return patient_turn(dispatcher, tracker)
            dispatcher.utter_message(
                json_message=system("A practice session is already running here. End it before starting another.")
            )
            return []
        if not scenario_id:
            dispatcher.utter_message(
                json_message=system("Which scenario would you like? Pick one from the list on the home page.")
            )
            return []
        try:
            seed = int(entity(tracker, "seed") or 0)
        except (TypeError, ValueError):
            seed = 0
        try:
            opening = practice.start(
                str(scenario_id), entity(tracker, "difficulty"), seed, persona=entity(tracker, "persona")
            )
        except practice.UnknownScenario:
            dispatcher.utter_message(json_message=system(f"There is no scenario called '{scenario_id}'."))
            return []
        dispatcher.utter_message(json_message=opening)
        return [
            SlotSet("scenario_id", str(scenario_id)),
            SlotSet("patient_state", opening["state"]),
        ]


def answered_before(tracker: Tracker) -> dict[str, Any] | None:
    """Our payload from an earlier handling of this very message, recognised by its idempotency key.

    The web app retries a message whose answer it did not receive (a timeout) with the same key; if Rasa did
    handle the first attempt, the patient has already moved, so the earlier answer is given again instead of
    moving the patient twice.
    """
    key = ((tracker.latest_message or {}).get("metadata") or {}).get("idempotency_key")
    if not key:
        return None
    events = tracker.events or []
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    for start in reversed(users[:-1]):
        if (events[start].get("metadata") or {}).get("idempotency_key") != key:
            continue
        for later in events[start + 1 :]:
            if later.get("event") == "user":
                break
            custom = (later.get("data") or {}).get("custom") if later.get("event") == "bot" else None
            if isinstance(custom, dict) and custom.get("type") == "patient_turn":
                return custom
        return None
    return None


def patient_turn(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[Any]:
    """Score the latest trainee message and let the patient answer; shared with unsure meta actions."""
    scenario_id = tracker.get_slot("scenario_id")
    state = tracker.get_slot("patient_state")
    if not scenario_id or not state:
        # Only a lost tracker gets here from the web app (it starts every session): an error, never a reply.
        dispatcher.utter_message(
            json_message={"type": "error", "code": "no_session", "text": "No practice session is running."}
        )
        return []
    earlier = answered_before(tracker)
    if earlier is not None:
        log.info("Message %s was answered before; giving the same answer", tracker.sender_id)
        dispatcher.utter_message(json_message=earlier)
        return []
    if state.get("ended"):
        dispatcher.utter_message(
            json_message=system("The patient has left; this scenario is over. Open the report to see how it went.")
        )
        return []
    text = (tracker.latest_message or {}).get("text") or ""
    intent = latest_intent(tracker)
    result = practice.take_turn(scenario_id, state, text, nlu_intent=intent)
    result["nlu_intent"] = intent[0] if intent else None
    dispatcher.utter_message(json_message=result)  # a guard notice rides along in result["notice"]
    return [SlotSet("patient_state", result["state"])]


class ActionPatientTurn(Action):
    def name(self) -> str:
        return "action_patient_turn"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[Any]:
        return patient_turn(dispatcher, tracker)


class ActionEndSession(Action):
    def name(self) -> str:
        return "action_end_session"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[Any]:
        if tracker.get_slot("patient_state") and not is_confident_meta(tracker):
            return patient_turn(dispatcher, tracker)
        dispatcher.utter_message(json_message={"type": "end", "text": "Session ended. Your report is ready."})
        return [SlotSet("patient_state", None), SlotSet("scenario_id", None)]
