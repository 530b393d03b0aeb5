"""One concrete tip per turn, with a better reply the trainee could have given.

Two sources. The scenario's own tips (``ScoringContext.tips``, plain dicts loaded by ``bot.scenarios.tips``) are
its expert moves, each with conditions on this reply's acts, the acts earlier in the session, the patient's
emotion and last line, and the acts its alternative reply performs (``recommends``). The generic rules are
scenario-neutral: they name no scenario's content, so they fit any patient, and their alternatives are fitted to
the emotion family.

The order: (1) the first scenario tip whose conditions hold, except that after a harmful move only a tip about
that harm qualifies, and after an unanswered emotion only a tip whose alternative answers it; (2) the generic
rules for harm, most harmful first (abuse, blame, orders, dismissing, deciding for the patient, premature
reassurance, rescuing, unasked advice, warnings), then for an unanswered emotion; (3) the scenario's tips again
without the emotion guard (when no generic answer fits this persona); (4) the rest of the generic rules: a move
that misfits this persona, a repeated question, news without a warning shot, jargon, closed questions only,
information without a check, and the natural next move. At every step a tip is skipped if its alternative
recommends an act the reply made or one that misfits the persona. Everything is deterministic.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.scoring.pipeline import load_lexicon
from bot.scoring.taxonomy import ACTS, EMPATHIC_ACTS

log = logging.getLogger(__name__)

# The emotion families the scorer reads in a patient's line (the cue lexicon's, e.g. fear, sadness, anger,
# shame, shock, overwhelm, concern).
EMOTION_FAMILIES: tuple[str, ...] = tuple(load_lexicon()["emotions"]) or (
    "fear",
    "sadness",
    "anger",
    "shame",
    "shock",
    "overwhelm",
)
# Acts that cost points whatever else the reply does (the scorer's harmful acts): the moves a tip must answer first.
HARMFUL_ACTS = frozenset(a.name for a in ACTS.values() if a.levels and min(a.levels.values()) <= 1)
# Conditions a scenario tip may set (the data format is in bot/scenarios/tips/__init__.py).
CONDITIONS = frozenset(
    {
        "acts_any",
        "acts_none",
        "seen_any",
        "seen_all",
        "seen_none",
        "emotion",
        "patient_says",
        "cues_any",
        "cues_none",
        "decision_in_play",
        "repeated",
        "scores_max",
    }
)


@dataclass(frozen=True)
class Alternative:
    text: str
    recommends: frozenset[str]


def _alt(text: str, *recommends: str) -> Alternative:
    return Alternative(text, frozenset(recommends))


# Emotion-fitted alternatives, several per family so one is left when the reply already made a move: naming and
# exploring, exploring alone, understanding with support. Written for Rapport; no scenario's content.
_FITTED: dict[str, tuple[Alternative, ...]] = {
    "fear": (
        _alt(
            "It sounds like this has really frightened you. What's worrying you most right now?",
            "nurse_name",
            "nurse_explore",
        ),
        _alt("What's the worry that keeps coming back to you?", "nurse_explore", "open_question"),
        _alt(
            "Anyone would be frightened hearing this. You won't be on your own with it.",
            "nurse_understand",
            "nurse_support",
        ),
    ),
    "sadness": (
        _alt(
            "I can see this is hitting you hard. Would you tell me what's going through your mind?",
            "nurse_name",
            "nurse_explore",
        ),
        _alt("What's the hardest part of this for you?", "nurse_explore", "open_question"),
        _alt(
            "It makes sense that you feel low about this. I'm here, and we'll take it a step at a time.",
            "nurse_understand",
            "nurse_support",
        ),
    ),
    "anger": (
        _alt(
            "You're angry, and from what you've said I can see why. Tell me what's been hardest.",
            "nurse_name",
            "nurse_explore",
        ),
        _alt("What has made this so frustrating for you?", "nurse_explore", "open_question"),
        _alt(
            "Anyone treated like that would be fed up. I want to put it right with you.",
            "nurse_understand",
            "nurse_support",
        ),
    ),
    "shock": (
        _alt(
            "That's a lot to hear all at once. Take your time. What's going through your mind right now?",
            "nurse_name",
            "nurse_explore",
        ),
        _alt("What's going through your mind right now?", "nurse_explore", "open_question"),
        _alt(
            "This must feel like it's come out of nowhere. I'm not going anywhere; take all the time you need.",
            "nurse_understand",
            "nurse_support",
        ),
    ),
    "overwhelm": (
        _alt(
            "This is a lot to take in. Shall we pause there, and you tell me what's on your mind?",
            "nurse_name",
            "nurse_explore",
            "seek_collaboration",
        ),
        _alt("Which part is weighing on you most right now?", "nurse_explore", "open_question"),
        _alt(
            "No wonder it feels like too much at once. We can go one piece at a time, at your pace.",
            "nurse_understand",
            "nurse_support",
        ),
    ),
    "concern": (
        _alt(
            "It sounds like that's been on your mind. What worries you most about it?",
            "complex_reflection",
            "nurse_explore",
        ),
        _alt("Tell me more about what you're hoping for.", "nurse_explore", "open_question"),
        _alt(
            "That makes sense, and it matters. We'll keep it in mind as we plan.", "nurse_understand", "nurse_support"
        ),
    ),
    "shame": (
        _alt(
            "It sounds like part of you blames yourself. What makes you feel that way?", "nurse_name", "nurse_explore"
        ),
        _alt("What do you find yourself thinking about that?", "nurse_explore", "open_question"),
        _alt(
            "It took courage to say that. Plenty of people feel the same way, and it doesn't change how I see you.",
            "nurse_respect",
            "nurse_understand",
        ),
    ),
}
_NEUTRAL: tuple[Alternative, ...] = (
    _alt(
        "It sounds like there's a lot going on for you. What matters most to you about this?",
        "complex_reflection",
        "open_question",
    ),
    _alt("What would you like to happen next?", "decision_talk", "open_question"),
    _alt("Let me check I've understood what matters most to you so far. Is that right?", "summarise"),
)


@dataclass(frozen=True)
class _Rule:
    id: str
    text: str
    alternatives: tuple[Alternative, ...] = ()  # empty: the emotion-fitted ones


# Harmful moves, most harmful first: (act, rule).
_HARM_RULES: tuple[tuple[str, _Rule], ...] = (
    (
        "abuse",
        _Rule(
            "abuse",
            "Contempt ends the conversation: the patient stops telling you anything. Own it, "
            "apologise, and start again.",
            (
                _alt(
                    "I'm sorry, that was out of order. Can we start again? I'd like to hear what's "
                    "been happening for you.",
                    "open_question",
                    "seek_collaboration",
                ),
                _alt("I'm sorry, I got that wrong, and I'd like to do better.", "nurse_understand"),
            ),
        ),
    ),
    (
        "confront_blame",
        _Rule(
            "blame",
            "Blame or labelling puts the patient on the defensive (a persecutor move). Stay curious instead.",
            (
                _alt(
                    "I'd like to understand what's made this hard for you. What gets in the way?",
                    "open_question",
                    "nurse_explore",
                ),
                _alt("You've been dealing with a lot, and you're here today. That counts.", "affirm_strength"),
            ),
        ),
    ),
    (
        "direct_command",
        _Rule(
            "command",
            "An order leaves the patient two choices, comply or resist. Ask permission and offer a choice instead.",
            (
                _alt(
                    "Would it be OK if we talked about what might help, and you tell me what you "
                    "think would work for you?",
                    "seek_collaboration",
                ),
                _alt("What feels doable to you from here?", "open_question", "emphasise_autonomy"),
            ),
        ),
    ),
    (
        "dismiss",
        _Rule(
            "dismiss",
            "Brushing a concern aside tells the patient it doesn't count, and they stop raising it. "
            "Take it seriously: ask about it.",
            (
                _alt(
                    "Tell me more about that. I'd like to understand why it matters to you.",
                    "nurse_explore",
                    "open_question",
                ),
                _alt("That clearly matters to you, and I want to take it seriously.", "nurse_understand"),
            ),
        ),
    ),
    (
        "decide_for_patient",
        _Rule(
            "decide",
            "Deciding for the patient skips their part of the decision. Say there is a choice, and "
            "ask what matters to them.",
            (
                _alt(
                    "There's more than one reasonable way forward here, and I'd like us to decide "
                    "together. What matters most to you?",
                    "team_talk",
                    "decision_talk",
                ),
                _alt(
                    "Before anything is settled, what matters most to you about this?", "decision_talk", "open_question"
                ),
            ),
        ),
    ),
    (
        "premature_reassurance",
        _Rule(
            "reassurance",
            "Reassurance before you know the worry closes the conversation. Name and explore the feeling first.",
        ),
    ),
    (
        "rescue_take_over",
        _Rule(
            "rescue",
            "Taking over feels kind but keeps the patient dependent (a rescuer move). Ask about their own ideas.",
            (
                _alt(
                    "What have you tried that has helped, even a little? I'd like us to build on that together.",
                    "open_question",
                    "seek_collaboration",
                ),
                _alt(
                    "I'd like us to work this out together rather than me deciding for you. Would that be OK?",
                    "seek_collaboration",
                    "team_talk",
                ),
            ),
        ),
    ),
    (
        "advise_without_permission",
        _Rule(
            "advice",
            "Advice without permission tends to raise resistance. Ask first, then offer.",
            (
                _alt(
                    "Would it be OK if I shared a couple of things that have helped other people in your situation?",
                    "seek_collaboration",
                ),
                _alt("What ideas do you have yourself about what might help?", "open_question", "emphasise_autonomy"),
            ),
        ),
    ),
    (
        "persuade_warn",
        _Rule(
            "warning",
            "Arguing for change invites the patient to argue back (the righting reflex). Draw out their own reasons.",
            (
                _alt(
                    "What would you like to be different, if anything, and why does that matter to you?",
                    "open_question",
                    "nurse_explore",
                ),
                _alt(
                    "It's your decision what, if anything, you do about this. What do you make of it?",
                    "emphasise_autonomy",
                    "open_question",
                ),
            ),
        ),
    ),
)
_HARM_ORDER = {act: i for i, (act, _) in enumerate(_HARM_RULES)}

# After a good move, the natural next one (SPIKES order, NURSE, three-talk), checked in this order.
_NEXT_MOVES: tuple[tuple[str, _Rule], ...] = (
    (
        "nurse_name",
        _Rule(
            "next-after-naming",
            "Good: you named the feeling. Now invite the patient to say more about it.",
            (_alt("Tell me more about what's going through your mind.", "nurse_explore", "open_question"),),
        ),
    ),
    (
        "complex_reflection",
        _Rule(
            "next-after-reflection",
            "Good reflection: it adds meaning. Follow it with an invitation to say more.",
            (_alt("What would you make of that?", "open_question"),),
        ),
    ),
    (
        "simple_reflection",
        _Rule(
            "next-after-simple-reflection",
            "A simple reflection keeps them talking; try adding the feeling you hear under it.",
            (
                _alt(
                    "It sounds as if that has been weighing on you more than you let on.",
                    "complex_reflection",
                    "nurse_name",
                ),
            ),
        ),
    ),
    (
        "warning_shot",
        _Rule(
            "next-after-warning-shot",
            "Good warning shot. Pause and let the patient ask, then say it in one plain sentence and stop.",
            (
                _alt(
                    "Take your time. When you're ready, I'll explain it in plain words.",
                    "give_information",
                    "invitation",
                ),
            ),
        ),
    ),
    (
        "invitation",
        _Rule(
            "next-after-invitation",
            "Good: you asked how much they want to know. Prepare them with a warning shot before anything serious.",
            (_alt("I'm afraid it's more serious than we'd hoped.", "warning_shot"),),
        ),
    ),
    (
        "perception_check",
        _Rule(
            "next-after-perception",
            "Good: you asked what they know before telling. Next, ask how much they want to know.",
            (_alt("How much detail would you like me to go into today?", "invitation"),),
        ),
    ),
    (
        "nurse_explore",
        _Rule(
            "next-after-exploring",
            "Good: you explored. Reflect what you hear before you add anything of your own.",
            (_alt("So the hardest part for you is not knowing what this will mean from here.", "complex_reflection"),),
        ),
    ),
    (
        "option_talk",
        _Rule(
            "next-after-options",
            "Options are on the table; now find out what matters most to the patient.",
            (_alt("Thinking about those options, what matters most to you?", "decision_talk", "open_question"),),
        ),
    ),
    (
        "team_talk",
        _Rule(
            "next-after-team-talk",
            "Good team talk. Describe the options next, in plain words and numbers.",
            (
                _alt(
                    "There are a few reasonable options. Let me go through what each involves, and "
                    "then we can weigh them up.",
                    "option_talk",
                ),
            ),
        ),
    ),
    (
        "greet_introduce",
        _Rule(
            "next-after-greeting",
            "A good start. Next, find out what the patient already knows and wants from today.",
            (
                _alt(
                    "Before we start, what have you been told so far, and what would you like to get out of today?",
                    "perception_check",
                    "open_question",
                ),
            ),
        ),
    ),
)

_UNANSWERED = (
    "The patient showed {emotion}; the reply did not answer it. "
    "Respond to the emotion before moving on (name it, then explore)."
)
_RULES = {
    "misfit-warmth": _Rule(
        "misfit-warmth",
        "This patient pulls away when pressed about feelings. One light acknowledgement is enough; "
        "give control over the pace.",
        (
            _alt(
                "Shall I give you the main points first, and you tell me how much more you want?",
                "invitation",
                "seek_collaboration",
            ),
            _alt(
                "You've handled a lot on your own. What would be most useful to you today?",
                "nurse_respect",
                "open_question",
            ),
        ),
    ),
    "misfit-facts": _Rule(
        "misfit-facts",
        "This patient needs to feel heard before facts or choices can land. Answer the feeling "
        "first, then one small piece at a time.",
    ),
    "repeated": _Rule(
        "repeated-question",
        "That question was asked already: asking again tells the patient the first answer wasn't "
        "heard. Reflect what they said instead.",
        (
            _alt("So from what you told me earlier, this has been weighing on you for a while.", "complex_reflection"),
            _alt("Let me check I've got what you told me so far. Have I missed anything?", "summarise"),
        ),
    ),
    "no-warning-shot": _Rule(
        "no-warning-shot",
        "Serious news came without a warning shot. Prepare the patient in one sentence first, then pause.",
        (_alt("I'm afraid it's more serious than we'd hoped.", "warning_shot"),),
    ),
    "jargon": _Rule(
        "jargon",
        "Technical words lose the patient. Use plain words and small chunks, then check.",
        (
            _alt(
                "Let me say that in plain words, one piece at a time. Stop me whenever you want to ask.",
                "give_information",
                "seek_collaboration",
            ),
            _alt("That was a lot of technical words. What did you make of what I just said?", "check_understanding"),
        ),
    ),
    "closed-only": _Rule(
        "closed-only",
        "A closed question gets a short answer. An open one lets the patient lead.",
        (_alt("How have things been for you since we last met?", "open_question"),),
    ),
    "check": _Rule(
        "check-after-information",
        "After giving information, check what landed (teach-back), in small chunks.",
        (
            _alt(
                "So I know I've explained it clearly, what will you tell your family about today?",
                "check_understanding",
            ),
        ),
    ),
    "good": _Rule(
        "keep-going",
        "Good move. Keep the patient talking, and summarise before you move to a plan.",
        (
            _alt("Let me check I've understood what matters most to you so far. Is that right?", "summarise"),
            _alt("What else is on your mind about this?", "open_question", "nurse_explore"),
        ),
    ),
    "summary-close": _Rule(
        "close-after-summary",
        "Good summary. Now hand the next step to the patient: ask what they would like to do.",
        (_alt("Where does that leave you? What would you like to do next?", "decision_talk", "open_question"),),
    ),
    "reflect": _Rule(
        "reflect",
        "Reflect what you heard before adding anything new.",
    ),
}
_FALLBACK = Alternative("Take your time. I'm listening.", frozenset({"minimal_encourager"}))


def choose_tip(
    acts: set[str],
    cues: set[str],
    emotion: str | None,
    previous_acts: Iterable[str] = (),
    *,
    tips: Sequence[Mapping[str, Any]] = (),
    patient_line: str | None = None,
    decision_in_play: bool = False,
    misfit_acts: Iterable[str] = (),
    repeated: bool = False,
    dims: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The single most useful tip for this turn: ``{"id", "text", "alternative"}``.

    ``tips`` are the scenario's own (see the module doc); ``dims`` the turn's dimension scores (Dimension
    objects or plain numbers). ``id`` names the tip (``scenario:<tip id>`` or ``generic:<rule>``) so a report or
    test can look up what its alternative recommends.
    """
    turn = _TurnView(
        acts=frozenset(acts),
        cues=frozenset(cues),
        emotion=emotion,
        seen=frozenset(previous_acts),
        patient_line=(patient_line or "").lower(),
        decision_in_play=decision_in_play,
        misfit=frozenset(misfit_acts),
        repeated=repeated,
        scores={k: getattr(v, "score", v) for k, v in (dims or {}).items()},
    )
    first, rest = _generic_candidates(turn)
    return (
        _scenario_tip(tips, turn, strict=True)
        or _first_allowed(first, turn)
        or _scenario_tip(tips, turn, strict=False)  # no generic answer to the emotion fits: the scenario's next move
        or _first_allowed(rest, turn)
        or _last_resort(turn)
    )


def _scenario_tip(tips: Sequence[Mapping[str, Any]], turn: _TurnView, strict: bool) -> dict[str, str] | None:
    for tip in tips:
        if _scenario_tip_fits(tip, turn, strict):
            return {"id": f"scenario:{tip['id']}", "text": str(tip["text"]), "alternative": str(tip["alternative"])}
    return None


def generic_recommends(tip_id: str, alternative: str) -> frozenset[str]:
    """The acts a generic tip's alternative performs (for reports and tests)."""
    for alt in generic_alternatives():
        if alt.text == alternative:
            return alt.recommends
    if alternative == _FALLBACK.text:
        return _FALLBACK.recommends
    raise KeyError(f"no generic alternative for {tip_id}: {alternative!r}")


def generic_texts() -> list[str]:
    """Every text and alternative a generic rule can show: they must name no scenario's content."""
    rules = [r for _, r in _HARM_RULES] + [r for _, r in _NEXT_MOVES] + list(_RULES.values())
    return [_UNANSWERED, *(r.text for r in rules), *(a.text for a in generic_alternatives()), _FALLBACK.text]


def generic_alternatives() -> list[Alternative]:
    rules = [r for _, r in _HARM_RULES] + [r for _, r in _NEXT_MOVES] + list(_RULES.values())
    fitted = [a for alts in _FITTED.values() for a in alts]
    return [a for r in rules for a in r.alternatives] + fitted + list(_NEUTRAL)


@dataclass(frozen=True)
class _TurnView:
    acts: frozenset[str]
    cues: frozenset[str]
    emotion: str | None
    seen: frozenset[str]
    patient_line: str
    decision_in_play: bool
    misfit: frozenset[str]
    repeated: bool
    scores: dict[str, Any]

    @property
    def harm(self) -> frozenset[str]:
        return self.acts & HARMFUL_ACTS

    @property
    def unanswered(self) -> bool:
        return self.emotion is not None and not self.acts & EMPATHIC_ACTS

    def allows(self, recommends: Iterable[str]) -> bool:
        """An alternative may recommend no act the reply just made and none that misfits this persona."""
        rec = frozenset(recommends)
        return bool(rec) and not rec & self.acts and not rec & self.misfit


def _scenario_tip_fits(tip: Mapping[str, Any], turn: _TurnView, strict: bool = True) -> bool:
    when: Mapping[str, Any] = tip.get("when") or {}
    recommends = frozenset(tip.get("recommends") or ())
    if not tip.get("text") or not tip.get("alternative") or not turn.allows(recommends):
        return False
    acts_any = frozenset(when.get("acts_any") or ())
    if turn.harm and not acts_any & turn.harm:
        return False  # the reply did harm: only a tip about that harm comes before the generic harm rules
    if strict and turn.unanswered and not turn.harm and not recommends & EMPATHIC_ACTS:
        return False  # an emotion went unanswered: only a tip whose alternative answers it
    return _conditions_hold(when, turn)


def _conditions_hold(when: Mapping[str, Any], turn: _TurnView) -> bool:
    checks = (
        ("acts_any", lambda v: bool(turn.acts & set(v))),
        ("acts_none", lambda v: not turn.acts & set(v)),
        ("seen_any", lambda v: bool(turn.seen & set(v))),
        ("seen_all", lambda v: set(v) <= turn.seen),
        ("seen_none", lambda v: not turn.seen & set(v)),
        ("emotion", lambda v: _emotion_matches(v, turn.emotion)),
        ("patient_says", lambda v: any(_says(turn.patient_line, p) for p in v)),
        ("cues_any", lambda v: bool(turn.cues & set(v))),
        ("cues_none", lambda v: not turn.cues & set(v)),
        ("decision_in_play", lambda v: bool(v) == turn.decision_in_play),
        ("repeated", lambda v: bool(v) == turn.repeated),
        ("scores_max", lambda v: all(_at_most(turn.scores.get(d), m) for d, m in v.items())),
    )
    for key, check in checks:
        if key in when and when[key] is not None and not check(when[key]):
            return False
    unknown = set(when) - CONDITIONS
    if unknown:
        log.warning("tip conditions not understood, tip skipped: %s", sorted(unknown))
        return False
    return True


def _emotion_matches(wanted: Iterable[str], emotion: str | None) -> bool:
    wanted = set(wanted)
    if emotion is None:
        return "none" in wanted
    return emotion in wanted or "any" in wanted


def _says(line: str, phrase: str) -> bool:
    return _phrase(phrase).search(line) is not None


@functools.lru_cache(maxsize=4096)
def _phrase(phrase: str) -> re.Pattern[str]:
    """A phrase as whole words, compiled once: every turn checks every tip's phrases."""
    return re.compile(r"(?<![a-z])" + re.escape(phrase.lower()) + r"(?![a-z])")


def _at_most(score: Any, limit: int) -> bool:
    return score is not None and score <= limit


def _generic_candidates(turn: _TurnView) -> tuple[list[_Rule], list[_Rule]]:
    """The generic rules that apply, in order: those that come before a scenario's next move (harm, an
    unanswered emotion) and the rest."""
    first: list[_Rule] = []
    for act in sorted(turn.harm, key=lambda a: _HARM_ORDER.get(a, len(_HARM_ORDER))):
        first += [r for a, r in _HARM_RULES if a == act]
    if turn.unanswered:
        first.append(_Rule("unanswered-emotion", _UNANSWERED.format(emotion=turn.emotion)))
    rest: list[_Rule] = []
    misfits = turn.acts & turn.misfit
    if misfits & {"nurse_explore", "nurse_name", "nurse_support"}:
        rest.append(_RULES["misfit-warmth"])
    if misfits & {"give_information", "option_talk", "emphasise_autonomy"}:
        rest.append(_RULES["misfit-facts"])
    if turn.repeated:
        rest.append(_RULES["repeated"])
    if "bad_news" in turn.cues and "warning_shot" not in turn.acts | turn.seen:
        rest.append(_RULES["no-warning-shot"])
    if "jargon" in turn.cues:
        rest.append(_RULES["jargon"])
    if "closed_question" in turn.acts and turn.acts <= {"closed_question", "give_information", "greet_introduce"}:
        rest.append(_RULES["closed-only"])
    if "give_information" in turn.acts and "check_understanding" not in turn.acts | turn.seen:
        rest.append(_RULES["check"])
    rest += [rule for act, rule in _NEXT_MOVES if act in turn.acts]
    if "summarise" in turn.acts:
        rest.append(_RULES["summary-close"])
    if any(level >= 3 for a in turn.acts if a in ACTS for level in ACTS[a].levels.values()):
        rest.append(_RULES["good"])
    rest.append(_RULES["reflect"])
    return first, rest


def _first_allowed(rules: Sequence[_Rule], turn: _TurnView) -> dict[str, str] | None:
    """The first rule with an alternative the turn allows (its own, or the emotion-fitted ones)."""
    fitted = _FITTED.get(turn.emotion or "", _NEUTRAL)
    for rule in rules:
        for alt in rule.alternatives or fitted:
            if turn.allows(alt.recommends):
                return {"id": f"generic:{rule.id}", "text": rule.text, "alternative": alt.text}
    return None


def _last_resort(turn: _TurnView) -> dict[str, str]:
    for alt in (*_FITTED.get(turn.emotion or "", _NEUTRAL), *_NEUTRAL, _FALLBACK):
        if turn.allows(alt.recommends):
            return {"id": "generic:keep-going", "text": _RULES["good"].text, "alternative": alt.text}
    log.warning("every generic alternative repeats a move of this reply: %s", sorted(turn.acts))
    return {
        "id": "generic:listen",
        "text": "Let the patient answer before you say more.",
        "alternative": _FALLBACK.text,
    }
