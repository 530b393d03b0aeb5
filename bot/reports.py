"""The session report an educator reads: built only from stored turns, so it never changes after the fact.

Every claim in it rests on the session's own record: the scored turns, the acts found in them and the patient's
trace. Turns are named by the trainee's own count (their first reply is turn 1), never by the row number of
the whole conversation, and each instrument is shown only for the scenarios whose rubric it fits
(``bot.rubrics.INSTRUMENTS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.rubrics import applies, evaluate, instruments, spikes_checklist
from bot.scenarios import get_scenario
from bot.scenarios.model import Scenario
from bot.scoring.summary import summarise_session
from bot.scoring.taxonomy import MAX_SCORE


def is_reply(turn: dict[str, Any]) -> bool:
    """A trainee message to the patient: not an app command (Hint, /help)."""
    return turn.get("speaker") == "trainee" and turn.get("status") != "command"


def numbered(turns: Sequence[dict[str, Any]]) -> dict[int, int]:
    """Row index -> the trainee's turn number (1, 2, 3...) for each reply to the patient."""
    replies = [t for t in turns if is_reply(t)]
    return {int(t["index"]): n for n, t in enumerate(replies, start=1)}


def engine_steps(turns: Sequence[dict[str, Any]]) -> dict[int, int]:
    """Row index -> the engine step that answered it (the ``turn`` of its trace entry). Every answered reply
    moved the engine once, scored or not (a message not in English is answered but not scored)."""
    answered = [t for t in turns if is_reply(t) and t.get("status") == "answered"]
    return {int(t["index"]): k for k, t in enumerate(answered, start=1)}


def total(score: dict[str, Any]) -> int:
    """A turn's total: its dimension scores added up (a dimension with nothing to judge adds nothing)."""
    return sum((d.get("score") or 0) for d in (score.get("dimensions") or {}).values())


def judged(score: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The dimensions that applied to a turn (a dimension with nothing to judge is n/a, not 0)."""
    return {
        name: d
        for name, d in (score.get("dimensions") or {}).items()
        if d.get("applicable", True) and d.get("score") is not None
    }


def level(score: dict[str, Any]) -> float:
    """How well a turn did on the dimensions that applied: the mean share of the maximum, 0 to 1."""
    dims = judged(score).values()
    return sum(d["score"] / (d.get("max") or MAX_SCORE) for d in dims) / len(dims) if dims else 0.0


def _pick(turn: dict[str, Any]) -> dict[str, Any]:
    score = turn["score"]
    tip = score.get("tip") or {}
    return {
        "turn": turn["index"],
        "index": turn["row"],
        "text": turn["text"],
        "total": total(score),
        "scores": {name: {"score": d["score"], "max": d.get("max") or MAX_SCORE} for name, d in judged(score).items()},
        "tip": tip.get("text", ""),
        "alternative": tip.get("alternative", ""),
    }


def strongest_and_weakest(scored: Sequence[dict[str, Any]]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The strongest and the weakest judged turn, never the same one.

    Turns are compared on the dimensions that applied to them (their mean share of the maximum), then on their
    total; a turn with nothing to judge (a greeting) is neither. Strongest: the best, the earliest on a tie.
    Weakest: the worst of the other turns, the earliest on a tie. With one judged turn there is no weakest
    turn to set against it; with none, neither.
    """
    candidates = [t for t in scored if judged(t["score"])]
    if not candidates:
        return None, None
    best = min(candidates, key=lambda t: (-level(t["score"]), -total(t["score"]), t["index"]))
    rest = [t for t in candidates if t is not best]
    if not rest:
        return _pick(best), None
    worst = min(rest, key=lambda t: (level(t["score"]), total(t["score"]), t["index"]))
    return _pick(best), _pick(worst)


def _ending(scenario: Scenario | None, state: dict[str, Any]) -> Any:
    view = scenario.for_persona(state.get("persona")) if scenario else None
    return next((e for e in (view.endings if view else ()) if e.id == state.get("ending")), None)


def outcome(
    session: dict[str, Any],
    state: dict[str, Any] | None,
    concerns: list[dict[str, Any]],
    scored: int,
    scenario: Scenario | None = None,
) -> str:
    """How the session ended, in sentences each backed by the record: the ending the engine reached (its text
    is the scenario's own), who ended the session, the hidden concerns revealed (the engine's ``revealed``) and
    how many replies were scored."""
    state = state or {}
    parts = []
    ending = _ending(scenario, state)
    if ending is not None:
        verdict = "the ending the scenario aims for" if ending.good else "an ending to learn from"
        # The engine's own account of the ending when the state keeps it (with the parts that held), else the
        # ending's base outcome, which the scenario claims whenever that ending is reached.
        said = state.get("outcome") if isinstance(state.get("outcome"), str) and state.get("outcome") else None
        parts.append(f"The conversation reached an ending: {said or ending.outcome} ({verdict}).")
    elif session.get("ended_by") == "patient":
        parts.append("The conversation reached its natural close.")
    elif session.get("ended_by") == "error":
        parts.append("The session ended because the patient could not be started (a server was down).")
    elif session.get("status") == "ended":
        parts.append("You ended the session before the conversation reached an ending.")
    else:
        parts.append("The session is still open.")
    parts.append(
        "No reply was scored." if not scored else f"{scored} {'reply was' if scored == 1 else 'replies were'} scored."
    )
    if concerns:  # which ones: the report's hidden concerns section
        revealed = sum(1 for c in concerns if c["revealed"])
        parts.append(f"{revealed} of {len(concerns)} hidden concerns came out.")
    return " ".join(parts)


def build_report(session: dict[str, Any], turns: list[dict[str, Any]]) -> dict[str, Any]:
    """Scores, the scenario's rubric and the instruments that fit it, concerns, trajectory and transcript."""
    scenario = get_scenario(session["scenario_id"])
    numbers = numbered(turns)
    steps = engine_steps(turns)
    # Scored replies, named by the trainee's turn number; ``row`` keeps the transcript position for links.
    scored = [
        {**t, "index": numbers[int(t["index"])], "row": t["index"], "step": steps.get(int(t["index"]))}
        for t in turns
        if is_reply(t) and t.get("score")
    ]
    summary = summarise_session(scored)
    summary.pop("spikes", None)
    summary["strongest"], summary["weakest"] = strongest_and_weakest(scored)
    state = session.get("patient_state") or {}
    revealed = set(state.get("revealed") or [])
    view = scenario.for_persona(state.get("persona")) if scenario else None
    concerns = [
        {"id": c.id, "summary": c.summary, "revealed": c.id in revealed} for c in (view.concerns if view else ())
    ]
    miti = dict(summary.pop("miti"))
    miti["applies"] = applies(scenario, "miti")
    if not miti["applies"]:  # counts stay (they describe the session); no band where MITI is not the yardstick
        miti["bands"] = {key: None for key in miti.get("bands", {})}
    public = []
    for t in turns:
        row = {k: v for k, v in t.items() if k not in ("id", "pool", "nlu_intent", "reply_to")}
        row["turn"] = numbers.get(int(t["index"]))
        public.append(row)
    return {
        "session": {k: v for k, v in session.items() if k != "patient_state"},
        "scenario": scenario.public()
        if scenario
        else {"id": session["scenario_id"], "title": session.get("scenario_title")},
        **summary,
        "miti": miti,
        "spikes": spikes_checklist(scenario, scored) if scenario and applies(scenario, "spikes") else [],
        "instruments": instruments(scenario),
        "rubric": evaluate(scenario, scored, state) if scenario else None,
        "persona": state.get("persona") or None,
        "trajectory": [{"turn": t.get("turn"), "values": t.get("values")} for t in state.get("trace") or []],
        "concerns": concerns,
        "outcome": outcome(session, state, concerns, len(scored), scenario),
        "debrief": scenario.debrief if scenario else {},
        "transcript": public,
    }
