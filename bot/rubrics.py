"""Scenario rubrics: the instrument each kind of conversation is judged by, computed from the stored session.

Each theme has its own published yardstick (SPIKES for bad news, MITI for ambivalence, OPTION-5 for shared
decisions, 3RS repair steps for ruptures, the drama triangle for rescuing). A rubric reads the trainee's
scored turns and the patient's trace (state and line marks after every turn), so a report can be rebuilt
from storage without re-running anything. Turn-level mappings that are design choices say so in ``note``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from bot.scenarios.model import Scenario
from bot.scoring.summary import miti_metrics

# A scored trainee turn as stored: {"index", "text", "score"}, and in a report also "step" (the engine step
# that answered it, the position of its patient line in the trace). In a report "index" is the trainee's own
# turn number (1, 2, 3...), so every turn a rubric names is one the trainee can find in the transcript.
Turn = dict[str, Any]

RESCUER_ACTS = frozenset(
    {
        "rescue_take_over",
        "advise_without_permission",
        "premature_reassurance",
        "persuade_warn",
        "decide_for_patient",  # taking the decision over
        "direct_command",  # telling the patient what to do
    }
)
PERSECUTOR_ACTS = frozenset({"confront_blame", "abuse"})
COACH_ACTS = frozenset(
    {
        "seek_collaboration",
        "emphasise_autonomy",
        "open_question",
        "nurse_explore",
        "complex_reflection",
        "affirm_strength",
        "nurse_respect",  # recognising effort is an affirmation in NURSE's words
    }
)
NOTICE_ACTS = frozenset({"nurse_name", "nurse_understand", "complex_reflection", "simple_reflection"})
INVITE_ACTS = frozenset({"nurse_explore", "open_question"})
REAGREE_ACTS = frozenset({"seek_collaboration", "decision_talk", "team_talk", "summarise"})
INFO_ACTS = frozenset({"give_information", "option_talk"})
DISMISSIVE_ACTS = frozenset(
    {"confront_blame", "persuade_warn", "premature_reassurance", "dismiss", "abuse", "direct_command"}
)
# "Sorry you feel that way" and "sorry, but" apologise for the patient's reaction, not for one's own part.
_NON_APOLOGY = re.compile(
    r"\bsorry,? (that |if )?you (feel|felt|think|thought|are|were|see)\b|\bsorry,? but\b|\bsorry if\b", re.I
)
BIG_CHUNK_WORDS = 45  # more than about three sentences of facts at once is hard to take in (SPIKES knowledge)


def acts(turn: Turn) -> set[str]:
    return {a["act"] for a in (turn.get("score") or {}).get("acts", [])}


def cues(turn: Turn) -> set[str]:
    return {c["cue"] for c in (turn.get("score") or {}).get("cues", [])}


def item(key: str, label: str, value: Any, status: str = "info", note: str = "", **extra: Any) -> dict[str, Any]:
    """One row of a rubric. ``status``: done, missed, out_of_order, good, fair, poor or info. ``turn``, when
    given, is the trainee turn the row points to (its value is that turn); ``section`` names the report section
    that shows the row already (the SPIKES steps have their own checklist)."""
    return {"key": key, "label": label, "value": value, "status": status, "note": note, **extra}


def marks_after(trace: Sequence[dict[str, Any]]) -> list[set[str]]:
    """Patient line marks after each trainee turn (position 0 is the reply to the first turn)."""
    return [set(t.get("marks") or ()) for t in trace if int(t.get("turn", 0)) > 0]


def _value(trace: Sequence[dict[str, Any]], name: str, at: int) -> float | None:
    if not trace:
        return None
    return trace[at].get("values", {}).get(name)


def _state_items(scenario: Scenario, trace: Sequence[dict[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for name in names:
        var = scenario.variables.get(name)
        start, end = _value(trace, name, 0), _value(trace, name, -1)
        if var is None or start is None or end is None:
            continue
        better = (end > start) if var.good == "high" else (end < start) if var.good == "low" else None
        status = "info" if better is None or end == start else ("good" if better else "poor")
        out.append(
            item(
                f"state_{name}",
                f"{name.capitalize()}: start to end",
                f"{start:.2f} → {end:.2f}",
                status,
                var.description,
            )
        )
    return out


def _count_status(n: int, good: int, fair: int = 1) -> str:
    return "good" if n >= good else ("fair" if n >= fair else "missed")


# -- SPIKES: each step credited only by the act that is that step ----------------------------------------------
# The SPIKES steps and the acts that do them (Baile et al. 2000; docs/scoring.md section 5). A sentence credits
# its own step only, and a question is never the warning shot, however it is worded: "I'm afraid I have to ask,
# what have you been told so far?" is a perception check and prepares the patient for nothing.
NURSE_ACTS = frozenset({"nurse_name", "nurse_understand", "nurse_respect", "nurse_support", "nurse_explore"})
SPIKES_EMOTION_ACTS = NURSE_ACTS | {"complex_reflection"}  # meeting the emotion: a NURSE move or its reflection
SPIKES_STEP_ACTS: dict[str, frozenset[str]] = {
    "setting": frozenset({"greet_introduce"}),
    "perception": frozenset({"perception_check"}),
    "invitation": frozenset({"invitation"}),
    "warning_shot": frozenset({"warning_shot"}),
    "emotions": SPIKES_EMOTION_ACTS,
    "strategy": frozenset({"option_talk", "decision_talk", "team_talk"}),
    "summary": frozenset({"summarise", "check_understanding"}),
}
STATEMENT_ONLY_STEPS = frozenset({"warning_shot"})  # said, so never a question
PREPARING_STEPS = frozenset({"setting", "perception", "invitation", "warning_shot"})  # before the news
SPIKES_LABELS = {
    "setting": "Setting: introduced yourself and your role",
    "perception": "Perception: asked what the patient already knows",
    "invitation": "Invitation: asked how much the patient wants to know",
    "warning_shot": "Knowledge: a warning shot before the news",
    "knowledge": "Knowledge: the news in plain words",
    "emotions": "Emotions: responded to the emotion after the news",
    "strategy": "Strategy: options and a plan made together",
    "summary": "Summary: summarised or checked understanding",
}
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n")

Position = tuple[int, int]  # (turn number, sentence in that reply): where in the session something was said


def _sentence_of(text: str, offset: int) -> int:
    """The number of the sentence (0, 1, ...) that holds ``offset`` in a reply."""
    return sum(1 for m in _SENTENCE_END.finditer(text) if m.end() <= offset)


def _sentence_is_question(text: str, offset: int) -> bool:
    """Whether the sentence holding ``offset`` ends with a question mark."""
    end = _SENTENCE_END.search(text, max(0, offset))
    if end is None:
        return text.rstrip().endswith("?")
    return end.group().startswith("?")


def _step_positions(turns: Sequence[Turn]) -> dict[str, list[Position]]:
    """Every place each SPIKES step was done, in order, each sentence crediting only its own step."""
    found: dict[str, list[Position]] = {step: [] for step in SPIKES_STEP_ACTS}
    for t in turns:
        text = t.get("text") or ""
        for a in (t.get("score") or {}).get("acts", []):
            start = int(a.get("start") or 0)
            for step, names in SPIKES_STEP_ACTS.items():
                if a["act"] not in names:
                    continue
                if step in STATEMENT_ONLY_STEPS and _sentence_is_question(text, start):
                    continue  # the sentence's shape says it is another move
                found[step].append((int(t["index"]), _sentence_of(text, start)))
    return {step: sorted(places) for step, places in found.items()}


def news_position(scenario: Scenario, turns: Sequence[Turn]) -> Position | None:
    """Where the news was given: the scenario's own news words (the engine's ``news_given``), else the scorer's
    bad-news words in a turn that gives information, else any bad-news words."""
    for t in turns:
        low = (t.get("text") or "").lower()
        hits = [
            m.start() for k in scenario.news_keywords for m in re.finditer(rf"(?<![a-z]){re.escape(k)}(?![a-z])", low)
        ]
        if hits:
            return (int(t["index"]), _sentence_of(low, min(hits)))
    for want_information in (True, False):
        for t in turns:
            if want_information and "give_information" not in acts(t):
                continue
            bad = [c for c in (t.get("score") or {}).get("cues", []) if c["cue"] == "bad_news"]
            if bad:
                return (int(t["index"]), _sentence_of(t["text"], min(int(c.get("start") or 0) for c in bad)))
    return None


def spikes_checklist(scenario: Scenario, turns: Sequence[Turn]) -> list[dict[str, Any]]:
    """SPIKES steps as done, missed or out of order (a protocol: presence and order, not a scale).

    Setting, perception, invitation and the warning shot must come before the news (an earlier sentence of the
    same reply counts, the same sentence does not);
    emotions must be met after the news and before the strategy; jargon in the reply that gives the news marks
    knowledge as missed. ``turn`` is the trainee turn that first did the step.
    """
    places = _step_positions(turns)
    news = news_position(scenario, turns)
    news_jargon = news is not None and any(int(t["index"]) == news[0] and "jargon" in cues(t) for t in turns)

    def first(step: str, after: Position | None = None) -> Position | None:
        return next((p for p in places[step] if after is None or p > after), None)

    emotions = first("emotions", news) if news else None
    strategy = first("strategy", news) if news else None
    summary = first("summary", news) if news else None

    def step(key: str, at: Position | None, before: Position | None = None, note: str = "") -> dict[str, Any]:
        """``before``: where the step had to come first; a step that prepares for the news must come in an
        earlier sentence than the news itself (a warning shot in the sentence that gives the news warns of
        nothing); emotions need only be met no later than the strategy."""
        if at is None:
            status = "missed"
        elif key == "warning_shot" and at == before:
            status, note = "missed", "A warning in the same sentence as the news does not prepare the patient."
        elif before is not None and (at >= before if key in PREPARING_STEPS else at > before):
            status = "out_of_order"
        else:
            status = "done"
        return {"step": key, "label": SPIKES_LABELS[key], "status": status, "turn": at[0] if at else None, "note": note}

    return [
        step("setting", first("setting"), news),
        step("perception", first("perception"), news, "Ask what they know before you tell."),
        step("invitation", first("invitation"), news),
        step("warning_shot", first("warning_shot"), news, "One sentence of preparation before the news itself."),
        step(
            "knowledge",
            None if news_jargon else news,
            None,
            "Jargon in the news itself counts as missed." if news_jargon else "",
        ),
        step("emotions", emotions, strategy, "Address the emotion before moving on to plans."),
        step("strategy", strategy),
        step("summary", summary),
    ]


# -- one function per rubric -----------------------------------------------------------------------------------
def spikes(scenario: Scenario, turns: Sequence[Turn], trace: Sequence[dict[str, Any]]) -> dict[str, Any]:
    checklist = spikes_checklist(scenario, turns)
    items = [
        item(s["step"], s["label"], s["turn"], s["status"], s["note"], turn=s["turn"], section="spikes")
        for s in checklist
    ]
    nurse = sum(1 for t in turns if acts(t) & NURSE_ACTS)
    jargon = sum(1 for t in turns if "jargon" in cues(t))
    info = [len(t["text"].split()) for t in turns if acts(t) & INFO_ACTS]
    chunk = round(sum(info) / len(info), 1) if info else None
    items += [
        item("nurse", "NURSE responses to emotion", nurse, _count_status(nurse, 3)),
        item("jargon", "Replies with jargon", jargon, "good" if jargon == 0 else "poor", "Plain words: no jargon."),
        item(
            "chunk",
            "Words per information-giving reply",
            chunk,
            "info" if chunk is None else ("good" if chunk <= BIG_CHUNK_WORDS else "poor"),
            f"Small chunks: about {BIG_CHUNK_WORDS} words or fewer, then check.",
        ),
    ]
    return {
        "title": "SPIKES, NURSE and plain language",
        "items": items,
        "note": "SPIKES is a protocol: presence and order, not a scale (Baile et al. 2000).",
    }


def stances(scenario: Scenario, turns: Sequence[Turn], trace: Sequence[dict[str, Any]]) -> dict[str, Any]:
    per_turn = []
    for t in turns:
        a = acts(t)
        if a & PERSECUTOR_ACTS:
            stance = "persecutor"
        elif a & RESCUER_ACTS:
            stance = "rescuer"
        elif a & {"affirm_strength", "nurse_respect"} and a & {"open_question", "closed_question"}:
            stance = "challenger"
        elif a & COACH_ACTS:
            stance = "coach"
        else:
            stance = "neutral"
        per_turn.append({"index": t["index"], "stance": stance})
    count = {
        s: sum(1 for p in per_turn if p["stance"] == s)
        for s in ("coach", "challenger", "rescuer", "persecutor", "neutral")
    }
    empowering = count["coach"] + count["challenger"]
    share = round(100.0 * empowering / len(per_turn)) if per_turn else None
    marks = marks_after(trace)
    dependency = sum(1 for m in marks if m & {"dependency", "flattery"})
    agency = sum(1 for m in marks if "agency" in m)
    items = [
        item(
            "coach",
            "Coaching turns (asking, supporting the patient's own solutions)",
            empowering,
            _count_status(empowering, 4),
        ),
        item(
            "rescuer",
            "Rescuing turns (fixing, reassuring, advising unasked)",
            count["rescuer"],
            "good" if not count["rescuer"] else "poor",
        ),
        item(
            "persecutor",
            "Persecuting turns (blaming, lecturing)",
            count["persecutor"],
            "good" if not count["persecutor"] else "poor",
        ),
        item(
            "coach_share",
            "Share of turns in a coaching stance (%)",
            share,
            "info" if share is None else ("good" if share >= 60 else "fair" if share >= 40 else "poor"),
        ),
        item("dependency", "Patient lines pulling you into rescuing (dependency, flattery)", dependency),
        item("agency_lines", "Patient lines showing their own agency", agency, _count_status(agency, 2)),
        *_state_items(scenario, trace, ["agency", "dependency", "trust"]),
    ]
    return {
        "title": "Rescuer, persecutor or coach",
        "items": items,
        "turns": per_turn,
        "note": "Stances are mapped from acts (a design choice after Karpman's drama triangle, not a published coder).",
    }


def miti(scenario: Scenario, turns: Sequence[Turn], trace: Sequence[dict[str, Any]]) -> dict[str, Any]:
    metrics = miti_metrics([t["score"] for t in turns])
    marks = marks_after(trace)
    change = [int("change_talk" in m) for m in marks]
    sustain = [int("sustain_talk" in m) for m in marks]
    half = len(marks) // 2

    def balance(c: Sequence[int], s: Sequence[int]) -> float | None:
        return round(100.0 * sum(c) / (sum(c) + sum(s))) if (sum(c) + sum(s)) else None

    overall, early, late = (
        balance(change, sustain),
        balance(change[:half], sustain[:half]),
        balance(change[half:], sustain[half:]),
    )
    bands = metrics["bands"]
    band_status = {"good": "good", "fair": "fair", "below fair": "poor", None: "info"}
    items = [
        item("questions", "Questions (open / all)", f"{metrics['open_questions']} / {metrics['questions']}"),
        item(
            "reflections",
            "Reflections (simple + complex)",
            metrics["simple_reflections"] + metrics["complex_reflections"],
        ),
        item(
            "r2q",
            "Reflection-to-question ratio",
            metrics["reflection_to_question"],
            band_status[bands["reflection_to_question"]],
            "Fair 1:1, good 2:1 (MITI 4.2.1, expert opinion).",
        ),
        item(
            "percent_complex",
            "Complex reflections (%)",
            metrics["percent_complex"],
            band_status[bands["percent_complex"]],
            "Fair 40%, good 50% (MITI 4.2.1, expert opinion).",
        ),
        item(
            "mi_adherent",
            "MI-adherent (affirm, seek collaboration, autonomy)",
            metrics["mi_adherent"],
            _count_status(metrics["mi_adherent"], 3),
        ),
        item(
            "mi_non_adherent",
            "MI-non-adherent (persuade, confront)",
            metrics["mi_non_adherent"],
            "good" if not metrics["mi_non_adherent"] else "poor",
        ),
        item("change_talk", "Patient change talk / sustain talk", f"{sum(change)} / {sum(sustain)}"),
        item(
            "balance",
            "Change talk share (%)",
            overall,
            "info" if overall is None else ("good" if overall >= 60 else "fair" if overall >= 40 else "poor"),
        ),
        item(
            "trend",
            "Change talk share, first half → second half (%)",
            f"{early if early is not None else '–'} → {late if late is not None else '–'}",
            "good" if (late or 0) > (early or 0) else "info",
        ),
        *_state_items(scenario, trace, ["readiness", "importance", "confidence", "trust"]),
    ]
    return {"title": "MITI codes and change talk", "items": items, "note": metrics["note"]}


def option5(scenario: Scenario, turns: Sequence[Turn], trace: Sequence[dict[str, Any]]) -> dict[str, Any]:
    seq = [acts(t) for t in turns]
    first = {
        name: next((i for i, a in enumerate(seq) if name in a), None)
        for name in ("team_talk", "option_talk", "decision_talk")
    }
    n = {name: sum(1 for a in seq if name in a) for name in ("team_talk", "option_talk", "decision_talk")}
    opt = first["option_talk"]
    after_options = seq[opt + 1 :] if opt is not None else []
    partnership = sum(1 for a in seq if a & {"seek_collaboration", "team_talk", "emphasise_autonomy", "nurse_support"})
    views = any(
        a & {"open_question", "nurse_explore", "complex_reflection", "simple_reflection"} for a in after_options
    )
    elicit = n["decision_talk"] + sum(1 for a in after_options if a & {"open_question", "nurse_explore"})
    dec = first["decision_talk"]
    integrated = dec is not None and any(a & {"summarise", "check_understanding", "team_talk"} for a in seq[dec + 1 :])
    decided = any("decision" in m for m in marks_after(trace))
    scores = {
        "decision": _decision_item(first),
        "partnership": min(4, partnership),
        "options": min(4, n["option_talk"] + (2 if views else 0)),
        "preferences": min(4, elicit + (1 if n["decision_talk"] else 0)),
        "integration": (2 if integrated else 0) + (2 if decided else 0),
    }
    labels = {
        "decision": "1. There is a decision, with alternatives",
        "partnership": "2. Support and partnership offered",
        "options": "3. Options described and views exchanged",
        "preferences": "4. Patient's preferences elicited",
        "integration": "5. Preferences integrated into the decision",
    }
    total = sum(scores.values())
    items = [item(k, labels[k], v, "good" if v >= 3 else "fair" if v >= 2 else "poor") for k, v in scores.items()]
    items.append(
        item(
            "total",
            "OPTION-5 total (0-20, and rescaled 0-100)",
            f"{total} ({total * 5})",
            "good" if total >= 12 else "fair" if total >= 8 else "poor",
        )
    )
    items += [item(f"{k}_count", f"{k.replace('_', ' ').capitalize()} turns", v) for k, v in n.items()]
    items += _topic_items(scenario, turns)
    items += _state_items(scenario, trace, ["trust", "understanding", "involvement"])
    return {
        "title": "Team, option and decision talk (OPTION-5)",
        "items": items,
        "note": (
            "OPTION-5 items are observer-rated 0-4 (Elwyn et al.); here they are estimated from detected acts, "
            "a design choice."
        ),
    }


def _decision_item(first: dict[str, int | None]) -> int:
    """OPTION-5 item 1: 2 for naming the choice or the options, 3 for both, 4 if both came before deciding."""
    named = [v for v in (first["team_talk"], first["option_talk"]) if v is not None]
    if not named:
        return 0
    if len(named) == 1:
        return 2
    decided_at = first["decision_talk"]
    return 4 if decided_at is None or max(named) < decided_at else 3


def owns_their_part(scenario: Scenario, text: str) -> bool:
    """An apology for one's own part (the scenario's `owning` topic), not one for how the patient feels."""
    hits = scenario.topic_hits(text)
    return "owning" in hits and "non_apology" not in hits and not _NON_APOLOGY.search(text)


def _marks_by_step(trace: Sequence[dict[str, Any]]) -> dict[int, set[str]]:
    """Patient line marks by engine step (0 is the opening line)."""
    return {int(t.get("turn", 0)): set(t.get("marks") or ()) for t in trace}


def _step(turn: Turn, position: int) -> int:
    """The engine step that answered a scored turn: stored by the report, else its place among the turns (a
    message that was not scored, such as one not in English, still moves the engine's count)."""
    return int(turn.get("step") or position + 1)


def rupture(scenario: Scenario, turns: Sequence[Turn], trace: Sequence[dict[str, Any]]) -> dict[str, Any]:
    marks = marks_after(trace)
    by_step = _marks_by_step(trace)
    opening = by_step.get(0, set())
    rupture_steps = [k for k, m in sorted(by_step.items()) if k > 0 and m & {"confrontation", "withdrawal"}]
    confrontation = sum(1 for m in by_step.values() if "confrontation" in m)
    withdrawal = sum(1 for m in by_step.values() if "withdrawal" in m)
    # Repair counts from the trainee turn after the first rupture line, or from the start if they arrive angry.
    after = 0 if opening & {"confrontation", "withdrawal"} or not rupture_steps else rupture_steps[0]
    later = [t for k, t in enumerate(turns) if _step(t, k) > after]
    steps = {
        "notice": next((t["index"] for t in later if acts(t) & NOTICE_ACTS), None),
        "invite": next((t["index"] for t in later if acts(t) & INVITE_ACTS), None),
        "own": next((t["index"] for t in later if owns_their_part(scenario, t["text"])), None),
        "reagree": next((t["index"] for t in later if acts(t) & REAGREE_ACTS), None),
    }
    labels = {
        "notice": "Noticed the rupture (named or reflected the anger or hurt)",
        "invite": "Invited the patient's view of what went wrong",
        "own": "Owned their part (an apology or acknowledgement, without excuses)",
        "reagree": "Re-agreed the goal and the next step together",
    }
    defending = sum(
        1
        for k, t in enumerate(turns)
        if acts(t) & (DISMISSIVE_ACTS | {"rescue_take_over"})
        or "you_statement" in cues(t)
        # the patient line this turn answers was angry, and the turn explained
        or ("give_information" in acts(t) and "confrontation" in by_step.get(_step(t, k) - 1, set()))
    )
    items = [
        item("confrontation", "Patient lines showing confrontation (complaint, anger)", confrontation),
        item("withdrawal", "Patient lines showing withdrawal (short answers, 'whatever')", withdrawal),
        *[item(k, labels[k], steps[k], "done" if steps[k] is not None else "missed", turn=steps[k]) for k in labels],
        item(
            "defending",
            "Defending, explaining the system to anger, blaming or directing",
            defending,
            "good" if not defending else "poor",
        ),
        item("repair_lines", "Patient lines showing repair", sum(1 for m in marks if "repair" in m)),
        *_state_items(scenario, trace, ["alliance", "anger", "trust"]),
    ]
    return {
        "title": "Rupture markers and repair steps",
        "items": items,
        "note": "Repair steps after Eubanks, Muran and Safran (3RS); the mapping from acts is a design choice.",
    }


def attachment(scenario: Scenario, turns: Sequence[Turn], trace: Sequence[dict[str, Any]]) -> dict[str, Any]:
    persona = scenario.personas.get(scenario.persona) if scenario.personas else None
    helps, hurts = set(persona.helps if persona else ()), set(persona.hurts if persona else ())
    fit = sum(1 for t in turns if acts(t) & helps)
    misfit = sum(1 for t in turns if acts(t) & hurts)
    share = round(100.0 * fit / (fit + misfit)) if (fit + misfit) else None
    info = [sum(1 for a in (t["score"] or {}).get("acts", []) if a["act"] in INFO_ACTS) for t in turns]
    questions = [
        sum(1 for a in (t["score"] or {}).get("acts", []) if a["act"] in {"open_question", "closed_question"})
        for t in turns
    ]
    marks = marks_after(trace)
    label = persona.label if persona else "standard"
    items = [
        item("persona", "Persona", label),
        item("fit", f"Turns that suit a {label.lower()} patient", fit, _count_status(fit, 4)),
        item("misfit", f"Turns that a {label.lower()} patient finds hard", misfit, "good" if not misfit else "poor"),
        item(
            "fit_share",
            "Fit to the persona (%)",
            share,
            "info" if share is None else ("good" if share >= 70 else "fair" if share >= 50 else "poor"),
        ),
        item("pace_info", "Information pieces per turn (pacing)", round(sum(info) / len(info), 2) if info else None),
        item(
            "pace_questions",
            "Questions per turn (pacing)",
            round(sum(questions) / len(questions), 2) if questions else None,
        ),
        item("reassurance", "Patient lines seeking reassurance", sum(1 for m in marks if "reassurance_seeking" in m)),
        item(
            "withdrawal",
            "Patient lines minimising or withdrawing",
            sum(1 for m in marks if m & {"minimising", "withdrawal"}),
        ),
        *_state_items(scenario, trace, list(scenario.variables)),
    ]
    return {
        "title": f"Empathy and pacing fitted to the persona ({label})",
        "items": items,
        "note": (
            "Which moves suit which attachment style is declared in the scenario "
            "(a design choice after the attachment literature)."
        ),
    }


def _topic_items(scenario: Scenario, turns: Sequence[Turn]) -> list[dict[str, Any]]:
    """Scenario topics the trainee should raise (for example a herbal remedy): done, dismissed or missed."""
    out = []
    for name in scenario.topics:
        hits = [t for t in turns if name in scenario.topic_hits(t["text"])]
        respectful = next((t for t in hits if not acts(t) & DISMISSIVE_ACTS), None)
        label = f"Raised: {name.replace('_', ' ')}"
        if respectful is not None:
            out.append(item(f"topic_{name}", label, respectful["index"], "done", turn=respectful["index"]))
        elif hits:
            first = hits[0]["index"]
            out.append(item(f"topic_{name}", label, first, "poor", "Raised only to dismiss or argue.", turn=first))
        else:
            out.append(item(f"topic_{name}", label, None, "missed"))
    return out


RUBRICS: dict[str, Callable[[Scenario, Sequence[Turn], Sequence[dict[str, Any]]], dict[str, Any]]] = {
    "spikes": spikes,
    "stances": stances,
    "miti": miti,
    "option5": option5,
    "rupture": rupture,
    "attachment": attachment,
}


RUBRIC_TITLES = {
    "spikes": "SPIKES, NURSE and plain language",
    "stances": "Rescuer, persecutor or coach (drama triangle)",
    "miti": "MITI codes and change talk",
    "option5": "Team, option and decision talk (OPTION-5)",
    "rupture": "Rupture markers and repair steps (3RS)",
    "attachment": "Empathy and pacing fitted to the persona",
}
# Instruments a report can show beside the scenario's own rubric, and the rubrics whose conversations each one
# was made for (../shared/coaching-science.md). SPIKES is a protocol for breaking bad news. MITI's thresholds
# describe motivational interviewing about a change of behaviour; its manual says it is of little use where
# the goal is a decision (OPTION-5 judges those). Where an instrument does not fit, the report says so and
# shows no verdict from it, rather than a failure.
INSTRUMENTS: dict[str, dict[str, Any]] = {
    "spikes": {
        "label": "SPIKES checklist",
        "rubrics": frozenset({"spikes"}),
        "why_not": "SPIKES is a protocol for breaking difficult news; this conversation is not built around news.",
    },
    "miti": {
        "label": "MITI 4.2.1 thresholds",
        "rubrics": frozenset({"miti"}),
        "why_not": (
            "MITI's fair and good thresholds describe motivational interviewing about changing a behaviour; "
            "this conversation is judged by its own rubric, so the counts are shown without a band."
        ),
    },
}


def applies(scenario: Scenario | None, instrument: str) -> bool:
    """Whether an instrument fits the scenario, from the rubric the scenario declares (``Scenario.rubric``)."""
    return scenario is not None and scenario.rubric in INSTRUMENTS[instrument]["rubrics"]


def instruments(scenario: Scenario | None) -> list[dict[str, Any]]:
    """The instruments behind one scenario's report: its own rubric first, then each other instrument with
    whether it applies and, if not, why."""
    out = []
    if scenario is not None:
        out.append({"id": scenario.rubric, "label": RUBRIC_TITLES[scenario.rubric], "applies": True, "why_not": ""})
    for key, spec in INSTRUMENTS.items():
        if scenario is not None and key == scenario.rubric:
            continue  # the scenario's rubric is this instrument: listed above
        fits = applies(scenario, key)
        out.append({"id": key, "label": spec["label"], "applies": fits, "why_not": "" if fits else spec["why_not"]})
    return out


def evaluate(scenario: Scenario, turns: Sequence[Turn], state: dict[str, Any] | None) -> dict[str, Any]:
    """The scenario's rubric for one session: ``turns`` are scored trainee turns, ``state`` the final state."""
    state = state or {}
    view = scenario.for_persona(state.get("persona"))
    trace = list(state.get("trace") or [])
    result = RUBRICS[scenario.rubric](view, [t for t in turns if t.get("score")], trace)
    ending = next((e for e in view.endings if e.id == state.get("ending")), None)
    return {
        "kind": scenario.rubric,
        **result,
        "ending": {"id": ending.id, "outcome": ending.outcome, "good": ending.good} if ending else None,
    }
