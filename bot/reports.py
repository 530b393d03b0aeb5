"""The session report an educator reads: built only from stored turns, so it never changes after the fact."""

from __future__ import annotations

from typing import Any

from bot.rubrics import evaluate
from bot.scenarios import get_scenario
from bot.scoring.summary import summarise_session


def _outcome(session: dict[str, Any], state: dict[str, Any] | None, concerns: list[dict[str, Any]]) -> str:
    revealed = sum(1 for c in concerns if c["revealed"])
    parts = []
    scenario = get_scenario(session["scenario_id"])
    view = scenario.for_persona((state or {}).get("persona")) if scenario else None
    ending = next((e for e in (view.endings if view else ()) if e.id == (state or {}).get("ending")), None)
    if ending is not None:
        verdict = "the ending the scenario aims for" if ending.good else "an ending to learn from"
        parts.append(f"The patient closed the conversation: {ending.outcome} ({verdict}).")
    elif session.get("ended_by") == "patient":
        parts.append("The conversation reached its natural close.")
    elif session.get("status") == "ended":
        parts.append("The trainee ended the session before the conversation reached its close.")
    else:
        parts.append("The session is still open.")
    if concerns:
        parts.append(f"{revealed} of {len(concerns)} hidden concerns came out.")
        missed = [c["summary"] for c in concerns if not c["revealed"]]
        if missed:
            parts.append("Missed: " + " ".join(missed))
    values = (state or {}).get("values") or {}
    if values:
        parts.append("Patient state at the end: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(values.items())) + ".")
    return " ".join(parts)


def build_report(session: dict[str, Any], turns: list[dict[str, Any]]) -> dict[str, Any]:
    """Scores, MITI metrics, the scenario's rubric, concerns, trajectory and transcript for one session."""
    scenario = get_scenario(session["scenario_id"])
    trainee_turns = [t for t in turns if t["speaker"] == "trainee" and t.get("score")]
    summary = summarise_session(trainee_turns)
    state = session.get("patient_state") or {}
    revealed = set(state.get("revealed") or [])
    view = scenario.for_persona(state.get("persona")) if scenario else None
    concerns = [
        {"id": c.id, "summary": c.summary, "revealed": c.id in revealed} for c in (view.concerns if view else ())
    ]
    if scenario is None or scenario.rubric != "spikes":
        summary.pop("spikes", None)  # SPIKES belongs to difficult news; other scenarios have their own rubric
    public = [{k: v for k, v in t.items() if k not in ("id", "pool", "nlu_intent")} for t in turns]
    return {
        "session": {k: v for k, v in session.items() if k != "patient_state"},
        "scenario": scenario.public()
        if scenario
        else {"id": session["scenario_id"], "title": session.get("scenario_title")},
        **summary,
        "rubric": evaluate(scenario, trainee_turns, state) if scenario else None,
        "persona": state.get("persona") or None,
        "trajectory": [{"turn": t.get("turn"), "values": t.get("values")} for t in state.get("trace") or []],
        "concerns": concerns,
        "outcome": _outcome(session, state, concerns),
        "debrief": scenario.debrief if scenario else {},
        "transcript": public,
    }
