"""Session summaries: dimension means, MITI-style metrics and the SPIKES checklist.

Works on the plain dictionaries that ``TurnScore.to_dict`` produces, so a report can be rebuilt from
storage years later without re-scoring. MITI thresholds are the manual's expert opinion, not norms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.scoring.taxonomy import ACTS, DIMENSIONS, MAX_SCORE

MITI_THRESHOLDS = {
    "reflection_to_question": {"fair": 1.0, "good": 2.0},
    "percent_complex": {"fair": 40.0, "good": 50.0},
}
# The session's single quality figure (in ``miti``): see SESSION_FEATURES below.
QUALITY_KEY = "session_quality"
MITI_NOTE = (
    "Thresholds are expert opinion from the MITI 4.2.1 manual (Moyers, Manuel & Ernst), not norms; "
    "they describe counselling sessions, so read them as a guide in other conversations."
)
SPIKES_EMOTION_ACTS = {a.name for a in ACTS.values() if a.empathic and a.name.startswith("nurse_")} | {
    "complex_reflection"
}
STRATEGY_ACTS = {"option_talk", "decision_talk", "team_talk"}
PERMISSION_ACTS = {"seek_collaboration", "emphasise_autonomy"}


def _acts(score: dict[str, Any] | None) -> set[str]:
    return {a["act"] for a in (score or {}).get("acts", [])}


def _cues(score: dict[str, Any] | None) -> set[str]:
    return {c["cue"] for c in (score or {}).get("cues", [])}


def _total(score: dict[str, Any]) -> int:
    return sum((d.get("score") or 0) for d in score["dimensions"].values())


_FORMS = frozenset({"open_question", "closed_question"})
_NAMING = frozenset({"nurse_name"})
_REFLECTION_FORMS = frozenset({"simple_reflection", "complex_reflection"})
# MITI 4.2.1 gives no code to a backchannel: a minimal encourager is not a coded behaviour.
_UNCODED = frozenset({"minimal_encourager"})
_NONE = ACTS["give_information"]


# The session figure (scoring issue, item 8): chosen by nested cross-validation by transcript on the AnnoMI
# development half among a fixed family of MITI-based figures (`rapport eval session-figure`,
# bot/evaluation/session_figure.py, where it is "not_directive"): the share of the session's coded acts that
# are neither MI-non-adherent (confronting, persuading, advising without permission, directing, deciding for
# the patient, abuse) nor giving information. MITI 4.2.1 counts both as the clinician doing the telling.


def session_quality(non_adherent: int, information: int, coded: int) -> float | None:
    """1 - (MI-non-adherent + information) / coded acts, from 0 to 1; None when nothing was coded."""
    return 1.0 - (non_adherent + information) / coded if coded else None


def miti_metrics(scores: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts per MITI code across the session, the two ratio metrics with their bands, and MI consistency.

    ``mi_consistency`` is (reflections + MI-adherent - MI-non-adherent) / all acts found, from -1 to 1: the
    net share of the session's coded behaviour that is MI-consistent. Questions and giving information are
    neutral, as in MITI 4.2.1, but count in the denominator, so a session that mostly asks or tells scores
    near 0. It is Rapport's summary, not a MITI score; docs/scoring.md gives its measured agreement with
    expert session ratings (AnnoMI).
    """
    q = oq = sr = cr = adherent = non_adherent = info = coded = 0
    for score in scores:
        # MITI codes asking permission ("Would it be OK if I...?") as seeking collaboration, not as a question.
        seeking = {a.get("sentence") for a in score.get("acts", []) if a["act"] in PERMISSION_ACTS}
        acts = score.get("acts", [])
        # One utterance is one MITI code: a question's form beside what it does ("What scares you?" is
        # exploring and an open question) and a named feeling's reflection count once, not twice.
        asking = {a.get("sentence") for a in acts if a["act"] not in _FORMS and (ACTS.get(a["act"]) or _NONE).question}
        naming = {a.get("sentence") for a in acts if a["act"] in _NAMING}
        for act in acts:
            meta = ACTS.get(act["act"])
            if meta is None or act["act"] in _UNCODED:
                continue
            if act["act"] in _FORMS and act.get("sentence") in asking:
                continue
            if act["act"] in _REFLECTION_FORMS and act.get("sentence") in naming:
                continue
            coded += 1
            question = meta.question and not (act["act"] == "closed_question" and act.get("sentence") in seeking)
            q += int(question)
            oq += int(question and act["act"] != "closed_question")
            sr += int(meta.reflection == "simple")
            cr += int(meta.reflection == "complex")
            adherent += int(meta.mi_adherent)
            non_adherent += int(meta.mi_non_adherent)
            info += int(act["act"] == "give_information")
    r2q = round((sr + cr) / q, 2) if q else None
    pct = round(100.0 * cr / (sr + cr), 1) if (sr + cr) else None
    return {
        "questions": q,
        "open_questions": oq,
        "simple_reflections": sr,
        "complex_reflections": cr,
        "reflection_to_question": r2q,
        "percent_complex": pct,
        "mi_adherent": adherent,
        "mi_non_adherent": non_adherent,
        "giving_information": info,
        "coded_acts": coded,
        "mi_consistency": round((sr + cr + adherent - non_adherent) / coded, 3) if coded else None,
        QUALITY_KEY: _round(session_quality(non_adherent, info, coded)),
        "bands": {
            "reflection_to_question": _band(r2q, MITI_THRESHOLDS["reflection_to_question"]),
            "percent_complex": _band(pct, MITI_THRESHOLDS["percent_complex"]),
        },
        "thresholds": MITI_THRESHOLDS,
        "note": MITI_NOTE,
    }


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def _band(value: float | None, limits: dict[str, float]) -> str | None:
    if value is None:
        return None
    if value >= limits["good"]:
        return "good"
    return "fair" if value >= limits["fair"] else "below fair"


def _first(turns: Sequence[tuple[int, set[str], set[str]]], want: set[str], cue: str | None = None) -> int | None:
    for index, acts, cues in turns:
        if acts & want or (cue is not None and cue in cues):
            return index
    return None


def spikes_checklist(scores: Sequence[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """SPIKES steps as done, missed or out of order (Baile et al. 2000): presence and order, not a scale."""
    turns = [(i, _acts(s), _cues(s)) for i, s in scores]
    news = next((i for i, a, c in turns if "bad_news" in c and "give_information" in a), None)
    if news is None:
        news = next((i for i, _, c in turns if "bad_news" in c), None)
    setting = _first(turns, {"greet_introduce"})
    perception = _first(turns, {"perception_check"})
    invitation = _first(turns, {"invitation"})
    warning = _first(turns, {"warning_shot"})
    after_news = [t for t in turns if news is not None and t[0] >= news]
    emotions = _first(after_news, SPIKES_EMOTION_ACTS)
    strategy = _first(after_news, STRATEGY_ACTS | {"summarise"})
    summary = _first([t for t in turns if news is not None and t[0] > news], {"summarise", "check_understanding"})
    news_jargon = news is not None and any(i == news and "jargon" in c for i, _, c in turns)

    def step(key: str, label: str, turn: int | None, before: int | None = None, note: str = "") -> dict[str, Any]:
        if turn is None:
            status = "missed"
        elif before is not None and turn > before:
            status = "out_of_order"
        else:
            status = "done"
        return {"step": key, "label": label, "status": status, "turn": turn, "note": note}

    return [
        step("setting", "Setting: introduced yourself and your role", setting, news),
        step(
            "perception",
            "Perception: asked what the patient already knows",
            perception,
            news,
            "Ask what they know before you tell.",
        ),
        step("invitation", "Invitation: asked how much the patient wants to know", invitation, news),
        step(
            "warning_shot",
            "Knowledge: a warning shot before the news",
            warning,
            news,
            "One sentence of preparation before the news itself.",
        ),
        step(
            "knowledge",
            "Knowledge: the news in plain words",
            None if news_jargon else news,
            None,
            "Jargon in the news itself counts as missed." if news_jargon else "",
        ),
        step(
            "emotions",
            "Emotions: responded to the emotion after the news",
            emotions,
            strategy,
            "Address the emotion before moving on to plans.",
        ),
        step("strategy", "Strategy: options and a plan made together", strategy),
        step("summary", "Summary: summarised or checked understanding", summary),
    ]


def summarise_session(turns: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Everything the report needs from scored trainee turns: ``[{"index", "text", "score"}, ...]``."""
    scored = [t for t in turns if t.get("score")]
    dims: dict[str, Any] = {}
    for dim in DIMENSIONS:
        values = [
            t["score"]["dimensions"][dim]["score"] for t in scored if t["score"]["dimensions"][dim]["score"] is not None
        ]
        dims[dim] = {
            "mean": round(sum(values) / len(values), 2) if values else None,
            "max": MAX_SCORE,
            "turns": len(values),
        }
    strongest = weakest = None
    if scored:
        best = max(scored, key=lambda t: (_total(t["score"]), -t["index"]))
        worst = min(scored, key=lambda t: (_total(t["score"]), t["index"]))
        strongest = _turn_pick(best)
        weakest = _turn_pick(worst)
    return {
        "dimensions": dims,
        "miti": miti_metrics([t["score"] for t in scored]),
        "spikes": spikes_checklist([(t["index"], t["score"]) for t in scored]),
        "strongest": strongest,
        "weakest": weakest,
    }


def _turn_pick(turn: dict[str, Any]) -> dict[str, Any]:
    score = turn["score"]
    return {
        "index": turn["index"],
        "text": turn["text"],
        "total": _total(score),
        "tip": score["tip"]["text"],
        "alternative": score["tip"]["alternative"],
    }
