"""From the scorer's output to the codes human coders use: AnnoMI behaviours and EPITOME levels.

A calibrated model (``rapport calibrate``) states its codes directly (``TurnScore.codes``); otherwise the
codes are read off the acts with the documented mappings: ``ANNOMI_BEHAVIOUR`` in ``bot.scoring.taxonomy``
for the four AnnoMI behaviours, and the act sets below for EPITOME.
"""

from __future__ import annotations

from collections import Counter

from bot.scoring.scorer import Detection, TurnScore
from bot.scoring.taxonomy import ACTS, ANNOMI_BEHAVIOUR

# Where one reply holds several behaviours, the one its sentences show most often wins; ties go to the
# behaviour that comes last in the reply (a reflection that leads into a question is coded as the question).
_ORDER = ("question", "reflection", "therapist_input")


def _ordered(acts: list[Detection]) -> list[Detection]:
    return sorted(acts, key=lambda a: (a.sentence, a.start))


def behaviour(score: TurnScore) -> str:
    """The AnnoMI main therapist behaviour of one reply."""
    if "behaviour" in score.codes:
        return score.codes["behaviour"]
    per_sentence: dict[int, str] = {}
    for act in _ordered(score.acts):
        found = ANNOMI_BEHAVIOUR.get(act.name, "other")
        if found == "other":
            continue
        current = per_sentence.get(act.sentence)
        if current is None or _ORDER.index(found) < _ORDER.index(current):
            per_sentence[act.sentence] = found
    if not per_sentence:
        return "other"
    counts = Counter(per_sentence.values())
    top = max(counts.values())
    last = [b for _, b in sorted(per_sentence.items()) if counts[b] == top]
    return last[-1]


def reflection_subtype(score: TurnScore) -> str | None:
    """``simple`` or ``complex`` when the reply holds a reflection (MITI: naming, understanding, summaries
    count as complex), else None."""
    if "reflection" in score.codes:
        return score.codes["reflection"]
    kinds = {ACTS[a.name].reflection for a in score.acts if a.name in ACTS}
    if "complex" in kinds:
        return "complex"
    return "simple" if "simple" in kinds else None


def question_subtype(score: TurnScore) -> str | None:
    """``open`` or ``closed`` for the reply's last question, else None."""
    if "question" in score.codes:
        return score.codes["question"]
    questions = [a for a in _ordered(score.acts) if a.name in ACTS and ACTS[a.name].question]
    if not questions:
        return None
    return "closed" if questions[-1].name == "closed_question" else "open"


# EPITOME mechanisms from acts (a design choice, see docs/scoring.md): warmth for emotional reactions,
# reflections and understanding for interpretations, questions for explorations.
ER_ACTS = frozenset({"nurse_support", "nurse_respect", "affirm_strength", "nurse_name"})
IP_STRONG = frozenset({"nurse_understand", "complex_reflection", "summarise", "nurse_name"})
IP_WEAK = frozenset({"simple_reflection"})
EX_STRONG = frozenset({"nurse_explore", "open_question"})
EX_WEAK = frozenset({"closed_question", "perception_check", "check_understanding", "invitation", "decision_talk"})


def epitome_levels(score: TurnScore) -> dict[str, int]:
    """Levels 0-2 for emotional reactions (``er``), interpretations (``ip``) and explorations (``ex``)."""
    names = score.act_names
    out: dict[str, int] = {}
    for key in ("er", "ip", "ex"):
        if key in score.codes:
            out[key] = int(score.codes[key])
    if "er" not in out:
        warmth = len(names & ER_ACTS) + int("emotion_word" in score.cue_names)
        out["er"] = min(warmth, 2)
    if "ip" not in out:
        out["ip"] = 2 if names & IP_STRONG else 1 if names & IP_WEAK else 0
    if "ex" not in out:
        out["ex"] = 2 if names & EX_STRONG else 1 if names & EX_WEAK else 0
    return out
