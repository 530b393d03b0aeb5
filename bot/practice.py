"""One practice turn, end to end in the library: score the reply, move the patient, choose the answer.

Rasa's custom actions call these functions and pass the results through; keeping the logic here means the
web app, the CLI and the tests exercise exactly what the action server runs.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.scenarios import Engine, PatientState, Scenario, TurnInput, get_scenario, guard, library
from bot.scenarios.engine import StepResult
from bot.scenarios.tips import scenario_tips
from bot.scoring import Scorer, default_scorer
from bot.scoring.scorer import ScoringContext
from bot.scoring.taxonomy import label

log = logging.getLogger(__name__)


class UnknownScenario(LookupError):
    pass


def _scenario(scenario_id: str) -> Scenario:
    scenario = get_scenario(scenario_id)
    if scenario is None:
        raise UnknownScenario(scenario_id)
    return scenario


def start(scenario_id: str, difficulty: str | None, seed: int, persona: str | None = None) -> dict[str, Any]:
    """The patient's opening line and the initial state."""
    result = Engine(_scenario(scenario_id), difficulty, persona).start(seed)
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
    patient = PatientState.from_dict(state)
    engine = Engine(scenario, patient.difficulty, patient.persona)
    if guard.foreign_language(text):  # the English scorer cannot read it: not scored, and the patient asks
        result = engine.step(patient, TurnInput(frozenset(), frozenset(), text))
        return _payload(result, None)
    score = (scorer or default_scorer()).score(text, context=scoring_context(scenario, patient), nlu_intent=nlu_intent)
    result = engine.step(patient, TurnInput(frozenset(score.act_names), frozenset(score.cue_names), text))
    return _payload(result, score.to_dict())


# Acts that open or settle a care choice: once one has been used, a decision is in play for the rest of the
# conversation (three-talk; OPTION-5).
_DECISION_ACTS = frozenset({"option_talk", "team_talk", "decision_talk", "decide_for_patient"})


def scoring_context(scenario: Scenario, patient: PatientState) -> ScoringContext:
    """What the scorer needs from the conversation, built from the scenario and the patient's state.

    A decision is in play throughout a scenario scored with OPTION-5 (the consultation is about a choice) and
    in any scenario once a choice has been opened. The persona's ``hurts`` are the moves that misfit it.
    """
    replies = tuple(patient.said)
    return ScoringContext(
        patient_line=patient.last_line or None,
        previous_replies=replies,
        previous_acts=tuple(patient.acts_seen),
        decision_in_play=scenario.rubric == "option5" or bool(_DECISION_ACTS & set(patient.acts_seen)),
        misfit_acts=misfit_acts(scenario, patient.persona),
        jargon=tuple(scenario.jargon),
        tips=scenario_tips(scenario, patient.persona, revealed=tuple(patient.revealed)),
    )


# Of a persona's "hurts", the ones that misfit it on the turn they happen (rather than being harmful anyway,
# which the acts' own levels already price in): warmth pressed on an avoidant patient, facts and options
# pressed on an anxious one.
_MISFIT_ONLY = frozenset(
    {"nurse_explore", "nurse_name", "nurse_support", "give_information", "option_talk", "emphasise_autonomy"}
)


def misfit_acts(scenario: Scenario, persona_id: str | None) -> frozenset[str]:
    """The moves that misfit this persona's needs on the turn they happen (from the persona's ``hurts``)."""
    persona = scenario.personas.get(persona_id) if persona_id else None
    return frozenset(persona.hurts) & _MISFIT_ONLY if persona else frozenset()


def _payload(result: StepResult, score: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "notice": result.notice,
        "outcome": result.outcome,
        "type": "patient_turn",
        "text": result.line,
        "pool": result.pool,
        "state": result.state.to_dict(),
        "ended": result.ended,
        "events": result.events,
        "revealed": result.revealed,
        "score": score,
    }


def hint(scenario_id: str, state: dict[str, Any] | None) -> str:
    """A next-step hint from what the trainee has and has not done yet (never a scripted line)."""
    scenario = _scenario(scenario_id)
    state = state or {}
    flags = state.get("flags", {})
    done = set(state.get("acts_seen", []))
    trace = state.get("trace") or [{}]
    last_marks = set(trace[-1].get("marks") or ())
    if last_marks & {"confrontation", "withdrawal"}:
        return "Something has gone wrong between you. Name what you notice, invite their view, and own your part."
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
    for act, text in _RUBRIC_HINTS.get(scenario.rubric, ()):
        if act not in done:
            return text
    if scenario.rubric == "attachment":
        persona = scenario.personas.get(state.get("persona") or "")
        if persona and persona.helps:
            return f"This patient responds to: {', '.join(label(a).lower() for a in persona.helps)}. Go at their pace."
    if scenario.concerns and not flags.get("concern_revealed"):
        return "Something is weighing on the patient. Explore their feelings with an open question."
    return "Summarise what you have heard, check understanding, and agree next steps together."


_RUBRIC_HINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "stances": (
        ("open_question", "Resist fixing it. Ask what the patient has tried and what helped, even a little."),
        ("emphasise_autonomy", "Hand the choice back: what would the patient like to try first?"),
        ("affirm_strength", "Recognise something specific the patient has done to cope."),
    ),
    "miti": (
        ("complex_reflection", "Reflect the part of them that wants things to be different, in your own words."),
        ("open_question", "Ask an open question about what they would gain if things changed."),
        ("emphasise_autonomy", "Make clear the decision about change is theirs."),
    ),
    "option5": (
        (
            "team_talk",
            "Make the choice explicit: there is more than one reasonable option, and you will decide together.",
        ),
        ("option_talk", "Describe the options side by side, with their pros and cons in plain numbers."),
        ("decision_talk", "Ask what matters most to the patient before recommending anything."),
    ),
    "rupture": (
        ("nurse_name", "Name what you notice: the patient sounds angry or let down."),
        ("nurse_explore", "Invite the patient's view of what went wrong."),
        ("seek_collaboration", "Agree together what you will both do from here."),
    ),
}


def scenario_catalogue() -> list[dict[str, Any]]:
    return [s.public() for s in library().values()]
