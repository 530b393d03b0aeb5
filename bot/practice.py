"""One practice turn, end to end in the library: score the reply, move the patient, choose the answer.

Rasa's custom actions call these functions and pass the results through; keeping the logic here means the
web app, the CLI and the tests exercise exactly what the action server runs.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.scenarios import Engine, PatientState, Scenario, TurnInput, get_scenario, library
from bot.scoring import Scorer, default_scorer

log = logging.getLogger(__name__)


class UnknownScenario(LookupError):
    pass


def _scenario(scenario_id: str) -> Scenario:
    scenario = get_scenario(scenario_id)
    if scenario is None:
        raise UnknownScenario(scenario_id)
    return scenario


def start(scenario_id: str, difficulty: str | None, seed: int) -> dict[str, Any]:
    """The patient's opening line and the initial state."""
    result = Engine(_scenario(scenario_id), difficulty).start(seed)
    return {
        "type": "patient_turn",
        "text": result.line,
        "pool": result.pool,
        "state": result.state.to_dict(),
        "ended": False,
        "events": [],
    }


def take_turn(
    scenario_id: str,
    state: dict[str, Any],
    text: str,
    nlu_intent: tuple[str, float] | None = None,
    scorer: Scorer | None = None,
) -> dict[str, Any]:
    """Score the trainee's text against the patient's last line, and produce the reply and new state."""
    scenario = _scenario(scenario_id)
    scorer = scorer or default_scorer()
    patient = PatientState.from_dict(state)
    score = scorer.score(
        text,
        context=patient.last_line,
        previous_acts=patient.acts_seen,
        extra_jargon=scenario.jargon,
        nlu_intent=nlu_intent,
    )
    engine = Engine(scenario, patient.difficulty)
    result = engine.step(patient, TurnInput(frozenset(score.act_names), frozenset(score.cue_names), text))
    return {
        "type": "patient_turn",
        "text": result.line,
        "pool": result.pool,
        "state": result.state.to_dict(),
        "ended": result.ended,
        "events": result.events,
        "revealed": result.revealed,
        "score": score.to_dict(),
    }


def hint(scenario_id: str, state: dict[str, Any] | None) -> str:
    """A next-step hint from what the trainee has and has not done yet (never a scripted line)."""
    scenario = _scenario(scenario_id)
    state = state or {}
    flags = state.get("flags", {})
    done = set(state.get("acts_seen", []))
    if state.get("last_emotional"):
        return "The patient has just shown emotion. Name it tentatively, then invite them to say more."
    if scenario.news_keywords and not flags.get("news_given"):
        for act, advice in (
            ("perception_check", "Before telling, ask what the patient already knows or suspects."),
            ("invitation", "Ask how much detail the patient would like today."),
            ("warning_shot", "Prepare the patient with a one-sentence warning shot before the news."),
        ):
            if act not in done:
                return advice
        return "Give the news in plain words, then stop and let the patient react."
    if scenario.concerns and not flags.get("concern_revealed"):
        return "Something is weighing on the patient. Explore their feelings with an open question."
    return "Summarise what you have heard, check understanding, and agree next steps together."


def scenario_catalogue() -> list[dict[str, Any]]:
    return [s.public() for s in library().values()]
