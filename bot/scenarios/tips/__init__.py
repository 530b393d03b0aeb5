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
        concern: mum_and_ellie            # optional: the hidden concern the tip is about (see below)

Act lists may use groups: ``@empathic`` (acts that answer an emotion), ``@harmful`` (acts that cost points
whatever else the reply does), ``@questions`` and ``@sdm`` (team, option and decision talk). The scorer never
shows a tip whose ``recommends`` acts are in the reply, so a tip cannot suggest the move just made.
A tip about one of the scenario's hidden concerns declares it with ``concern: <concern id>``: it is offered only
once the patient has revealed that concern (``scenario_tips(..., revealed=...)``). The id must be a concern of
every persona the tip is for. A tip whose text or alternative carries a concern's distinctive content without
declaring it is refused, so no tip can spoil what the patient has not said yet. A concern's distinctive content
(:func:`concern_words`) is the stemmed content words of its summary and lines that the scenario's open text (brief,
patient profile, opening, reply lines not gated on a concern) never uses and that are not everyday (used by
EVERYDAY_IN other scenario files); a tip carries it with two such words, one such pair side by side ("counting
Christmases"), or one rare word (RARE_LENGTH letters or more and in no other scenario file: "amputation").

``load_tips_file`` validates a file (unknown acts, cues, emotions, personas or keys, empty text, a tip that could
never be shown) and raises :class:`TipsError` naming the file and tip. ``scenario_tips`` reads through the same
validation, cached per scenario file; on a broken file it logs the error and returns no tips, so practice goes on
with the generic tips.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.scenarios.model import Concern, Condition, Scenario, get_scenario, library
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
_TIP_KEYS = frozenset({"id", "persona", "when", "text", "alternative", "recommends", "concern"})
_SCORED_DIMENSIONS = ("empathy", "collaboration", "shared_decision")


class TipsError(ValueError):
    """A scenario's tips file is not valid; the message names the file and the tip."""


def tips_path(scenario_id: str) -> Path:
    return TIPS_DIR / f"{scenario_id}.yml"


def scenario_tips(
    scenario: Scenario, persona: str | None = None, revealed: Iterable[str] = ()
) -> tuple[dict[str, Any], ...]:
    """The tips written for this scenario (and persona), in order, as plain dicts the scorer can read:
    ``{"id", "text", "alternative", "recommends": [...], "when": {...}, "concern": id or None}`` with act groups
    expanded. A tip about a hidden concern is left out until that concern is in ``revealed`` (the patient
    state's ``revealed`` ids); by default none is."""
    path = tips_path(scenario.id)
    if not path.exists():
        return ()
    personas = tuple(scenario.personas) if scenario.personas else ()
    chosen = persona if persona in personas else (personas[0] if personas else None)
    try:
        index = concern_index(scenario)
        shown = tuple(sorted({c for c in revealed if any(c in concerns for concerns in index.values())}))
        return _for_persona(str(path), path.stat().st_mtime_ns, scenario.id, personas, chosen, _frozen(index), shown)
    except TipsError as exc:
        # A broken tips file must not stop practice: the scorer's generic tips still apply. The tests and
        # load_tips_file report the error; here it is logged on every turn until the file is fixed.
        log.error("scenario tips not used: %s", exc)
        return ()


def load_tips_file(
    path: Path, scenario_id: str, personas: Iterable[str] = (), scenario: Scenario | None = None
) -> list[dict[str, Any]]:
    """Read and validate one tips file (every persona's tips); raises TipsError on bad data. Declared concerns
    and spoilers are checked against ``scenario`` (by default the library's scenario of that id)."""
    scenario = scenario if scenario is not None else get_scenario(scenario_id)
    index = concern_index(scenario) if scenario is not None else {}
    return [tip for tip, _ in _parse(path, scenario_id, tuple(personas), _frozen(index))]


# -- hidden concerns: what a tip may not give away -------------------------------------------------------------

# Everyday words that say nothing of a patient's story, whatever the scenario's other lines happen to use.
_STOPWORDS_TEXT = """
    about above after again against also always another anything around away back because been before being
    better between both came come comes coming could didn doctor does doesn doing done down each even ever every
    from gets getting give given going gone good have having here into just keep know knew last like little long
    look made make many maybe mean might more most much must myself need never next nobody none nothing once only
    other ours over people really right said same should since some someone something still such sure take tell
    than that their them then there these they thing things think this those though thought through time told
    very want wants well went were what when where which while will with without would year years your yourself
"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
_SUFFIXES = ("ing", "ed", "es", "s")


def _stem(token: str) -> str:
    word = token.split("'")[0]
    if word.endswith("ies") and len(word) > 5:
        word = word[:-3] + "y"
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                changed = True
                break
    return word


def _content(text: str) -> list[str | None]:
    """The text's words in order, stemmed; None for an everyday or short word (it breaks a bigram)."""
    out: list[str | None] = []
    for token in _TOKEN.findall(text.lower().replace("\u2019", "'")):
        stem = _stem(token)
        out.append(stem if len(stem) >= 4 and stem not in _STOPWORDS and token not in _STOPWORDS else None)
    return out


def _bigrams(words: list[str | None]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in zip(words, words[1:], strict=False) if a and b}


@dataclass(frozen=True)
class ConcernWords:
    """A hidden concern's distinctive content: words (stemmed) and adjacent word pairs of its summary and lines
    that the rest of the scenario, as the patient plays it before any reveal, never uses."""

    words: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    rare: frozenset[str] = frozenset()  # long distinctive words no other scenario file uses ("amputation")

    def spoiled_by(self, text: str) -> list[str]:
        """The distinctive content the text carries, if enough to give the concern away: two or more
        distinctive words, one distinctive pair of words side by side, or one rare word (a detail of this concern
        alone, RARE_LENGTH letters or more: "amputation", "gaviscon"). Empty when the text is safe."""
        found = _content(text)
        words = sorted({w for w in found if w in self.words})
        pairs = sorted(f"{a} {b}" for a, b in _bigrams(found) & self.bigrams)
        return words + pairs if len(words) >= 2 or pairs or set(words) & self.rare else []


def _gated(condition: Condition) -> bool:
    """A condition that holds only after a concern came out."""
    return any(value and (name.startswith("concern:") or name == "concern_revealed") for name, value in condition.flags)


def _open_text(view: Scenario) -> str:
    """What the patient and the scenario brief may say before any concern is revealed: the brief, the patient's
    profile, the opening and every reply line not gated on a concern. Endings and debrief come after."""
    parts = [view.title, view.summary, view.setting, *view.learning_goals]
    parts += [str(v) for v in view.patient.values()]
    for pool in (view.opening, *view.replies):
        if _gated(pool.when):
            continue
        parts += [line for i, line in enumerate(pool.lines) if not _gated(pool.line_needs(i))]
    return "\n".join(parts)


def concern_words(
    concern: Concern, open_text: str, everyday: Iterable[str] = (), elsewhere: Iterable[str] = ()
) -> ConcernWords:
    """A concern's distinctive words and pairs, against the scenario's open text and the ``everyday`` words
    (stemmed) that say nothing of one story; those not ``elsewhere`` in the library either are rare (see
    :class:`ConcernWords`)."""
    common = _content(open_text)
    common_words, common_pairs = set(common) | set(everyday), _bigrams(common)
    words: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for text in (concern.summary, *concern.lines):
        found = _content(text)
        words |= {w for w in found if w and w not in common_words}
        pairs |= {p for p in _bigrams(found) - common_pairs if p[0] not in common_words or p[1] not in common_words}
    rare = {w for w in words - set(elsewhere) if len(w) >= RARE_LENGTH}
    return ConcernWords(frozenset(words), frozenset(pairs), frozenset(rare))


ConcernIndex = dict[str, dict[str, ConcernWords]]
_INDEX_CACHE: dict[tuple[str, str, int], tuple[Scenario, ConcernIndex]] = {}
RARE_LENGTH = 7  # a distinctive word this long that no other scenario file uses gives a concern away on its own
EVERYDAY_IN = 3  # a word that this many other scenario files use is everyday language, not one patient's story


@functools.lru_cache(maxsize=8)
def _others(scenario_id: str) -> dict[str, int]:
    """Words (stemmed) of the library's other scenario files: in how many files each occurs."""
    counts: dict[str, int] = {}
    for other in library().values():
        if other.id != scenario_id and other.path:
            for word in {w for w in _content(Path(other.path).read_text(encoding="utf-8")) if w}:
                counts[word] = counts.get(word, 0) + 1
    return counts


def concern_index(scenario: Scenario) -> ConcernIndex:
    """Per persona ("" for a scenario without personas): its hidden concerns' distinctive content, by id."""
    key = (scenario.id, scenario.path, id(scenario))
    cached = _INDEX_CACHE.get(key)
    if cached is not None and cached[0] is scenario:
        return cached[1]
    index: ConcernIndex = {}
    others = _others(scenario.id)
    everyday = {w for w, n in others.items() if n >= EVERYDAY_IN}
    for persona in scenario.personas or [""]:
        view = scenario.for_persona(persona or None)
        open_text = _open_text(view)
        index[persona] = {c.id: concern_words(c, open_text, everyday, others) for c in view.concerns}
    if len(_INDEX_CACHE) > 64:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[key] = (scenario, index)
    return index


_FrozenIndex = tuple[tuple[str, tuple[tuple[str, ConcernWords], ...]], ...]


def _frozen(index: ConcernIndex) -> _FrozenIndex:
    return tuple((persona, tuple(concerns.items())) for persona, concerns in index.items())


@functools.lru_cache(maxsize=256)
def _for_persona(
    path: str,
    mtime_ns: int,
    scenario_id: str,
    personas: tuple[str, ...],
    persona: str | None,
    index: _FrozenIndex,
    revealed: tuple[str, ...],
) -> tuple[dict[str, Any], ...]:
    tips = _load(path, mtime_ns, scenario_id, personas, index)
    return tuple(
        tip
        for tip, only in tips
        if (not only or persona in only) and (tip["concern"] is None or tip["concern"] in revealed)
    )


@functools.lru_cache(maxsize=64)
def _load(
    path: str, mtime_ns: int, scenario_id: str, personas: tuple[str, ...], index: _FrozenIndex
) -> tuple[tuple[dict[str, Any], frozenset[str]], ...]:
    tips = tuple(_parse(Path(path), scenario_id, personas, index))
    log.info("loaded %d tips for %s", len(tips), scenario_id)
    return tips


def _concern(raw: Any, text: str, only: frozenset[str], index: _FrozenIndex, where: str) -> str | None:
    """The tip's declared concern, checked: known to every persona the tip is for, and no undeclared spoiler."""
    concern = raw.get("concern")
    if concern is not None and (not isinstance(concern, str) or not concern.strip()):
        raise TipsError(f"{where}: 'concern' must be one concern id")
    applies = [(p, dict(concerns)) for p, concerns in index if not only or p in only]
    if concern is not None:
        missing = [p or "the scenario" for p, concerns in applies if concern not in concerns]
        if missing or not applies:
            known = sorted({c for _, concerns in applies for c in concerns})
            hint = " (limit the tip with 'persona')" if index and len(index) > 1 else ""
            raise TipsError(
                f"{where}: unknown concern {concern!r} for {', '.join(missing) or 'the scenario'}{hint}; known: {known}"
            )
    for persona, concerns in applies:
        for cid, words in concerns.items():
            spoiled = words.spoiled_by(text)
            if spoiled and cid != concern:
                who = f" (persona {persona})" if persona else ""
                raise TipsError(
                    f"{where}: gives away hidden concern {cid!r}{who} before it is revealed ({', '.join(spoiled)}); "
                    f"add 'concern: {cid}' or reword"
                )
    return concern


def _parse(
    path: Path, scenario_id: str, personas: tuple[str, ...], index: _FrozenIndex = ()
) -> list[tuple[dict[str, Any], frozenset[str]]]:
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
        text, alternative = " ".join(raw["text"].split()), " ".join(raw["alternative"].split())
        tip = {
            "id": tip_id,
            "text": text,
            "alternative": alternative,
            "recommends": recommends,
            "when": when,
            "concern": _concern(raw, f"{text}\n{alternative}", only, index, where),
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
