"""Scenario files: loading, checking and the typed view the engine works on.

Scenarios are data so that educators can write them without touching code or retraining Rasa. Every
problem found while loading is collected and reported together, each with its line number and a
plain-English fix, because an author fixing one error at a time would give up.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.scoring.taxonomy import CLINICAL_ACTS, META_INTENTS

log = logging.getLogger(__name__)
BUILTIN_DIR = Path(__file__).parent / "data"
THEMES = ("difficult-news", "rescuer-trap", "ambivalence", "shared-decision", "rupture-repair", "attachment")
# Guard events: input that is not a clinical move. The patient answers them in role; the app explains.
GUARD_EVENTS = ("off_topic", "abuse", "manipulation")
# Input the patient cannot follow: a scenario may answer it with its own pool, else the engine's default lines.
UNDERSTOOD_EVENTS = ("not_english",)
# Replies that are not a new move: the same (or nearly the same) words again, or a minimal encourager ("mm").
# Neither moves the patient; a repeat gets a reaction to being asked again, an encourager keeps them talking.
NON_MOVE_EVENTS = ("repeated", "minimal_reply")
EVENTS = (
    "news_given",
    "news_with_warning",
    "news_without_warning",
    "unanswered_emotion",
    "question_answered",
    "question_ignored",
    *NON_MOVE_EVENTS,
    *GUARD_EVENTS,
    *UNDERSTOOD_EVENTS,
)
CUES = ("jargon", "emotion_word", "hedge", "you_statement", "i_statement", "bad_news")
CONDITION_KEYS = (
    "acts_any",
    "acts_none",
    "cues_any",
    "events_any",
    "topics_any",
    "flags",
    "state",
    "prev_acts_any",
    "discussed",
    "undiscussed",
    "last_pools",
    "asked",
    "turns",
)
# Keys that are about this turn (what the trainee just did); the rest are presuppositions about the session so far.
TRIGGER_KEYS = ("acts_any", "cues_any", "events_any", "topics_any", "prev_acts_any", "last_pools", "asked")
LINE_KEYS = ("say", "needs", "cue")
BUILTIN_FLAGS = ("news_given", "warning_shot_given", "perception_checked", "concern_revealed")
# What a patient line shows, for the rubrics: MI client talk, alliance ruptures, the drama triangle, decisions.
MARKS = (
    "change_talk",
    "sustain_talk",
    "confrontation",
    "withdrawal",
    "dependency",
    "flattery",
    "blame",
    "agency",
    "decision",
    "disclosure",
    "reassurance_seeking",
    "minimising",
    "repair",
)
RUBRICS = ("spikes", "stances", "miti", "option5", "rupture", "attachment")
THEME_RUBRIC = {
    "difficult-news": "spikes",
    "rescuer-trap": "stances",
    "ambivalence": "miti",
    "shared-decision": "option5",
    "rupture-repair": "rupture",
    "attachment": "attachment",
}
MIN_LINES = 40
REQUIRED_KEYS = ("id", "title", "theme", "setting", "patient", "state", "opening", "replies", "endings", "debrief")
KNOWN_KEYS = (
    *REQUIRED_KEYS,
    "version",
    "summary",
    "learning_goals",
    "difficulties",
    "news",
    "jargon",
    "topics",
    "effects",
    "concerns",
    "ending",
    "personas",
    "rubric",
)
CONCERN_KEYS = ("id", "summary", "reveal_when", "lines", "marks", "about")
POOL_KEYS = ("id", "when", "lines", "emotional", "marks", "sets", "cue", "continues", "reaction")
PERSONA_KEYS = ("label", "summary", "patient", "state", "effects", "opening", "replies", "concerns", "endings", "fit")
# Words that mean the patient is stepping out of role to coach or score; patients never do that.
_COACHING = re.compile(
    r"\b(you should have (asked|said)|a better (reply|response)|your score|full marks|good technique|"
    r"as an ai|language model|this simulation|role-?play)\b",
    re.I,
)
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

Path_ = tuple[Any, ...]


@lru_cache(maxsize=4096)
def _phrase(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z])" + re.escape(phrase.lower()) + r"(?![a-z])")


@dataclass
class Problem:
    """One thing wrong with a scenario file: where, what, and how to fix it."""

    where: Path_
    message: str
    fix: str
    severity: str = "error"  # "error" stops the file loading; "warning" is advice
    line: int | None = None

    def __str__(self) -> str:
        at = f"line {self.line}: " if self.line else ""
        return at + self.describe()

    def describe(self) -> str:
        """The problem and its fix, without the line number (for output that shows it separately)."""
        place = _dotted(self.where)
        return f"{place + ': ' if place else ''}{self.message}. Fix: {self.fix}"


def _dotted(where: Path_) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class ScenarioError(ValueError):
    """A scenario file that cannot be used; ``problems`` lists every issue found, as text."""

    def __init__(self, path: str, problems: Sequence[Problem | str]) -> None:
        self.path = path
        self.details = [
            p if isinstance(p, Problem) else Problem((), str(p), "see the scenario guide") for p in problems
        ]
        self.problems = [str(p) for p in self.details]
        super().__init__(f"{path}: " + "; ".join(self.problems))


@dataclass(frozen=True)
class Variable:
    name: str
    initial: float
    low: float
    high: float
    good: str | None  # "high", "low" or None: which way is better for the conversation
    description: str = ""


@dataclass(frozen=True)
class Condition:
    acts_any: frozenset[str] = frozenset()
    acts_none: frozenset[str] = frozenset()
    cues_any: frozenset[str] = frozenset()
    events_any: frozenset[str] = frozenset()
    topics_any: frozenset[str] = frozenset()
    flags: tuple[tuple[str, bool], ...] = ()
    state: tuple[tuple[str, float | None, float | None], ...] = ()
    prev_acts_any: frozenset[str] = frozenset()  # the trainee's previous turn had one of these acts
    discussed: frozenset[str] = frozenset()  # every one of these topics has come up in the session (this turn too)
    undiscussed: frozenset[str] = frozenset()  # none of these topics has come up yet
    last_pools: frozenset[str] = frozenset()  # the patient's previous line came from one of these pools
    asked: bool | None = None  # the patient's previous line asked a question (true) or did not (false)
    turns: tuple[int | None, int | None] = (None, None)  # the turn number is within these bounds

    @property
    def is_default(self) -> bool:
        """A condition that does not depend on what the trainee just did: the pool can always answer."""
        return not (
            self.acts_any
            or self.cues_any
            or self.events_any
            or self.topics_any
            or self.prev_acts_any
            or self.last_pools
            or self.asked is not None
        )

    @property
    def is_empty(self) -> bool:
        """No condition at all: no trigger and no presupposition."""
        return self == Condition()

    def contradicts(self, other: Condition) -> str | None:
        """Why two conditions can never hold together (checked by the validator), or None."""
        mine, theirs = dict(self.flags), dict(other.flags)
        for name in sorted(set(mine) & set(theirs)):
            if mine[name] != theirs[name]:
                return f"flag '{name}' must be both {mine[name]} and {theirs[name]}"
        for topic in sorted((self.discussed & other.undiscussed) | (self.undiscussed & other.discussed)):
            return f"topic '{topic}' must be both discussed and not discussed"
        for name in sorted({n for n, _, _ in self.state} & {n for n, _, _ in other.state}):
            lows = [lo for n, lo, _ in (*self.state, *other.state) if n == name and lo is not None]
            highs = [hi for n, _, hi in (*self.state, *other.state) if n == name and hi is not None]
            if lows and highs and max(lows) > min(highs):
                return f"'{name}' must be at least {max(lows)} and at most {min(highs)}"
        if self.asked is not None and other.asked is not None and self.asked != other.asked:
            return "the patient's last line must both ask and not ask a question"
        lows_t = [t for t in (self.turns[0], other.turns[0]) if t is not None]
        highs_t = [t for t in (self.turns[1], other.turns[1]) if t is not None]
        if lows_t and highs_t and max(lows_t) > min(highs_t):
            return f"the turn must be at least {max(lows_t)} and at most {min(highs_t)}"
        for acts, none in ((self.acts_any, other.acts_none), (other.acts_any, self.acts_none)):
            if acts and acts <= none:
                return "every act it needs is also excluded"
        return None


@dataclass(frozen=True)
class Pool:
    id: str
    when: Condition
    lines: tuple[str, ...]
    emotional: bool = False
    marks: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()  # flags raised when this pool answers, e.g. remedy_dismissed: memory for later turns
    needs: tuple[Condition, ...] = ()  # per line: what that line presupposes (empty: nothing beyond the pool's when)
    cues: tuple[str, ...] = ()  # per line: a named cue the line raises ('' for none); answered ones set answered:<cue>
    cue: str = ""  # a cue every line of the pool raises
    continues: bool = True  # a minimal encourager ("mm") may draw the next line of this pool: the same thread
    reaction: bool = False  # a reaction to what was just said (news, an apology): checked before concerns and endings

    def line_needs(self, index: int) -> Condition:
        return self.needs[index] if index < len(self.needs) else Condition()

    def line_cue(self, index: int) -> str:
        return (self.cues[index] if index < len(self.cues) else "") or self.cue


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
# What a patient says when told or asked the same thing again, when the scenario has no pool of its own for it.
REPEATED = Pool(
    "repeated",
    Condition(),
    (
        "You said that a minute ago.",
        "You've said that already.",
        "I heard you the first time.",
    ),
    continues=False,
)
# What a patient says to "mm" when there is no thread to carry on and the scenario has no pool for it.
KEEPS_TALKING = Pool(
    "keeps_talking",
    Condition(),
    (
        "...",
        "I don't know what else to say, really.",
        "Yeah. ... Sorry, where was I?",
    ),
    continues=False,
)
# The engine's own pools, used when a scenario has none for the case; reports find them by id too.
ENGINE_POOLS = {p.id: p for p in (NOT_UNDERSTOOD, REPEATED, KEEPS_TALKING)}


@dataclass(frozen=True)
class Concern:
    id: str
    summary: str
    reveal_when: Condition
    lines: tuple[str, ...]
    marks: tuple[str, ...] = ("disclosure",)
    about: frozenset[str] = frozenset()  # topics: an empathic reply that names one acknowledges the concern later on


@dataclass(frozen=True)
class Ending:
    """How a conversation can close: ``good`` endings are the ones the scenario is trying to reach."""

    id: str
    outcome: str
    good: bool
    pool: Pool
    outcome_parts: tuple[tuple[str, Condition], ...] = ()  # added to the outcome only when their needs hold


@dataclass(frozen=True)
class Difficulty:
    effect_scale: float = 1.0
    threshold_shift: float = 0.0


@dataclass(frozen=True)
class Persona:
    """One way of being the same patient: an overlay on the shared scenario."""

    id: str
    label: str
    summary: str = ""
    patient: dict[str, Any] = field(default_factory=dict)
    initial: dict[str, float] = field(default_factory=dict)
    effects: dict[str, dict[str, float]] = field(default_factory=dict)
    opening: Pool | None = None
    replies: tuple[Pool, ...] = ()
    concerns: tuple[Concern, ...] | None = None
    endings: tuple[Ending, ...] | None = None
    helps: tuple[str, ...] = ()  # acts that fit this persona (for the attachment rubric)
    hurts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    id: str
    version: int
    title: str
    theme: str
    summary: str
    setting: str
    patient: dict[str, Any]
    learning_goals: tuple[str, ...]
    difficulties: dict[str, Difficulty]
    variables: dict[str, Variable]
    news_keywords: tuple[str, ...]
    jargon: tuple[str, ...]
    effects: dict[str, dict[str, float]]
    concerns: tuple[Concern, ...]
    opening: Pool
    replies: tuple[Pool, ...]
    endings: tuple[Ending, ...]
    debrief: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    topics: dict[str, tuple[str, ...]] = field(default_factory=dict)
    personas: dict[str, Persona] = field(default_factory=dict)
    rubric: str = "spikes"
    persona: str = ""  # set on the view returned by for_persona

    def topic_hits(self, text: str) -> set[str]:
        """Scenario topics whose phrases occur in the text as whole words (the engine and rubrics share this)."""
        low = text.lower()
        return {name for name, phrases in self.topics.items() if any(_phrase(p).search(low) for p in phrases)}

    @property
    def persona_ids(self) -> list[str]:
        return list(self.personas) or ["standard"]

    def pool(self, pool_id: str) -> Pool | None:
        """Any pool by id, including persona overlays, concerns and endings: the report maps turns back."""
        pools = [self.opening, *self.replies, *(e.pool for e in self.endings)]
        for persona in self.personas.values():
            pools += [*persona.replies, *(e.pool for e in persona.endings or ())]
            pools += [persona.opening] if persona.opening else []
        return next((p for p in pools if p.id == pool_id), ENGINE_POOLS.get(pool_id))

    def for_persona(self, persona_id: str | None) -> Scenario:
        """The scenario as one persona plays it; unknown or missing ids give the first persona."""
        if not self.personas:
            return self
        persona = self.personas.get(persona_id or "") or next(iter(self.personas.values()))
        variables = {
            name: replace(var, initial=persona.initial.get(name, var.initial)) for name, var in self.variables.items()
        }
        effects = {**self.effects, **persona.effects}
        return replace(
            self,
            patient={**self.patient, **persona.patient},
            variables=variables,
            effects=effects,
            opening=persona.opening or self.opening,
            replies=(*persona.replies, *self.replies),
            concerns=self.concerns if persona.concerns is None else persona.concerns,
            endings=self.endings if persona.endings is None else persona.endings,
            persona=persona.id,
        )

    def public(self) -> dict[str, Any]:
        """What a trainee may see before starting: no hidden concerns, no state model."""
        return {
            "id": self.id,
            "title": self.title,
            "theme": self.theme,
            "summary": self.summary,
            "setting": self.setting,
            "patient": {k: self.patient.get(k) for k in ("name", "age", "summary")},
            "learning_goals": list(self.learning_goals),
            "difficulties": list(self.difficulties),
            "personas": [{"id": p.id, "label": p.label, "summary": p.summary} for p in self.personas.values()]
            or [{"id": "standard", "label": "Standard", "summary": ""}],
        }

    def listing(self) -> dict[str, Any]:
        """One line of `rapport scenario list --json`."""
        return {
            "id": self.id,
            "title": self.title,
            "theme": self.theme,
            "difficulties": list(self.difficulties),
            "personas": self.persona_ids,
            "summary": self.summary,
            "path": self.path,
        }


# -- parsing -----------------------------------------------------------------------------------------------
class _Parser:
    """Turns parsed YAML into a Scenario, collecting problems instead of stopping at the first."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[Problem] = []
        self.variables: dict[str, Variable] = {}
        self.topics: dict[str, tuple[str, ...]] = {}
        self.concern_ids: set[str] = set()
        self.pool_flags = _pool_flags(data)
        self.cue_names = _cue_names(data)

    def error(self, where: Path_, message: str, fix: str) -> None:
        self.problems.append(Problem(tuple(where), message, fix))

    def warn(self, where: Path_, message: str, fix: str) -> None:
        self.problems.append(Problem(tuple(where), message, fix, "warning"))

    # small typed readers: a wrong type is a problem, never a crash
    def mapping(self, raw: Any, where: Path_, what: str) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.error(where, f"{what} must be a mapping (key: value lines)", "indent its entries under the key")
            return {}
        return raw

    def listing(self, raw: Any, where: Path_, what: str) -> list[Any]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(where, f"{what} must be a list", "write each entry on its own line starting with '- '")
            return []
        return raw

    def number(self, raw: Any, where: Path_, default: float) -> float:
        if raw is None:
            return default
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            self.error(where, f"'{raw}' is not a number", "write a number such as 0.5")
            return default
        return float(raw)

    def names(self, raw: Any, where: Path_, allowed: Iterable[str], what: str) -> frozenset[str]:
        allowed = set(allowed)
        out = set()
        for i, item in enumerate(self.listing(raw, where, what)):
            name = str(item)
            if name not in allowed:
                hint = ", ".join(sorted(allowed)) if len(allowed) < 20 else "see docs/acts.md"
                self.error(
                    (*where, i), f"unknown {what[:-1] if what.endswith('s') else what} '{name}'", f"use one of {hint}"
                )
            else:
                out.add(name)
        return frozenset(out)

    def lines(self, raw: Any, where: Path_) -> tuple[str, ...]:
        return self.conditioned_lines(raw, where)[0]

    def conditioned_lines(
        self, raw: Any, where: Path_
    ) -> tuple[tuple[str, ...], tuple[Condition, ...], tuple[str, ...]]:
        """Lines, each a string or {say: "...", needs: {...}, cue: name}: the text, what it presupposes, its cue."""
        items = self.listing(raw, (*where, "lines"), "lines")
        lines: list[str] = []
        needs: list[Condition] = []
        cues: list[str] = []
        for i, item in enumerate(items):
            at = (*where, "lines", i)
            if isinstance(item, dict):
                for key in item:
                    if key not in LINE_KEYS:
                        self.error((*at, key), f"unknown key '{key}' in a line", f"use {', '.join(LINE_KEYS)}")
                text = str(item.get("say") or "").strip()
                if not text:
                    self.error(at, "a line written as a mapping has no `say`", 'write {say: "...", needs: {...}}')
                    continue
                need = self.condition(item.get("needs"), (*at, "needs"))
                cue = str(item.get("cue") or "")
                if cue and not _NAME.match(cue):
                    self.error((*at, "cue"), f"cue '{cue}' must be lower-case letters, digits and _", "rename it")
            elif item is not None and str(item).strip():
                text, need, cue = str(item).strip(), Condition(), ""
            else:
                continue
            lines.append(text)
            needs.append(need)
            cues.append(cue)
        if not lines:
            self.error((*where, "lines"), "needs at least one line for the patient to say", "add a '- \"...\"' line")
        for i, line in enumerate(lines):
            if _COACHING.search(line):
                self.warn(
                    (*where, "lines", i),
                    "this line sounds like the patient coaching or scoring the trainee",
                    "patients never step out of role; the app gives feedback, so rewrite it as the patient would",
                )
        return tuple(lines), tuple(needs), tuple(cues)

    def condition(self, raw: Any, where: Path_) -> Condition:
        raw = self.mapping(raw, where, "a condition")
        for key in raw:
            if key not in CONDITION_KEYS:
                self.error((*where, key), f"unknown condition '{key}'", f"use one of {', '.join(CONDITION_KEYS)}")
        state = []
        for name, bounds in self.mapping(raw.get("state"), (*where, "state"), "state").items():
            at = (*where, "state", name)
            if name not in self.variables:
                self.error(at, f"state variable '{name}' is not declared under `state:`", "declare it or fix the name")
                continue
            bounds = self.mapping(bounds, at, "a state bound")
            for key in bounds:
                if key not in ("min", "max"):
                    self.error((*at, key), f"unknown bound '{key}'", "use min or max")
            low = self.number(bounds.get("min"), (*at, "min"), float("nan"))
            high = self.number(bounds.get("max"), (*at, "max"), float("nan"))
            state.append((name, None if low != low else low, None if high != high else high))
        flags = []
        allowed_flags = {
            *BUILTIN_FLAGS,
            *(f"concern:{c}" for c in self.concern_ids),
            *(f"answered:{c}" for c in self.concern_ids | self.cue_names),
            *self.pool_flags,
        }
        for name, value in self.mapping(raw.get("flags"), (*where, "flags"), "flags").items():
            if str(name) not in allowed_flags:
                self.error(
                    (*where, "flags", name),
                    f"unknown flag '{name}'",
                    f"use one of {', '.join(sorted(allowed_flags))}",
                )
            if not isinstance(value, bool):
                self.error((*where, "flags", name), f"flag value '{value}' is not true or false", "write true or false")
            flags.append((str(name), bool(value)))
        acts = (*CLINICAL_ACTS, *META_INTENTS)
        asked = raw.get("asked")
        if asked is not None and not isinstance(asked, bool):
            self.error((*where, "asked"), f"asked '{asked}' is not true or false", "write asked: true or asked: false")
            asked = None
        turns = self.mapping(raw.get("turns"), (*where, "turns"), "turns")
        for key in turns:
            if key not in ("min", "max"):
                self.error((*where, "turns", key), f"unknown bound '{key}'", "use min or max")
        bounds = []
        for key in ("min", "max"):
            value = turns.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                self.error((*where, "turns", key), f"'{value}' is not a turn number", "write a whole number such as 4")
                value = None
            bounds.append(value)
        topics = self.topics
        return Condition(
            prev_acts_any=self.names(raw.get("prev_acts_any"), (*where, "prev_acts_any"), acts, "acts"),
            discussed=self.names(raw.get("discussed"), (*where, "discussed"), topics, "topics"),
            undiscussed=self.names(raw.get("undiscussed"), (*where, "undiscussed"), topics, "topics"),
            last_pools=frozenset(
                str(p) for p in self.listing(raw.get("last_pools"), (*where, "last_pools"), "last_pools")
            ),
            asked=asked,
            turns=(bounds[0], bounds[1]),
            acts_any=self.names(raw.get("acts_any"), (*where, "acts_any"), acts, "acts"),
            acts_none=self.names(raw.get("acts_none"), (*where, "acts_none"), acts, "acts"),
            cues_any=self.names(raw.get("cues_any"), (*where, "cues_any"), CUES, "cues"),
            events_any=self.names(raw.get("events_any"), (*where, "events_any"), EVENTS, "events"),
            topics_any=self.names(raw.get("topics_any"), (*where, "topics_any"), self.topics, "topics"),
            flags=tuple(flags),
            state=tuple(state),
        )

    def pool(self, raw: Any, where: Path_, default_id: str) -> Pool:
        raw = self.mapping(raw, where, "a reply pool")
        for key in raw:
            if key not in POOL_KEYS:
                self.error((*where, key), f"unknown key '{key}' in a reply pool", f"use {', '.join(POOL_KEYS)}")
        marks = self.names(raw.get("marks"), (*where, "marks"), MARKS, "marks")
        sets = tuple(str(f) for f in self.listing(raw.get("sets"), (*where, "sets"), "sets"))
        for i, flag in enumerate(sets):
            if not _NAME.match(flag) or flag in BUILTIN_FLAGS:
                self.error(
                    (*where, "sets", i),
                    f"'{flag}' cannot be set by a pool",
                    "use a new lower-case name with letters, digits and _ (built-in flags are set by the engine)",
                )
        cue = str(raw.get("cue") or "")
        if cue and not _NAME.match(cue):
            self.error((*where, "cue"), f"cue '{cue}' must be lower-case letters, digits and _", "rename it")
        continues = raw.get("continues", True)
        if not isinstance(continues, bool):
            self.error((*where, "continues"), "continues must be true or false", "write continues: false")
            continues = True
        reaction = raw.get("reaction", False)
        if not isinstance(reaction, bool):
            self.error((*where, "reaction"), "reaction must be true or false", "write reaction: true")
            reaction = False
        when = self.condition(raw.get("when"), (*where, "when"))
        if reaction and when.is_default:
            self.error(
                (*where, "reaction"),
                "a reaction pool must react to something the trainee just did",
                "give its when an act, cue, event or topic condition",
            )
        lines, needs, cues = self.conditioned_lines(raw.get("lines"), where)
        pool_id = str(raw.get("id") or default_id)
        if lines and all(when.contradicts(n) for n in needs):
            self.error(
                (*where, "lines"),
                f"no line of pool '{pool_id}' can ever be said: each line's needs contradict the pool's when "
                f"({when.contradicts(needs[0])})",
                "give at least one line needs that can hold whenever the pool's when holds",
            )
        return Pool(
            id=pool_id,
            when=when,
            lines=lines,
            emotional=bool(raw.get("emotional", False)),
            marks=tuple(sorted(marks)),
            sets=sets,
            needs=needs if any(not n.is_empty for n in needs) else (),
            cues=cues if any(cues) else (),
            cue=cue,
            continues=continues,
            reaction=reaction,
        )

    def pools(self, raw: Any, where: Path_) -> tuple[Pool, ...]:
        pools = tuple(
            self.pool(r, (*where, i), f"reply-{i}") for i, r in enumerate(self.listing(raw, where, "replies"))
        )
        for i, item in enumerate(self.listing(raw, where, "replies")):
            if isinstance(item, dict) and "id" not in item:
                self.error((*where, i), "a reply pool has no id", "add `id: a_short_name` so reports can name it")
        return pools

    def effects(self, raw: Any, where: Path_) -> dict[str, dict[str, float]]:
        allowed = {
            *CLINICAL_ACTS,
            *META_INTENTS,
            *(f"cue:{c}" for c in CUES),
            *(f"event:{e}" for e in EVENTS),
            *(f"topic:{t}" for t in self.topics),
            *(f"mark:{m}" for m in MARKS),
        }
        out: dict[str, dict[str, float]] = {}
        for key, deltas in self.mapping(raw, where, "effects").items():
            at = (*where, key)
            if str(key) not in allowed:
                self.error(
                    at,
                    f"'{key}' is not an act, cue, event or topic",
                    "use an act from docs/acts.md, or cue:<cue>, event:<event>, topic:<topic declared under topics>, "
                    "mark:<mark> (applied after a line with that mark is said)",
                )
            out[str(key)] = {}
            for var, delta in self.mapping(deltas, at, "an effect").items():
                if var not in self.variables:
                    self.error((*at, var), f"state variable '{var}' is not declared under `state:`", "declare it")
                    continue
                value = self.number(delta, (*at, var), 0.0)
                span = self.variables[var].high - self.variables[var].low
                if abs(value) > span:
                    self.warn((*at, var), f"a change of {value} is larger than the whole range", "use a smaller step")
                out[str(key)][var] = value
        return out

    def concerns(self, raw: Any, where: Path_) -> tuple[Concern, ...]:
        items = self.listing(raw, where, "concerns")
        ids = [str((c or {}).get("id", "")) if isinstance(c, dict) else "" for c in items]
        self.concern_ids |= {i for i in ids if i}
        out = []
        for i, c in enumerate(items):
            c = self.mapping(c, (*where, i), "a concern")
            if not c.get("id"):
                self.error((*where, i), "a concern has no id", "add `id: a_short_name`")
            if not c.get("summary"):
                self.error((*where, i), "a concern has no summary", "say in one sentence what the patient is hiding")
            if not c.get("reveal_when"):
                self.error(
                    (*where, i),
                    "a concern has no reveal_when",
                    "say what must happen first, e.g. "
                    "reveal_when: {acts_any: [nurse_explore], state: {trust: {min: 0.6}}}",
                )
            for key in c:
                if key not in CONCERN_KEYS:
                    self.error((*where, i, key), f"unknown key '{key}' in a concern", f"use {', '.join(CONCERN_KEYS)}")
            out.append(
                Concern(
                    about=self.names(c.get("about"), (*where, i, "about"), self.topics, "topics"),
                    id=str(c.get("id", f"concern-{i}")),
                    summary=str(c.get("summary", "")),
                    reveal_when=self.condition(c.get("reveal_when"), (*where, i, "reveal_when")),
                    lines=self.lines(c.get("lines"), (*where, i)),
                    marks=tuple(
                        sorted({"disclosure", *self.names(c.get("marks"), (*where, i, "marks"), MARKS, "marks")})
                    ),
                )
            )
        return tuple(out)

    def endings(self, raw: Any, where: Path_) -> tuple[Ending, ...]:
        out = []
        for i, e in enumerate(self.listing(raw, where, "endings")):
            e = self.mapping(e, (*where, i), "an ending")
            for key in ("id", "outcome", "when"):
                if key not in e:
                    self.error((*where, i), f"an ending has no {key}", "give each ending an id, an outcome, a when")
            good = e.get("good", True)
            if not isinstance(good, bool):
                self.error((*where, i, "good"), "good must be true or false", "write good: true or good: false")
            pool = self.pool(
                {k: v for k, v in e.items() if k not in ("outcome", "good", "outcome_parts")},
                (*where, i),
                f"ending-{i}",
            )
            parts = []
            for j, part in enumerate(self.listing(e.get("outcome_parts"), (*where, i, "outcome_parts"), "parts")):
                at = (*where, i, "outcome_parts", j)
                part = self.mapping(part, at, "an outcome part")
                if not str(part.get("text") or "").strip():
                    self.error(at, "an outcome part has no text", 'write {text: "...", needs: {discussed: [plan]}}')
                    continue
                parts.append((str(part["text"]).strip(), self.condition(part.get("needs"), (*at, "needs"))))
            out.append(Ending(pool.id, str(e.get("outcome", "")), bool(good), pool, tuple(parts)))
        return tuple(out)

    def opening(self, raw: Any, where: Path_) -> Pool:
        raw = self.mapping(raw, where, "opening")
        marks = self.names(raw.get("marks"), (*where, "marks"), MARKS, "marks")
        return Pool(
            "opening",
            Condition(),
            self.lines(raw.get("lines"), where),
            bool(raw.get("emotional", False)),
            tuple(sorted(marks)),
        )

    def personas(self, raw: Any) -> dict[str, Persona]:
        out: dict[str, Persona] = {}
        for pid, spec in self.mapping(raw, ("personas",), "personas").items():
            at: Path_ = ("personas", pid)
            if not _NAME.match(str(pid)):
                self.error(at, f"persona id '{pid}' must be lower-case letters, digits and _", "rename it")
            spec = self.mapping(spec, at, "a persona")
            for key in spec:
                if key not in PERSONA_KEYS:
                    self.error((*at, key), f"unknown persona key '{key}'", f"use one of {', '.join(PERSONA_KEYS)}")
            if not spec.get("label"):
                self.error(at, "a persona has no label", "add `label: Anxious` (shown to trainees)")
            initial = {}
            for var, vspec in self.mapping(spec.get("state"), (*at, "state"), "state").items():
                if var not in self.variables:
                    self.error((*at, "state", var), f"state variable '{var}' is not declared", "declare it under state")
                    continue
                value = self.number(
                    self.mapping(vspec, (*at, "state", var), "a state").get("initial"),
                    (*at, "state", var, "initial"),
                    self.variables[var].initial,
                )
                if not self.variables[var].low <= value <= self.variables[var].high:
                    self.error(
                        (*at, "state", var), f"initial {value} is outside the variable's range", "pick a value inside"
                    )
                initial[var] = value
            fit = self.mapping(spec.get("fit"), (*at, "fit"), "fit")
            acts = CLINICAL_ACTS
            # concerns first, so this persona's replies and endings may test their concern:<id> flags
            concerns = self.concerns(spec["concerns"], (*at, "concerns")) if "concerns" in spec else None
            out[str(pid)] = Persona(
                id=str(pid),
                label=str(spec.get("label", pid)),
                summary=str(spec.get("summary", "")),
                patient=self.mapping(spec.get("patient"), (*at, "patient"), "patient"),
                initial=initial,
                effects=self.effects(spec.get("effects"), (*at, "effects")),
                concerns=concerns,
                opening=self.opening(spec["opening"], (*at, "opening")) if "opening" in spec else None,
                replies=self.pools(spec.get("replies"), (*at, "replies")),
                endings=self.endings(spec["endings"], (*at, "endings")) if "endings" in spec else None,
                helps=tuple(sorted(self.names(fit.get("helps"), (*at, "fit", "helps"), acts, "acts"))),
                hurts=tuple(sorted(self.names(fit.get("hurts"), (*at, "fit", "hurts"), acts, "acts"))),
            )
        return out

    def parse(self, path: str) -> Scenario | None:
        data = self.data
        raw = data.get("personas")
        raw_personas: dict[str, Any] = raw if isinstance(raw, dict) else {}
        for key in REQUIRED_KEYS:
            every_persona_has_it = bool(raw_personas) and all(
                isinstance(p, dict) and key in p for p in raw_personas.values()
            )
            if key in ("opening", "endings", "replies") and every_persona_has_it:
                continue  # each persona brings its own
            if key not in data and not (key == "endings" and "ending" in data):
                self.error((), f"missing required key '{key}'", f"add `{key}:` (see `rapport scenario new`)")
        for key in data:
            if key not in KNOWN_KEYS:
                self.warn(
                    (key,),
                    f"unknown key '{key}' is ignored",
                    f"check the spelling; known keys: {', '.join(KNOWN_KEYS)}",
                )
        sid = str(data.get("id", ""))
        if sid and not _ID.match(sid):
            self.error(
                ("id",), f"id '{sid}' must be lower-case letters, digits and hyphens", "e.g. id: chest-pain-news"
            )
        theme = data.get("theme")
        if theme is not None and theme not in THEMES:
            self.error(("theme",), f"theme '{theme}' is not a known theme", f"use one of {', '.join(THEMES)}")
        patient = self.mapping(data.get("patient"), ("patient",), "patient")
        if "patient" in data and not patient.get("name"):
            self.error(("patient",), "the patient has no name", "add `name: ...` under patient")
        self._variables(data.get("state"))
        self.topics = self._topics(data.get("topics"))
        concerns = self.concerns(data.get("concerns"), ("concerns",))
        replies = self.pools(data.get("replies"), ("replies",))
        endings = self._all_endings(data)
        personas = self.personas(data.get("personas"))
        rubric = str(data.get("rubric") or THEME_RUBRIC.get(str(theme), "spikes"))
        if rubric not in RUBRICS:
            self.error(("rubric",), f"rubric '{rubric}' is not known", f"use one of {', '.join(RUBRICS)}")
        scenario = Scenario(
            id=sid,
            version=int(self.number(data.get("version"), ("version",), 1)),
            title=str(data.get("title", "")),
            theme=str(theme),
            summary=str(data.get("summary", "")),
            setting=str(data.get("setting", "")).strip(),
            patient=patient,
            learning_goals=tuple(
                str(g) for g in self.listing(data.get("learning_goals"), ("learning_goals",), "learning goals")
            ),
            difficulties=self._difficulties(data.get("difficulties")),
            variables=self.variables,
            news_keywords=tuple(
                str(k).lower()
                for k in self.listing(
                    self.mapping(data.get("news"), ("news",), "news").get("keywords"), ("news", "keywords"), "keywords"
                )
            ),
            jargon=tuple(str(j).lower() for j in self.listing(data.get("jargon"), ("jargon",), "jargon")),
            effects=self.effects(data.get("effects"), ("effects",)),
            concerns=concerns,
            opening=self.opening(data.get("opening"), ("opening",))
            if "opening" in data or not personas
            else Pool("opening", Condition(), ("...",)),
            replies=replies,
            endings=endings,
            debrief=self._debrief(data.get("debrief")),
            path=path,
            topics=self.topics,
            personas=personas,
            rubric=rubric,
        )
        self._check_whole(scenario)
        return scenario

    def _variables(self, raw: Any) -> None:
        for name, spec in self.mapping(raw, ("state",), "state").items():
            at: Path_ = ("state", name)
            if not _NAME.match(str(name)):
                self.error(at, f"state variable '{name}' must be lower-case letters, digits and _", "rename it")
            spec = self.mapping(spec, at, "a state variable")
            low = self.number(spec.get("min"), (*at, "min"), 0.0)
            high = self.number(spec.get("max"), (*at, "max"), 1.0)
            initial = self.number(spec.get("initial"), (*at, "initial"), low)
            if low >= high:
                self.error(at, f"min {low} is not below max {high}", "make min smaller than max")
            elif not low <= initial <= high:
                self.error(
                    (*at, "initial"), f"initial {initial} is outside [{low}, {high}]", "pick a starting value inside"
                )
            good = spec.get("good")
            if good not in (None, "high", "low"):
                self.error((*at, "good"), f"good '{good}' is not high or low", "write good: high or good: low")
            self.variables[str(name)] = Variable(str(name), initial, low, high, good, str(spec.get("description", "")))
        if not self.variables and "state" in self.data:
            self.error(("state",), "no state variables are declared", "declare at least one, e.g. trust")

    def _topics(self, raw: Any) -> dict[str, tuple[str, ...]]:
        out = {}
        for name, phrases in self.mapping(raw, ("topics",), "topics").items():
            if not _NAME.match(str(name)):
                self.error(("topics", name), f"topic '{name}' must be lower-case letters, digits and _", "rename it")
            words = tuple(str(p).lower() for p in self.listing(phrases, ("topics", name), "topic phrases") if p)
            if not words:
                self.error(("topics", name), "a topic needs at least one phrase", "list the words that signal it")
            out[str(name)] = words
        return out

    def _all_endings(self, data: dict[str, Any]) -> tuple[Ending, ...]:
        endings = self.endings(data.get("endings"), ("endings",))
        if data.get("ending"):  # the single-ending form of the first scenario files
            legacy = self.mapping(data["ending"], ("ending",), "ending")
            endings += (
                Ending("ending", "agreed a plan", True, self.pool({"id": "ending", **legacy}, ("ending",), "ending")),
            )
        if ("endings" in data or "ending" in data) and endings and not any(e.good for e in endings):
            self.error(
                ("endings",), "no ending is marked good", "add the ending the trainee should reach, with good: true"
            )
        return endings

    def _difficulties(self, raw: Any) -> dict[str, Difficulty]:
        out = {}
        for name, spec in (self.mapping(raw, ("difficulties",), "difficulties") or {"standard": {}}).items():
            spec = self.mapping(spec, ("difficulties", name), "a difficulty")
            scale = self.number(spec.get("effect_scale"), ("difficulties", name, "effect_scale"), 1.0)
            if scale <= 0:
                self.error(
                    ("difficulties", name, "effect_scale"), "effect_scale must be above 0", "use e.g. 0.75 for hard"
                )
            shift = self.number(spec.get("threshold_shift"), ("difficulties", name, "threshold_shift"), 0.0)
            out[str(name)] = Difficulty(scale if scale > 0 else 1.0, shift)
        if not {"gentle", "hard"} <= set(out):
            self.warn(("difficulties",), "trainees expect a gentle and a hard level", "add gentle: and hard: levels")
        return out

    def _debrief(self, raw: Any) -> dict[str, Any]:
        debrief = self.mapping(raw, ("debrief",), "debrief")
        if "debrief" not in self.data:
            return debrief
        for key, fix in (
            ("teaching_points", "list what the trainee should learn"),
            ("turning_points", "list the moments that decide the conversation and what an expert does there"),
            ("sources", "cite the published instruments or papers the scenario rests on"),
        ):
            if not self.listing(debrief.get(key), ("debrief", key), key):
                self.error(("debrief",), f"the debrief has no {key}", fix)
        for i, point in enumerate(self.listing(debrief.get("turning_points"), ("debrief", "turning_points"), "points")):
            if not isinstance(point, dict) or not point.get("moment") or not point.get("expert"):
                self.error(
                    ("debrief", "turning_points", i),
                    "a turning point needs a moment and what an expert does there",
                    "write {moment: '...', expert: '...'}",
                )
        return debrief

    def _check_whole(self, scenario: Scenario) -> None:
        """Rules about the scenario as a whole, checked for every persona."""
        for pid in scenario.persona_ids:
            view = scenario.for_persona(pid)
            label = f" (persona {pid})" if scenario.personas else ""
            where: Path_ = ("personas", pid) if scenario.personas else ("replies",)
            if scenario.personas and not any(e.good for e in view.endings):
                self.error(where, f"no good ending{label}", "add the ending the trainee should reach, with good: true")
            pool_ids = [p.id for p in view.replies] + [e.id for e in view.endings]
            for dup in sorted({i for i in pool_ids if pool_ids.count(i) > 1}):
                self.error(
                    where, f"pool id '{dup}' is used twice{label}", "give every reply pool and ending its own id"
                )
            for event in GUARD_EVENTS:
                if not any(event in p.when.events_any for p in view.replies):
                    self.error(
                        where,
                        f"no reply pool answers {event.replace('_', '-')} input{label}",
                        f"add a pool with `when: {{events_any: [{event}]}}` whose lines stay in role",
                    )
            if not any(p.when.is_empty and any(n.is_empty for n in _all_needs(p)) for p in view.replies):
                self.warn(
                    where,
                    f"no reply pool can answer every turn{label}",
                    "add a last pool with no `when`, and at least one line that presupposes nothing, so the patient "
                    "always has something true to say",
                )
            self._check_threads(view, where, label)
            self._check_endings(view, label)
            lines = [*view.opening.lines, *(ln for p in view.replies for ln in p.lines)]
            lines += [ln for e in view.endings for ln in e.pool.lines] + [ln for c in view.concerns for ln in c.lines]
            if len(set(lines)) < MIN_LINES:
                self.warn(
                    where,
                    f"only {len(set(lines))} distinct patient lines{label}; the patient will soon repeat",
                    f"write at least {MIN_LINES}",
                )
            for dup in sorted({ln for ln in lines if lines.count(ln) > 1})[:3]:
                self.warn(where, f"the line '{dup[:40]}...' appears more than once{label}", "vary the wording")
        self._check_concerns(scenario)
        concern_ids = [c.id for c in scenario.concerns]
        for dup in sorted({i for i in concern_ids if concern_ids.count(i) > 1}):
            self.error(("concerns",), f"concern id '{dup}' is used twice", "give each concern its own id")
        if scenario.rubric == "attachment" and len(scenario.personas) < 2:
            self.error(
                ("theme",),
                "the attachment rubric compares personas but fewer than two are declared",
                "add a personas: block with two personas (see `rapport scenario new NAME --theme attachment`)",
            )

    def _check_threads(self, view: Scenario, where: Path_, label: str) -> None:
        """`last_pools` must name pools this patient can say."""
        known = {"opening", *(p.id for p in view.replies), *(e.id for e in view.endings)}
        known |= {f"concern:{c.id}" for c in view.concerns}
        for pool in view.replies:
            for cond in (pool.when, *pool.needs):
                for name in sorted(cond.last_pools - known):
                    self.error(
                        where,
                        f"pool '{pool.id}' follows an unknown pool '{name}' (last_pools){label}",
                        "name a reply pool id, opening, or concern:<id>",
                    )

    def _check_endings(self, view: Scenario, label: str) -> None:
        """An ending that names a plan, a decision or a result needs that substance to have happened."""
        for i, ending in enumerate(view.endings):
            named = _SUBSTANCE.findall(ending.outcome.lower()) if ending.good else []
            when = ending.pool.when
            if named and not (when.discussed or when.topics_any or any(f == "news_given" for f, v in when.flags if v)):
                self.warn(
                    ("endings", i, "when"),
                    f"ending '{ending.id}' says '{named[0]}' but does not require anything to have been "
                    f"discussed{label}",
                    "add `discussed: [topic]` to its when (the topic that makes the plan, decision or result real), "
                    "or put the claim in an outcome_parts entry with its own needs",
                )

    def _check_concerns(self, scenario: Scenario) -> None:
        """A concern is earned by its own trigger, and no learning goal gives it away."""
        concerns: list[tuple[Path_, Concern]] = [(("concerns", i), c) for i, c in enumerate(scenario.concerns)]
        for pid, persona in scenario.personas.items():
            concerns += [(("personas", pid, "concerns", i), c) for i, c in enumerate(persona.concerns or ())]
        public = _content_words(
            " ".join(
                [scenario.title, scenario.summary, scenario.setting, str(scenario.patient.get("summary", ""))]
                + [p.summary for p in scenario.personas.values()]
            )
        )
        seen: set[str] = set()
        for at, concern in concerns:
            when = concern.reveal_when
            own_flags = [f for f, v in when.flags if v and f not in BUILTIN_FLAGS]
            if not (when.discussed or when.topics_any or when.prev_acts_any or when.last_pools or own_flags):
                self.warn(
                    (*at, "reveal_when"),
                    f"concern '{concern.id}' can come out on points alone: its reveal_when has no trigger of its own",
                    "require what must be answered first, e.g. `flags: {answered:<cue>: true}` for a cue the patient "
                    "raised, `discussed: [topic]`, or `topics_any: [topic]`",
                )
            if concern.id in seen:
                continue
            seen.add(concern.id)
            secret = _content_words(f"{concern.summary} {concern.id.replace('_', ' ')}") - public
            for g, goal in enumerate(scenario.learning_goals):
                shared = sorted(_content_words(goal) & secret)
                if len(shared) >= 2:
                    self.warn(
                        ("learning_goals", g),
                        f"this learning goal gives away the hidden concern '{concern.id}' "
                        f"(shares: {', '.join(shared)})",
                        "describe the skill without naming what the patient is hiding; trainees see the goals",
                    )


# Words in an ending's outcome that claim substance: a plan, a decision, a result, a step, an answer.
_SUBSTANCE = re.compile(r"\b(plan|plans|decision|decides|decided|chooses|choice|result|results|step|steps|answer)\b")
_STOP_WORDS = """about above after again against also among another because been before being below between both could
    does doing down during each every from further have having here hers herself himself into itself just
    more most much must never none only other ought over same should some such than that their theirs them
    themselves then there these they this those through under until very were what when where which while
    whom will with within without would your yours yourself the and for are but not you all any can had her
    was one our out his has him how its may new now own say she too use way who why yes yet let get got
    make made tell told still even ever feel feels want wants know knows often take takes taking together plan
    plans time times thing things first last people patient doctor"""
_STOP = frozenset(_STOP_WORDS.split())


def _all_needs(pool: Pool) -> list[Condition]:
    return [pool.line_needs(i) for i in range(len(pool.lines))]


def _stem(word: str) -> str:
    for suffix in ("ingly", "edly", "ing", "ness", "ly", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _content_words(text: str) -> set[str]:
    """Stems of the words that carry meaning (four letters or more, not function words)."""
    return {_stem(w) for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 4 and w not in _STOP}


def _declared(data: Any, key: str) -> set[str]:
    """Every value of ``key`` in any mapping of the file, at any depth: a string or a list of strings."""
    found: set[str] = set()
    if isinstance(data, dict):
        value = data.get(key)
        if isinstance(value, str) and value:
            found.add(value)
        elif isinstance(value, list):
            found.update(str(v) for v in value)
        for child in data.values():
            found |= _declared(child, key)
    elif isinstance(data, list):
        for child in data:
            found |= _declared(child, key)
    return found


def _pool_flags(data: dict[str, Any]) -> set[str]:
    """Flags that some pool sets: collected first, so conditions anywhere in the file may test them."""
    return _declared(data, "sets")


def _cue_names(data: dict[str, Any]) -> set[str]:
    """Cue names any pool or line declares: conditions may test answered:<cue> anywhere in the file."""
    return {name for name in _declared(data, "cue") if name}


def _line_map(text: str) -> dict[Path_, int]:
    """YAML path -> 1-based line, so every problem can point at the line to edit."""
    out: dict[Path_, int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return out

    def walk(node: yaml.Node, path: Path_) -> None:
        out[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = (*path, key.value)
                out[sub] = key.start_mark.line + 1
                walk(value, sub)
                out[sub] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return out


def _locate(problems: list[Problem], lines: dict[Path_, int]) -> None:
    for problem in problems:
        where = tuple(problem.where)
        while where and where not in lines:
            where = where[:-1]
        problem.line = lines.get(where) if where else (lines.get(()) if problem.where == () else None)


def check_scenario(data: Any, path: str = "<memory>", text: str | None = None) -> tuple[Scenario | None, list[Problem]]:
    """Every problem with a scenario (errors and warnings), and the scenario if there are no errors."""
    if not isinstance(data, dict):
        return None, [
            Problem(
                (),
                "the file must be a YAML mapping (key: value pairs) at the top level",
                "start with `id: ...`",
                line=1,
            )
        ]
    parser = _Parser(data)
    try:
        scenario = parser.parse(path)
    except Exception as exc:  # a shape the checks above did not foresee: report it, never crash the validator
        parser.error((), f"could not be read ({type(exc).__name__}: {exc})", "compare with `rapport scenario new`")
        scenario = None
    if text is not None:
        _locate(parser.problems, _line_map(text))
    errors = [p for p in parser.problems if p.severity == "error"]
    return (None if errors else scenario), parser.problems


def parse_scenario(data: Any, path: str = "<memory>") -> Scenario:
    """Build a Scenario from parsed YAML, raising ScenarioError with every error found."""
    scenario, problems = check_scenario(data, path)
    errors = [p for p in problems if p.severity == "error"]
    if scenario is None or errors:
        raise ScenarioError(path, errors)
    return scenario


def validate_file(path: str | Path) -> tuple[Scenario | None, list[Problem]]:
    """What `rapport scenario validate` reports: YAML errors, errors and warnings, each with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem((), f"cannot read the file ({exc})", "check the path and save it as UTF-8")]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [
            Problem((), f"not valid YAML: {reason}", "check indentation, colons and quotes on this line", line=line)
        ]
    return check_scenario(data, str(path), text)


def load_scenario(path: str | Path) -> Scenario:
    """Load one scenario file; YAML syntax errors come back as ScenarioError too."""
    scenario, problems = validate_file(path)
    errors = [p for p in problems if p.severity == "error"]
    if scenario is None or errors:
        raise ScenarioError(str(path), errors)
    return scenario


def scenario_dirs() -> list[Path]:
    """Built-in scenarios plus any folders listed in RAPPORT_SCENARIO_DIRS (os.pathsep-separated)."""
    extra = [Path(p) for p in os.environ.get("RAPPORT_SCENARIO_DIRS", "").split(os.pathsep) if p]
    return [BUILTIN_DIR, *extra]


@lru_cache(maxsize=4)
def _library(dirs: tuple[Path, ...]) -> dict[str, Scenario]:
    found: dict[str, Scenario] = {}
    for folder in dirs:
        for path in sorted(folder.glob("*.yml")):
            try:
                scenario = load_scenario(path)
            except ScenarioError as exc:  # one broken educator file must not take the others down
                log.error("Skipping scenario %s: %s (run `rapport scenario validate %s`)", path, exc, path)
                continue
            if scenario.id in found:
                log.warning("Scenario id %r in %s replaces the one in %s", scenario.id, path, found[scenario.id].path)
            found[scenario.id] = scenario
    return found


def library() -> dict[str, Scenario]:
    """Every scenario by id, loaded once per process."""
    return _library(tuple(scenario_dirs()))


def get_scenario(scenario_id: str) -> Scenario | None:
    return library().get(scenario_id)
