"""The patient model: state that moves with the trainee's acts, and lines chosen from state-matched pools.

Everything random comes from a generator seeded by (session seed, turn, pool), so the same seed and the
same trainee turns replay a session exactly. State is a plain dict so it fits in a Rasa slot or a database.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.scenarios import guard
from bot.scenarios.model import (
    GUARD_EVENTS,
    KEEPS_TALKING,
    NON_MOVE_EVENTS,
    NOT_UNDERSTOOD,
    REPEATED,
    UNDERSTOOD_EVENTS,
    Condition,
    Difficulty,
    Pool,
    Scenario,
)
from bot.scoring.taxonomy import EMPATHIC_ACTS

log = logging.getLogger(__name__)


# Minimal encouragers: they invite the patient to go on and are not a new move.
_MINIMAL = re.compile(
    r"^(m+|mhm+|hm+|uh[- ]?huh|ok(ay)?|right|yes|yeah|yep|i see|sure|go on|carry on|and|and then|"
    r"keep going|please go on|go ahead|tell me more|oh|ah|really)$"
)
_YES_NO = frozenset({"yes", "yeah", "yep", "yes it is", "no", "nope", "not yet", "sure", "ok", "okay", "right"})
_WORD = re.compile(r"[a-z0-9']+")
_AGAIN = re.compile(r"\b(again|repeat)\b")
# Acts that do not answer a question the patient asked: asking back, greeting, inviting, sharing the floor.
NON_ANSWERS = frozenset(
    {
        "open_question",
        "closed_question",
        "perception_check",
        "invitation",
        "check_understanding",
        "decision_talk",
        "greet_introduce",
        "minimal_encourager",
        "list_scenarios",
        "start_scenario",
        "ask_hint",
        "end_session",
        "ask_help",
    }
)
MAX_IGNORED = 2  # a question left unanswered is noticed this many times in a row, not for ever


def words(text: str) -> list[str]:
    return _WORD.findall((text or "").lower().replace("\u2019", "'"))


def is_minimal(text: str) -> bool:
    """A minimal encourager ("mm", "go on", "right"): the trainee hands the floor back."""
    said = " ".join(words(text))
    return bool(said) and bool(_MINIMAL.match(said))


def is_repeat(text: str, earlier: Iterable[str]) -> bool:
    """The same or nearly the same words as an earlier trainee turn (three words or more, so a second "thank you"
    or "I'm sorry" is not one; encouragers never)."""
    mine = words(text)
    if len(mine) < 3 or is_minimal(text):
        return False
    key = " ".join(mine)
    bag = set(mine)
    for other in earlier:
        theirs = other.split()
        if other == key:
            return True
        if len(mine) >= 4 and len(theirs) >= 4:
            both = set(theirs)
            if len(bag & both) / len(bag | both) >= 0.8:
                return True
    return False


def asks_question(line: str) -> bool:
    """Whether a patient line ends by asking something, so the next reply can answer or ignore it."""
    return line.rstrip().rstrip("\"'").endswith("?")


@dataclass
class PatientState:
    values: dict[str, float]
    flags: dict[str, bool] = field(default_factory=dict)
    used: dict[str, list[int]] = field(default_factory=dict)
    revealed: list[str] = field(default_factory=list)
    turn: int = 0
    last_emotional: bool = False
    ended: bool = False
    seed: int = 0
    difficulty: str = "standard"
    last_line: str = ""  # the patient's last line: the context the next reply is scored against
    acts_seen: list[str] = field(default_factory=list)  # every act the trainee has used so far
    persona: str = ""
    ending: str = ""  # id of the ending reached, if any
    trace: list[dict[str, Any]] = field(default_factory=list)  # per turn: values, pool and marks, for the report
    # The session's memory, for what lines presuppose (all with defaults, so older stored states still load):
    discussed: list[str] = field(default_factory=list)  # scenario topics the trainee has raised so far
    last_acts: list[str] = field(default_factory=list)  # the trainee's acts in the latest turn
    last_pool: str = ""  # the pool the patient's last line came from: the thread an encourager continues
    last_asked: bool = False  # the patient's last line asked a question
    ignored: int = 0  # how many replies in a row have left the patient's question unanswered
    said: list[str] = field(default_factory=list)  # the trainee's turns, normalised: repeats are noticed
    open_cues: list[str] = field(default_factory=list)  # named cues the patient raised and nobody has answered
    last_cues: list[str] = field(default_factory=list)  # the cues raised by the patient's last line
    outcome: str = ""  # the ending's outcome as it happened (its parts that held), once the scenario has ended

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": dict(self.values),
            "flags": dict(self.flags),
            "used": {k: list(v) for k, v in self.used.items()},
            "revealed": list(self.revealed),
            "turn": self.turn,
            "last_emotional": self.last_emotional,
            "ended": self.ended,
            "seed": self.seed,
            "difficulty": self.difficulty,
            "last_line": self.last_line,
            "acts_seen": list(self.acts_seen),
            "persona": self.persona,
            "ending": self.ending,
            "trace": [dict(t) for t in self.trace],
            "discussed": list(self.discussed),
            "last_acts": list(self.last_acts),
            "last_pool": self.last_pool,
            "last_asked": self.last_asked,
            "ignored": self.ignored,
            "said": list(self.said),
            "open_cues": list(self.open_cues),
            "last_cues": list(self.last_cues),
            "outcome": self.outcome,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PatientState:
        trace = [dict(t) for t in data.get("trace", [])]
        last_line = str(data.get("last_line", ""))
        return cls(
            values={k: float(v) for k, v in data["values"].items()},
            flags={k: bool(v) for k, v in data.get("flags", {}).items()},
            used={k: [int(i) for i in v] for k, v in data.get("used", {}).items()},
            revealed=list(data.get("revealed", [])),
            turn=int(data.get("turn", 0)),
            last_emotional=bool(data.get("last_emotional", False)),
            ended=bool(data.get("ended", False)),
            seed=int(data.get("seed", 0)),
            difficulty=str(data.get("difficulty", "standard")),
            last_line=last_line,
            acts_seen=[str(a) for a in data.get("acts_seen", [])],
            persona=str(data.get("persona", "")),
            ending=str(data.get("ending", "")),
            trace=trace,
            discussed=[str(t) for t in data.get("discussed", [])],
            last_acts=[str(a) for a in data.get("last_acts", [])],
            last_pool=str(data.get("last_pool", trace[-1].get("pool", "") if trace else "")),
            last_asked=bool(data.get("last_asked", asks_question(last_line))),
            ignored=int(data.get("ignored", 0)),
            said=[str(t) for t in data.get("said", [])],
            open_cues=[str(c) for c in data.get("open_cues", [])],
            last_cues=[str(c) for c in data.get("last_cues", [])],
            outcome=str(data.get("outcome", "")),
        )


@dataclass(frozen=True)
class TurnInput:
    """What the engine needs from a trainee turn: the scorer's acts and cues, and the text itself."""

    acts: frozenset[str]
    cues: frozenset[str] = frozenset()
    text: str = ""


@dataclass
class StepResult:
    line: str
    pool: str
    events: list[str]
    revealed: str | None
    ended: bool
    state: PatientState
    marks: tuple[str, ...] = ()
    notice: str | None = None  # a system message for the trainee, outside the role-play
    outcome: str | None = None  # the ending's outcome when this turn ended the scenario


class Engine:
    """Runs one scenario at one difficulty; stateless itself, so one instance can serve many sessions."""

    def __init__(self, scenario: Scenario, difficulty: str | None = None, persona: str | None = None) -> None:
        self.scenario = scenario.for_persona(persona)
        names = list(scenario.difficulties)
        self.difficulty_name = difficulty if difficulty in scenario.difficulties else names[0]
        self.difficulty: Difficulty = scenario.difficulties[self.difficulty_name]

    def start(self, seed: int) -> StepResult:
        values = {name: var.initial for name, var in self.scenario.variables.items()}
        state = PatientState(
            values=values, seed=int(seed), difficulty=self.difficulty_name, persona=self.scenario.persona
        )
        state.flags = {
            "news_given": False,
            "warning_shot_given": False,
            "perception_checked": False,
            "concern_revealed": False,
        }
        opening = self.scenario.opening
        index = self._pick(state, opening, self._eligible(opening, state, TurnInput(frozenset()), set()))
        line = opening.lines[index]
        state.last_emotional = opening.emotional
        state.last_line = line
        state.last_pool = "opening"
        state.last_asked = asks_question(line)
        state.last_cues = [c for c in [opening.line_cue(index)] if c]
        state.open_cues = list(state.last_cues)
        state.trace.append({"turn": 0, "values": dict(values), "pool": "opening", "marks": list(opening.marks)})
        return StepResult(line, "opening", [], None, False, state, opening.marks)

    def step(self, state: PatientState, turn: TurnInput) -> StepResult:
        """Apply one trainee turn and choose the patient's answer. The given state is not modified."""
        state = PatientState.from_dict(state.to_dict())
        if state.ended:
            raise ValueError("this scenario has already ended")
        state.turn += 1
        events = self._events(state, turn)
        guarded = events & {*GUARD_EVENTS, *UNDERSTOOD_EVENTS}
        choice: tuple[Pool, int] | None = None
        if guarded:  # not a clinical move: the patient reacts in role, and nothing is revealed or concluded
            understood = not events & set(UNDERSTOOD_EVENTS)
            if understood:  # only the guard event's own effect; a message the patient could not follow moves nothing
                self._apply_effects(state, TurnInput(frozenset()), events)
            choice = self._first(state, turn, events, only=guarded)
            if choice is None and not understood:
                choice = self._fallback(NOT_UNDERSTOOD, state, turn, events)
            return self._finish(state, turn, events, choice, None, guard.NOTICES[sorted(guarded)[0]])
        if events & set(NON_MOVE_EVENTS):  # a repeat or an "mm": only event effects, nothing revealed or concluded
            self._apply_effects(state, TurnInput(frozenset()), events)
            choice = self._first(state, turn, events, only=events - {"unanswered_emotion"})
            if choice is None and "minimal_reply" in events:
                choice = self._continue_thread(state, turn, events)
            if choice is None:
                fallback = REPEATED if "repeated" in events else KEEPS_TALKING
                choice = self._fallback(fallback, state, turn, events)
            return self._finish(state, turn, events, choice, None, None)
        self._update_flags(state, turn, events)
        self._apply_effects(state, turn, events)
        revealed = None
        choice = self._first(state, turn, events, reactions=True)  # what was just said is answered first
        for concern in self.scenario.concerns if choice is None else ():
            if concern.id in state.revealed:
                continue
            if self._holds(concern.reveal_when, state, turn, events, shift=True):
                revealed = concern.id
                state.revealed.append(concern.id)
                state.flags["concern_revealed"] = True
                state.flags[f"concern:{concern.id}"] = True
                pool = Pool(
                    f"concern:{concern.id}",
                    Condition(),
                    concern.lines,
                    emotional=True,
                    marks=concern.marks,
                    cue=concern.id,
                    continues=False,
                )
                choice = (pool, self._pick(state, pool, list(range(len(pool.lines)))))
                break
        outcome = None
        if choice is None:
            for ending in self.scenario.endings:
                if not self._holds(ending.pool.when, state, turn, events, shift=ending.good):
                    continue
                eligible = self._eligible(ending.pool, state, turn, events)
                if not eligible:
                    continue
                choice = (ending.pool, self._pick(state, ending.pool, eligible))
                outcome = "; ".join(
                    [ending.outcome]
                    + [text for text, needs in ending.outcome_parts if self._holds(needs, state, turn, events)]
                )
                state.ended = True
                state.ending = ending.id
                state.outcome = outcome
                break
        if choice is None:
            choice = self._first(state, turn, events)
        result = self._finish(state, turn, events, choice, revealed, None)
        result.outcome = outcome
        return result

    def _first(
        self,
        state: PatientState,
        turn: TurnInput,
        events: set[str],
        only: set[str] | None = None,
        reactions: bool = False,
    ) -> tuple[Pool, int] | None:
        """The first reply pool whose `when` holds and that has a line whose needs hold, with that line.
        ``only``: consider only pools that answer one of these events; ``reactions``: only reaction pools."""
        for pool in self.scenario.replies:
            if only is not None and not pool.when.events_any & only:
                continue
            if reactions and not pool.reaction:
                continue
            if not self._holds(pool.when, state, turn, events):
                continue
            eligible = self._eligible(pool, state, turn, events)
            if eligible:
                return pool, self._pick(state, pool, eligible)
        return None

    def _continue_thread(self, state: PatientState, turn: TurnInput, events: set[str]) -> tuple[Pool, int] | None:
        """An encourager carries on the thread: another line from the pool the last line came from, if its
        presuppositions (flags, state, topics, turns) still hold. What made it answer last time need not."""
        pool = next((p for p in self.scenario.replies if p.id == state.last_pool), None)
        if pool is None or not pool.continues or pool.when.events_any & {*GUARD_EVENTS, *NON_MOVE_EVENTS}:
            return None
        when = pool.when
        presupposed = Condition(
            flags=when.flags, state=when.state, discussed=when.discussed, undiscussed=when.undiscussed, turns=when.turns
        )
        if not self._holds(presupposed, state, turn, events):
            return None
        used = state.used.get(pool.id, [])
        eligible = [i for i in self._eligible(pool, state, turn, events) if i not in used]
        return (pool, self._pick(state, pool, eligible)) if eligible else None

    def _fallback(self, pool: Pool, state: PatientState, turn: TurnInput, events: set[str]) -> tuple[Pool, int]:
        return pool, self._pick(state, pool, list(range(len(pool.lines))))

    def _finish(
        self,
        state: PatientState,
        turn: TurnInput,
        events: set[str],
        choice: tuple[Pool, int] | None,
        revealed: str | None,
        notice: str | None,
    ) -> StepResult:
        if choice is None:
            log.warning("scenario %s: no pool could answer turn %d", self.scenario.id, state.turn)
            pool = Pool("fallback", Condition(), ("Sorry, I'm not sure what you mean.",))
            choice = (pool, self._pick(state, pool, [0]))
        pool, index = choice
        line = pool.lines[index]
        for flag in pool.sets:
            state.flags[flag] = True
        self._apply_marks(state, pool.marks)
        state.last_emotional = pool.emotional
        state.last_line = line
        state.last_pool = pool.id
        state.last_asked = asks_question(line)
        cue = pool.line_cue(index)
        state.last_cues = [cue] if cue else []
        if cue and cue not in state.open_cues and not state.flags.get(f"answered:{cue}"):
            state.open_cues.append(cue)
        if "not_english" not in events:
            state.last_acts = sorted(turn.acts)
            said = " ".join(words(turn.text))
            if said:
                state.said.append(said)
        state.acts_seen = sorted(set(state.acts_seen) | turn.acts)
        state.trace.append(
            {"turn": state.turn, "values": dict(state.values), "pool": pool.id, "marks": list(pool.marks)}
        )
        return StepResult(line, pool.id, sorted(events), revealed, state.ended, state, pool.marks, notice)

    # -- internals ------------------------------------------------------------------------------------------
    def _events(self, state: PatientState, turn: TurnInput) -> set[str]:
        if guard.foreign_language(turn.text):
            return {"not_english"}  # nothing else in it can be read: no news, no emotion answered or missed
        kind = guard.classify(turn.text)
        if kind:
            missed = state.last_emotional and not turn.acts & EMPATHIC_ACTS
            return {kind, "unanswered_emotion"} if missed else {kind}
        said = " ".join(words(turn.text))
        if state.last_asked and said in _YES_NO:  # "yes" to "is it the results?" is an answer, not an encourager
            state.ignored = 0
            return {"question_answered"}
        minimal = is_minimal(turn.text) or (bool(turn.acts) and turn.acts <= {"minimal_encourager"})
        asked_again = state.last_asked and bool(_AGAIN.search(state.last_line.lower()))
        if not minimal and not asked_again and is_repeat(turn.text, state.said):
            return {"repeated"}
        events: set[str] = set()
        low = turn.text.lower()
        if (
            not minimal
            and not state.flags.get("news_given")
            and any(re.search(r"(?<![a-z])" + re.escape(k) + r"(?![a-z])", low) for k in self.scenario.news_keywords)
        ):
            events.add("news_given")
            warned = state.flags.get("warning_shot_given") or "warning_shot" in turn.acts
            events.add("news_with_warning" if warned else "news_without_warning")
        if minimal:
            events.add("minimal_reply")
        elif state.last_emotional and not (turn.acts & EMPATHIC_ACTS):
            events.add("unanswered_emotion")
        if state.last_asked:
            answered = not minimal and (bool(turn.acts - NON_ANSWERS) or "news_given" in events)
            if answered:
                events.add("question_answered")
                state.ignored = 0
            elif state.ignored < MAX_IGNORED:
                events.add("question_ignored")
                state.ignored += 1
        else:
            state.ignored = 0
        return events

    def _update_flags(self, state: PatientState, turn: TurnInput, events: set[str]) -> None:
        if "news_given" in events:
            state.flags["news_given"] = True
        if "warning_shot" in turn.acts:
            state.flags["warning_shot_given"] = True
        if "perception_check" in turn.acts:
            state.flags["perception_checked"] = True
        hits = self.scenario.topic_hits(turn.text)
        state.discussed = sorted(set(state.discussed) | hits)
        # A cue is answered by acknowledging it (an empathic act that is more than a question) right after it was
        # raised, or by an empathic reply that names it (a topic of the same name, or one of a concern's `about`
        # topics once it is out); a general "what worries you?" does not answer it.
        acknowledging = bool(turn.acts & (EMPATHIC_ACTS - {"nurse_explore"}))
        exploring = "nurse_explore" in turn.acts
        about = {c.id: c.about for c in self.scenario.concerns}
        if acknowledging or exploring:  # naming a topic with empathy answers the cue of that name, raised or not
            for topic in hits:
                state.flags[f"answered:{topic}"] = True
        for cue in list(state.open_cues):
            named = bool(({cue} | about.get(cue, frozenset())) & hits)
            if (acknowledging and (cue in state.last_cues or named)) or (exploring and named):
                state.flags[f"answered:{cue}"] = True
                state.open_cues.remove(cue)

    def _apply_effects(self, state: PatientState, turn: TurnInput, events: set[str]) -> None:
        keys = [
            *sorted(turn.acts),
            *(f"cue:{c}" for c in sorted(turn.cues)),
            *(f"event:{e}" for e in sorted(events)),
            *(f"topic:{t}" for t in sorted(self.scenario.topic_hits(turn.text))),
        ]
        self._move(state, keys)

    def _move(self, state: PatientState, keys: Iterable[str]) -> None:
        """Apply the effects under each key, scaled by difficulty towards the good direction, within bounds."""
        scale = self.difficulty.effect_scale
        for key in keys:
            for name, delta in self.scenario.effects.get(key, {}).items():
                var = self.scenario.variables[name]
                helpful = (var.good == "high" and delta > 0) or (var.good == "low" and delta < 0)
                if var.good in ("high", "low"):
                    delta = delta * scale if helpful else delta / scale
                state.values[name] = round(min(var.high, max(var.low, state.values[name] + delta)), 6)

    def _apply_marks(self, state: PatientState, marks: Iterable[str]) -> None:
        """`mark:` effects: what the patient has just said moves them too (hearing oneself argue for change
        strengthens it, MI's causal chain). Applied after the line, so they shape the next turn."""
        self._move(state, [f"mark:{m}" for m in sorted(marks)])

    def _eligible(self, pool: Pool, state: PatientState, turn: TurnInput, events: set[str]) -> list[int]:
        """The lines of a pool whose own needs hold now: a line is never said when what it presupposes is false."""
        return [i for i in range(len(pool.lines)) if self._holds(pool.line_needs(i), state, turn, events)]

    def _holds(
        self, cond: Condition, state: PatientState, turn: TurnInput, events: set[str], shift: bool = False
    ) -> bool:
        """Whether a condition holds; ``shift`` applies the difficulty's threshold shift to minimums,
        which makes disclosures and good endings harder to reach on hard and easier on gentle."""
        if cond.acts_any and not cond.acts_any & turn.acts:
            return False
        if cond.acts_none & turn.acts:
            return False
        if cond.cues_any and not cond.cues_any & turn.cues:
            return False
        if cond.events_any and not cond.events_any & events:
            return False
        if cond.topics_any and not cond.topics_any & self.scenario.topic_hits(turn.text):
            return False
        if cond.prev_acts_any and not cond.prev_acts_any & set(state.last_acts):
            return False
        if cond.last_pools and state.last_pool not in cond.last_pools:
            return False
        if cond.asked is not None and state.last_asked != cond.asked:
            return False
        discussed = set(state.discussed) | self.scenario.topic_hits(turn.text)
        if not cond.discussed <= discussed or cond.undiscussed & discussed:
            return False
        low_turn, high_turn = cond.turns
        if (low_turn is not None and state.turn < low_turn) or (high_turn is not None and state.turn > high_turn):
            return False
        if any(bool(state.flags.get(name, False)) != want for name, want in cond.flags):
            return False
        offset = self.difficulty.threshold_shift if shift else 0.0
        for name, low, high in cond.state:
            value = state.values[name]
            if low is not None and value < low + offset:
                return False
            if high is not None and value > high:
                return False
        return True

    @staticmethod
    def _pick(state: PatientState, pool: Pool, eligible: list[int]) -> int:
        """A line (by index) among the eligible ones not yet used in this session; once they are all used, any
        eligible line again. Seeded by (session seed, turn, pool), so a session replays exactly."""
        used = state.used.setdefault(pool.id, [])
        free = [i for i in eligible if i not in used]
        if not free:
            used[:] = [i for i in used if i not in eligible]
            free = list(eligible)
        rng = random.Random(f"{state.seed}:{state.turn}:{pool.id}")
        index = rng.choice(free)
        used.append(index)
        return index


def replay(
    scenario: Scenario,
    seed: int,
    turns: Iterable[TurnInput],
    difficulty: str | None = None,
    persona: str | None = None,
) -> list[str]:
    """The patient's lines for a sequence of trainee turns: the basis of exact session replay."""
    engine = Engine(scenario, difficulty, persona)
    result = engine.start(seed)
    lines = [result.line]
    state = result.state
    for turn in turns:
        if state.ended:
            break
        result = engine.step(state, turn)
        lines.append(result.line)
        state = result.state
    return lines
