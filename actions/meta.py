"""Meta commands to the app (hint, help, list): answered by the app, never by the patient in role."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import is_confident_meta, system
from actions.practice import patient_turn
from bot import practice

HELP = (
    "You are the clinician; the patient answers in role. Type what you would say. Under each of your "
    "messages you see scores for empathy, collaboration and shared decision, the words that earned them and "
    "a tip. Press Hint (or type /hint) for a nudge, or End session for your report. Everything else you type "
    "goes to the patient."
)


class _Meta(Action, ABC):
    """Falls through to the patient when a meta intent was guessed with low confidence mid-session.

    Abstract, so rasa_sdk does not register it as an action of its own.
    """

    @abstractmethod
    def answer(self, tracker: Tracker) -> dict[str, Any]: ...

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[Any]:
        if tracker.get_slot("patient_state") and not is_confident_meta(tracker):
            return patient_turn(dispatcher, tracker)
        dispatcher.utter_message(json_message=self.answer(tracker))
        return []


class ActionHint(_Meta):
    def name(self) -> str:
        return "action_hint"

    def answer(self, tracker: Tracker) -> dict[str, Any]:
        scenario_id = tracker.get_slot("scenario_id")
        if not scenario_id:
            return system("Start a scenario first; hints are about the conversation in front of you.")
        state = tracker.get_slot("patient_state") or {}
        return system("Hint: " + practice.hint(scenario_id, state))


class ActionHelp(_Meta):
    def name(self) -> str:
        return "action_help"

    def answer(self, tracker: Tracker) -> dict[str, Any]:
        return system(HELP)


class ActionListScenarios(_Meta):
    def name(self) -> str:
        return "action_list_scenarios"

    def answer(self, tracker: Tracker) -> dict[str, Any]:
        items = [f"{s['title']} ({s['theme']}): {s['summary']}" for s in practice.scenario_catalogue()]
        return system("Scenarios: " + " | ".join(items))
