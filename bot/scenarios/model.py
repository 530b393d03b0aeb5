"""Scenario files: loading, checking and the typed view the engine works on.

Scenarios are data so that educators can write them without touching code or retraining Rasa. Every
problem found while loading is collected and reported together, each with a plain-English fix.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

BUILTIN_DIR = Path(__file__).parent / "data"
THEMES = ("difficult-news", "rescuer-trap", "ambivalence", "shared-decision", "rupture-repair", "attachment")
EVENTS = ("news_given", "news_with_warning", "news_without_warning", "unanswered_emotion")
CUES = ("jargon", "emotion_word", "hedge", "you_statement", "i_statement", "bad_news")
CONDITION_KEYS = ("acts_any", "acts_none", "cues_any", "events_any", "flags", "state")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ScenarioError(ValueError):
    """A scenario file that cannot be used; ``problems`` lists every issue found."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


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
    flags: tuple[tuple[str, bool], ...] = ()
    state: tuple[tuple[str, float | None, float | None], ...] = ()


@dataclass(frozen=True)
class Pool:
    id: str
    when: Condition
    lines: tuple[str, ...]
    emotional: bool = False


@dataclass(frozen=True)
class Concern:
    id: str
    summary: str
    reveal_when: Condition
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Difficulty:
    effect_scale: float = 1.0
    threshold_shift: float = 0.0


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
    ending: Pool | None
    debrief: dict[str, Any] = field(default_factory=dict)
    path: str = ""

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
        }


def _condition(raw: Any, where: str, problems: list[str], variables: dict[str, Variable]) -> Condition:
    if raw is None:
        return Condition()
    if not isinstance(raw, dict):
        problems.append(f"{where}: a condition must be a mapping such as {{acts_any: [nurse_name]}}")
        return Condition()
    for key in raw:
        if key not in CONDITION_KEYS:
            problems.append(f"{where}: unknown condition '{key}'; use one of {', '.join(CONDITION_KEYS)}")
    state = []
    for name, bounds in (raw.get("state") or {}).items():
        if name not in variables:
            problems.append(f"{where}: state variable '{name}' is not declared under `state:`")
            continue
        bounds = bounds or {}
        state.append((name, _num(bounds.get("min")), _num(bounds.get("max"))))
    events = frozenset(raw.get("events_any") or ())
    for event in events - set(EVENTS):
        problems.append(f"{where}: unknown event '{event}'; use one of {', '.join(EVENTS)}")
    return Condition(
        acts_any=frozenset(raw.get("acts_any") or ()),
        acts_none=frozenset(raw.get("acts_none") or ()),
        cues_any=frozenset(raw.get("cues_any") or ()),
        events_any=events,
        flags=tuple((str(k), bool(v)) for k, v in (raw.get("flags") or {}).items()),
        state=tuple(state),
    )


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _lines(raw: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    lines = tuple(str(x).strip() for x in (raw or []) if str(x).strip())
    if not lines:
        problems.append(f"{where}: needs at least one line for the patient to say")
    return lines


def parse_scenario(data: Any, path: str = "<memory>") -> Scenario:
    """Build a Scenario from parsed YAML, raising ScenarioError with every problem found."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ScenarioError(path, ["the file must be a YAML mapping (key: value pairs) at the top level"])
    for key in ("id", "title", "theme", "setting", "patient", "state", "opening", "replies"):
        if key not in data:
            problems.append(f"missing required key '{key}'")
    sid = str(data.get("id", ""))
    if sid and not _ID.match(sid):
        problems.append(f"id '{sid}' must be lower-case letters, digits and hyphens")
    theme = data.get("theme")
    if theme is not None and theme not in THEMES:
        problems.append(f"theme '{theme}' is not one of {', '.join(THEMES)}")
    variables: dict[str, Variable] = {}
    for name, spec in (data.get("state") or {}).items():
        spec = spec or {}
        low, high = float(spec.get("min", 0.0)), float(spec.get("max", 1.0))
        initial = float(spec.get("initial", low))
        if not low <= initial <= high:
            problems.append(f"state.{name}: initial {initial} is outside [{low}, {high}]")
        variables[name] = Variable(name, initial, low, high, spec.get("good"), str(spec.get("description", "")))
    effects: dict[str, dict[str, float]] = {}
    for key, deltas in (data.get("effects") or {}).items():
        effects[str(key)] = {}
        for var, delta in (deltas or {}).items():
            if var not in variables:
                problems.append(f"effects.{key}: state variable '{var}' is not declared under `state:`")
            else:
                effects[str(key)][var] = float(delta)
    concerns = tuple(
        Concern(
            id=str(c.get("id")),
            summary=str(c.get("summary", "")),
            reveal_when=_condition(c.get("reveal_when"), f"concerns[{i}].reveal_when", problems, variables),
            lines=_lines(c.get("lines"), f"concerns[{i}]", problems),
        )
        for i, c in enumerate(data.get("concerns") or [])
    )
    replies = tuple(
        Pool(
            id=str(r.get("id", f"reply-{i}")),
            when=_condition(r.get("when"), f"replies[{i}].when", problems, variables),
            lines=_lines(r.get("lines"), f"replies[{i}]", problems),
            emotional=bool(r.get("emotional", False)),
        )
        for i, r in enumerate(data.get("replies") or [])
    )
    opening_raw = data.get("opening") or {}
    opening = Pool(
        "opening",
        Condition(),
        _lines(opening_raw.get("lines"), "opening", problems),
        bool(opening_raw.get("emotional", False)),
    )
    ending = None
    if data.get("ending"):
        ending = Pool(
            "ending",
            _condition(data["ending"].get("when"), "ending.when", problems, variables),
            _lines(data["ending"].get("lines"), "ending", problems),
        )
    difficulties = {
        str(name): Difficulty(float((d or {}).get("effect_scale", 1.0)), float((d or {}).get("threshold_shift", 0.0)))
        for name, d in (data.get("difficulties") or {"standard": {}}).items()
    }
    if problems:
        raise ScenarioError(path, problems)
    return Scenario(
        id=sid,
        version=int(data.get("version", 1)),
        title=str(data["title"]),
        theme=str(theme),
        summary=str(data.get("summary", "")),
        setting=str(data["setting"]).strip(),
        patient=dict(data["patient"]),
        learning_goals=tuple(str(g) for g in data.get("learning_goals") or ()),
        difficulties=difficulties,
        variables=variables,
        news_keywords=tuple(str(k).lower() for k in (data.get("news") or {}).get("keywords", ())),
        jargon=tuple(str(j).lower() for j in data.get("jargon") or ()),
        effects=effects,
        concerns=concerns,
        opening=opening,
        replies=replies,
        ending=ending,
        debrief=dict(data.get("debrief") or {}),
        path=path,
    )


def load_scenario(path: str | Path) -> Scenario:
    """Load one scenario file; YAML syntax errors come back as ScenarioError too."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(str(path), [f"not valid YAML: {exc}"]) from exc
    return parse_scenario(data, str(path))


def scenario_dirs() -> list[Path]:
    """Built-in scenarios plus any folders listed in RAPPORT_SCENARIO_DIRS (os.pathsep-separated)."""
    extra = [Path(p) for p in os.environ.get("RAPPORT_SCENARIO_DIRS", "").split(os.pathsep) if p]
    return [BUILTIN_DIR, *extra]


@lru_cache(maxsize=4)
def _library(dirs: tuple[Path, ...]) -> dict[str, Scenario]:
    found: dict[str, Scenario] = {}
    for folder in dirs:
        for path in sorted(folder.glob("*.yml")):
            scenario = load_scenario(path)
            found[scenario.id] = scenario
    return found


def library() -> dict[str, Scenario]:
    """Every scenario by id, loaded once per process."""
    return _library(tuple(scenario_dirs()))


def get_scenario(scenario_id: str) -> Scenario | None:
    return library().get(scenario_id)
