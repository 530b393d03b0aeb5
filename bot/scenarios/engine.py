"""The patient model: state that moves with the trainee's acts, and lines chosen from state-matched pools.

Everything random comes from a generator seeded by (session seed, turn, pool), so the same seed and the
same trainee turns replay a session exactly. State is a plain dict so it fits in a Rasa slot or a database.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.scenarios import guard
from bot.scenarios.model import GUARD_EVENTS, UNDERSTOOD_EVENTS, Condition, Difficulty, Pool, Scenario
from bot.scoring.taxonomy import EMPATHIC_ACTS

# What a patient says to a message they cannot follow, when the scenario has no pool of its own for it.
NOT_UNDERSTOOD = Pool(
    "not_understood",
    Condition(),
    (
        "Sorry? I didn't understand that. I only speak English, I'm afraid.",
        "I'm sorry, I don't follow. Could you say that in English?",
        "Pardon? I'm not sure what you said there.",
    ),
)


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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PatientState:
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
            last_line=str(data.get("last_line", "")),
            acts_seen=[str(a) for a in data.get("acts_seen", [])],
            persona=str(data.get("persona", "")),
            ending=str(data.get("ending", "")),
            trace=[dict(t) for t in data.get("trace", [])],
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
        line = self._pick(state, self.scenario.opening)
        state.last_emotional = self.scenario.opening.emotional
        state.last_line = line
        state.trace.append(
            {"turn": 0, "values": dict(values), "pool": "opening", "marks": list(self.scenario.opening.marks)}
        )
        return StepResult(line, "opening", [], None, False, state, self.scenario.opening.marks)

    def step(self, state: PatientState, turn: TurnInput) -> StepResult:
        """Apply one trainee turn and choose the patient's answer. The given state is not modified."""
        state = PatientState.from_dict(state.to_dict())
        if state.ended:
            raise ValueError("this scenario has already ended")
        state.turn += 1
        events = self._events(state, turn)
        guarded = events & {*GUARD_EVENTS, *UNDERSTOOD_EVENTS}
        pool: Pool | None = None
        if guarded:  # not a clinical move: the patient reacts in role, and nothing is revealed or concluded
            understood = not events & set(UNDERSTOOD_EVENTS)
            if understood:  # a message the patient could not follow moves nothing
                self._apply_effects(state, TurnInput(frozenset()), events)
            pool = next(
                (
                    p
                    for p in self.scenario.replies
                    if p.when.events_any & guarded and self._holds(p.when, state, turn, events)
                ),
                None if understood else NOT_UNDERSTOOD,
            )
            return self._finish(state, turn, events, pool, None, guard.NOTICES[sorted(guarded)[0]])
        self._update_flags(state, turn, events)
        self._apply_effects(state, turn, events)
        revealed = None
        for concern in self.scenario.concerns:
            if concern.id in state.revealed:
                continue
            if self._holds(concern.reveal_when, state, turn, events, shift=True):
                revealed = concern.id
                state.revealed.append(concern.id)
                state.flags["concern_revealed"] = True
                state.flags[f"concern:{concern.id}"] = True
                pool = Pool(f"concern:{concern.id}", Condition(), concern.lines, emotional=True, marks=concern.marks)
                break
        outcome = None
        if pool is None:
            for ending in self.scenario.endings:
                if self._holds(ending.pool.when, state, turn, events, shift=ending.good):
                    pool, outcome = ending.pool, ending.outcome
                    state.ended = True
                    state.ending = ending.id
                    break
        if pool is None:
            pool = next((p for p in self.scenario.replies if self._holds(p.when, state, turn, events)), None)
        result = self._finish(state, turn, events, pool, revealed, None)
        result.outcome = outcome
        return result

    def _finish(
        self,
        state: PatientState,
        turn: TurnInput,
        events: set[str],
        pool: Pool | None,
        revealed: str | None,
        notice: str | None,
    ) -> StepResult:
        if pool is None:
            pool = Pool("fallback", Condition(), ("Sorry, I'm not sure what you mean.",))
        line = self._pick(state, pool)
        for flag in pool.sets:
            state.flags[flag] = True
        self._apply_marks(state, pool.marks)
        state.last_emotional = pool.emotional
        state.last_line = line
        state.acts_seen = sorted(set(state.acts_seen) | turn.acts)
        state.trace.append(
            {"turn": state.turn, "values": dict(state.values), "pool": pool.id, "marks": list(pool.marks)}
        )
        return StepResult(line, pool.id, sorted(events), revealed, state.ended, state, pool.marks, notice)

    # -- internals ------------------------------------------------------------------------------------------
    def _events(self, state: PatientState, turn: TurnInput) -> set[str]:
        events: set[str] = set()
        low = turn.text.lower()
        if not state.flags.get("news_given") and any(
            re.search(r"(?<![a-z])" + re.escape(k) + r"(?![a-z])", low) for k in self.scenario.news_keywords
        ):
            events.add("news_given")
            warned = state.flags.get("warning_shot_given") or "warning_shot" in turn.acts
            events.add("news_with_warning" if warned else "news_without_warning")
        if state.last_emotional and not (turn.acts & EMPATHIC_ACTS):
            events.add("unanswered_emotion")
        if guard.foreign_language(turn.text):
            return {"not_english"}  # nothing else in it can be read: no news, no emotion answered or missed
        kind = guard.classify(turn.text)
        if kind:
            events.add(kind)
        return events

    @staticmethod
    def _update_flags(state: PatientState, turn: TurnInput, events: set[str]) -> None:
        if "news_given" in events:
            state.flags["news_given"] = True
        if "warning_shot" in turn.acts:
            state.flags["warning_shot_given"] = True
        if "perception_check" in turn.acts:
            state.flags["perception_checked"] = True

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
    def _pick(state: PatientState, pool: Pool) -> str:
        """A line not yet used in this session; once the pool is spent it starts over."""
        used = state.used.setdefault(pool.id, [])
        free = [i for i in range(len(pool.lines)) if i not in used]
        if not free:
            used.clear()
            free = list(range(len(pool.lines)))
        rng = random.Random(f"{state.seed}:{state.turn}:{pool.id}")
        index = rng.choice(free)
        used.append(index)
        return pool.lines[index]


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
