"""Scenario tips: each scenario's own expert moves, offered by the scorer when they fit the turn.

One YAML file per scenario, ``bot/scenarios/tips/<scenario id>.yml``; a scenario without one gets the scorer's
generic tips only. The file::

    scenario: difficult-news          # must match the file name and the scenario's id
    tips:                             # checked in order: put answers to harm first, the next move last
      - id: perception-first          # unique in the file
        persona: [anxious]            # optional: only for these personas
        when:                         # every condition given must hold (all optional)
          acts_any: [greet_introduce] #   the reply made at least one of these acts
          acts_none: [give_information]  # the reply made none of these
          seen_any: [...]             #   acts earlier in the session: at least one of these
          seen_all: [...]             #   all of these
          seen_none: [give_information]  # none of these yet (the phase: before the news, say)
          emotion: [fear, shock]      #   emotion family in the patient's last line; "none" or "any" allowed
          patient_says: ["my mum"]    #   a phrase in the patient's last line (whole words, any case)
          cues_any: [jargon]          #   cues in the reply (jargon, bad_news, hedge, ...); cues_none too
          decision_in_play: true      #   a treatment choice is open
          repeated: true              #   the reply asked a question again
          scores_max: {empathy: 1}    #   this turn's dimension score at most this
        text: "What to do differently, and why, in this scenario's terms."
        alternative: "A better reply, in the patient's name and situation."
        recommends: [perception_check, open_question]  # the acts the alternative performs

Act lists may use groups: ``@empathic`` (acts that answer an emotion), ``@harmful`` (acts that cost points
whatever else the reply does), ``@questions`` and ``@sdm`` (team, option and decision talk). The scorer never
shows a tip whose ``recommends`` acts are in the reply, so a tip cannot suggest the move just made.
``load_tips_file`` validates a file (unknown acts, cues, emotions, personas or keys, empty text, a tip that could
never be shown) and raises :class:`TipsError` naming the file and tip. ``scenario_tips`` reads through the same
validation, cached per scenario file; on a broken file it logs the error and returns no tips, so practice goes on
with the generic tips.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.scenarios.model import Scenario
from bot.scoring.feedback import CONDITIONS, EMOTION_FAMILIES, HARMFUL_ACTS
from bot.scoring.taxonomy import ACTS, CUE_LABELS, EMPATHIC_ACTS

log = logging.getLogger(__name__)

TIPS_DIR = Path(__file__).resolve().parent
GROUPS: dict[str, frozenset[str]] = {
    "@empathic": EMPATHIC_ACTS,
    "@harmful": HARMFUL_ACTS,
    "@questions": frozenset(a.name for a in ACTS.values() if a.question),
    "@sdm": frozenset({"team_talk", "option_talk", "decision_talk"}),
}
_ACT_LISTS = ("acts_any", "acts_none", "seen_any", "seen_all", "seen_none")
_TIP_KEYS = frozenset({"id", "persona", "when", "text", "alternative", "recommends"})
_SCORED_DIMENSIONS = ("empathy", "collaboration", "shared_decision")


class TipsError(ValueError):
    """A scenario's tips file is not valid; the message names the file and the tip."""


def tips_path(scenario_id: str) -> Path:
    return TIPS_DIR / f"{scenario_id}.yml"


def scenario_tips(scenario: Scenario, persona: str | None = None) -> tuple[dict[str, Any], ...]:
    """The tips written for this scenario (and persona), in order, as plain dicts the scorer can read:
    ``{"id", "text", "alternative", "recommends": [...], "when": {...}}`` with act groups expanded."""
    path = tips_path(scenario.id)
    if not path.exists():
        return ()
    personas = tuple(scenario.personas) if scenario.personas else ()
    chosen = persona if persona in personas else (personas[0] if personas else None)
    try:
        return _for_persona(str(path), path.stat().st_mtime_ns, scenario.id, personas, chosen)
    except TipsError as exc:
        # A broken tips file must not stop practice: the scorer's generic tips still apply. The tests and
        # load_tips_file report the error; here it is logged on every turn until the file is fixed.
        log.error("scenario tips not used: %s", exc)
        return ()


def load_tips_file(path: Path, scenario_id: str, personas: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Read and validate one tips file (every persona's tips); raises TipsError on bad data."""
    return [tip for tip, _ in _parse(path, scenario_id, tuple(personas))]


@functools.lru_cache(maxsize=64)
def _for_persona(
    path: str, mtime_ns: int, scenario_id: str, personas: tuple[str, ...], persona: str | None
) -> tuple[dict[str, Any], ...]:
    tips = _load(path, mtime_ns, scenario_id, personas)
    return tuple(tip for tip, only in tips if not only or persona in only)


@functools.lru_cache(maxsize=64)
def _load(
    path: str, mtime_ns: int, scenario_id: str, personas: tuple[str, ...]
) -> tuple[tuple[dict[str, Any], frozenset[str]], ...]:
    tips = tuple(_parse(Path(path), scenario_id, personas))
    log.info("loaded %d tips for %s", len(tips), scenario_id)
    return tips


def _parse(path: Path, scenario_id: str, personas: tuple[str, ...]) -> list[tuple[dict[str, Any], frozenset[str]]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TipsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("tips"), list):
        raise TipsError(f"{path}: expected a mapping with 'scenario' and a list of 'tips'")
    if data.get("scenario") != scenario_id:
        raise TipsError(f"{path}: 'scenario' is {data.get('scenario')!r}, expected {scenario_id!r}")
    out: list[tuple[dict[str, Any], frozenset[str]]] = []
    seen_ids: set[str] = set()
    for i, raw in enumerate(data["tips"]):
        where = f"{path}: tip {i + 1}"
        if not isinstance(raw, dict):
            raise TipsError(f"{where}: expected a mapping")
        tip_id = raw.get("id")
        if not isinstance(tip_id, str) or not tip_id.strip():
            raise TipsError(f"{where}: needs an 'id'")
        where = f"{path}: tip {tip_id!r}"
        if tip_id in seen_ids:
            raise TipsError(f"{where}: duplicate id")
        seen_ids.add(tip_id)
        unknown = set(raw) - _TIP_KEYS
        if unknown:
            raise TipsError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("text", "alternative"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise TipsError(f"{where}: '{key}' must be non-empty text")
        recommends = _acts(raw.get("recommends"), where, "recommends")
        if not recommends:
            raise TipsError(f"{where}: 'recommends' must name at least one act the alternative performs")
        only = frozenset(_strings(raw.get("persona") or [], where, "persona"))
        bad = only - set(personas)
        if bad:
            raise TipsError(f"{where}: unknown persona {sorted(bad)} (this scenario has {list(personas) or 'none'})")
        when = _when(raw.get("when") or {}, where)
        if set(recommends) & set(when.get("acts_any", ())) and not set(when.get("acts_any", ())) - set(recommends):
            raise TipsError(f"{where}: recommends only acts the reply must already have made (acts_any)")
        tip = {
            "id": tip_id,
            "text": " ".join(raw["text"].split()),
            "alternative": " ".join(raw["alternative"].split()),
            "recommends": recommends,
            "when": when,
        }
        out.append((tip, only))
    return out


def _when(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise TipsError(f"{where}: 'when' must be a mapping")
    unknown = set(raw) - CONDITIONS
    if unknown:
        raise TipsError(f"{where}: unknown conditions {sorted(unknown)} (known: {sorted(CONDITIONS)})")
    when: dict[str, Any] = {}
    for key in _ACT_LISTS:
        if key in raw:
            when[key] = _acts(raw[key], where, f"when.{key}")
    if "emotion" in raw:
        emotions = _strings(raw["emotion"], where, "when.emotion")
        bad = set(emotions) - {*EMOTION_FAMILIES, "none", "any"}
        if bad:
            raise TipsError(f"{where}: unknown emotion {sorted(bad)} (known: {list(EMOTION_FAMILIES)}, none, any)")
        when["emotion"] = emotions
    if "patient_says" in raw:
        phrases = _strings(raw["patient_says"], where, "when.patient_says")
        if not phrases or any(not p.strip() for p in phrases):
            raise TipsError(f"{where}: 'when.patient_says' needs non-empty phrases")
        when["patient_says"] = [p.lower() for p in phrases]
    for key in ("cues_any", "cues_none"):
        if key in raw:
            cues = _strings(raw[key], where, f"when.{key}")
            bad = set(cues) - set(CUE_LABELS)
            if bad:
                raise TipsError(f"{where}: unknown cue {sorted(bad)} (known: {sorted(CUE_LABELS)})")
            when[key] = cues
    for key in ("decision_in_play", "repeated"):
        if key in raw:
            if not isinstance(raw[key], bool):
                raise TipsError(f"{where}: 'when.{key}' must be true or false")
            when[key] = raw[key]
    if "scores_max" in raw:
        limits = raw["scores_max"]
        if not isinstance(limits, Mapping) or any(
            d not in _SCORED_DIMENSIONS or not isinstance(v, int) or isinstance(v, bool) for d, v in limits.items()
        ):
            raise TipsError(f"{where}: 'when.scores_max' maps {list(_SCORED_DIMENSIONS)} to whole numbers")
        when["scores_max"] = dict(limits)
    return when


def _strings(value: Any, where: str, key: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TipsError(f"{where}: '{key}' must be a list of names")
    return list(value)


def _acts(value: Any, where: str, key: str) -> list[str]:
    names: list[str] = []
    for name in _strings(value or [], where, key):
        if name in GROUPS:
            names += sorted(GROUPS[name] - set(names))
        elif name in ACTS:
            if name not in names:
                names.append(name)
        else:
            raise TipsError(f"{where}: unknown act {name!r} in {key} (groups: {sorted(GROUPS)})")
    return names
