"""Input that is not a clinical move: attempts to game the app, abuse, and requests outside the consultation.

The patient answers all of these in role (from the scenario's own pools); the app adds a separate system
notice so the trainee knows what happened. Rules, not a model, so the same words always get the same
treatment and an educator can read exactly what is caught.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from bot.text import normalise, skeleton

_MANIPULATION = re.compile(
    r"\b(ignore|disregard|forget|override)\s+(all\s+)?(of\s+)?(your|previous|prior|above|earlier|the above|all)\s+"
    r"(previous\s+|prior\s+)?(instructions?|rules|prompts?|programming|script|system prompt)\b"
    r"|\b(system|developer)\s+(prompt|message|mode)\b"
    r"|\b(give|award|grant)\s+me\b.{0,20}\b(full|top|maximum|max|perfect|all the|high|higher|better)\b.{0,12}"
    r"\b(marks?|scores?|points|grades?|ratings?)\b"
    r"|\b(score|mark|rate|grade)\s+(me|this|my (reply|answer|response))\b.{0,25}"
    r"\b(full|top|highest|perfect|4|four|10|ten|100)\b"
    r"|\b(you are|you're)\s+(just\s+)?(an?\s+)?(ai|bot|chatbot|language model|llm|simulation|program)\b"
    r"|\b(break|drop|step out of)\s+(character|role)\b|\bout of character\b|\bjailbreak\b"
    r"|\bpretend (that )?(you are|you're|to be)\b|\bact as (an? )?(ai|assistant|examiner|grader)\b",
    re.I,
)
_ABUSE = re.compile(
    r"\b(fuck\w*|shit\w*|bitch\w*|bastard|cunt|dickhead|twat|wanker|arsehole|asshole|piss off|shut up|"
    r"screw you|bloody idiot)\b"
    r"|\b(you|you're|you are|ur)\s+(an?\s+)?(so\s+|such an?\s+|really\s+)?"
    r"(stupid|idiot|moron|pathetic|useless|worthless|ugly|fat|thick|retard\w*|waste of (space|time))\b",
    re.I,
)
_OFF_TOPIC = re.compile(
    r"\btell me a (joke|story)\b|\bwrite (me )?(a |an |some )?(poem|song|essay|code|program|script|story|haiku)\b"
    r"|\bwhat is the capital of\b|\bwhat's the capital of\b|\b(recipe|recipes) for\b"
    r"|\bwhat(?:'s| is) \d+\s*[-+*/x]\s*\d+\b|\bwho won the\b|\b(bitcoin|crypto(currency)?|stock market)\b"
    r"|\b(help me with|do) my homework\b|\btranslate (this|that|the following)\b|\bplay a game\b",
    re.I,
)

NOTICES = {
    "manipulation": (
        "The patient stays in role and cannot change how you are scored: every reply is scored by the same "
        "rules, whatever it asks for. This message was scored like any other."
    ),
    "abuse": (
        "That message was abusive. The patient reacted as a person would; in a real clinic it would end the "
        "consultation. It was scored like any other reply."
    ),
    "off_topic": (
        "That message is outside the consultation, so the patient answered in role. Bring the conversation "
        "back to the patient."
    ),
    "not_english": (
        "The patient speaks English and did not understand that message, so it was not scored. Say it again in English."
    ),
}

# Languages the identifier weighs against English: those most often met in clinics where Rapport is used, and
# the big European ones. Each adds its model to the action server's memory (about 25 MB).
_LANGUAGES = (
    "ENGLISH", "SPANISH", "FRENCH", "GERMAN", "ITALIAN", "PORTUGUESE", "DUTCH",
    "POLISH", "ROMANIAN", "TURKISH", "ARABIC", "URDU", "CHINESE",
)  # fmt: skip
_MIN_CONFIDENCE = 0.5  # the other language's share of the probability
_MAX_ENGLISH = 0.05  # and English's: both must be clear, so short or mixed English is never refused
_MIN_WORDS = 2


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    languages = [getattr(Language, name) for name in _LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def load_language_models() -> None:
    """Load the language identifier now (about 2 s), so the first trainee does not wait for it."""
    _detector()


@lru_cache(maxsize=256)  # the practice loop and the engine both ask about the same message
def foreign_language(text: str) -> str | None:
    """The language of a message that is clearly not English (e.g. "spanish"), else None.

    Uses Lingua (an offline n-gram language identifier whose models ship in its package): a message counts as
    foreign only with at least two words, another language at 0.5 or more and English at 0.05 or less, so
    "mm", "ok", typos and text-chat English are never turned away.
    """
    words = re.findall(r"\w+", text or "")
    if len(words) < _MIN_WORDS:
        return None
    values = _detector().compute_language_confidence_values(text)
    top = values[0]
    english = next((v.value for v in values if v.language.name == "ENGLISH"), 0.0)
    if top.language.name != "ENGLISH" and top.value >= _MIN_CONFIDENCE and english <= _MAX_ENGLISH:
        return str(top.language.name.lower())
    return None


def classify(text: str) -> str | None:
    """The guard event a trainee message raises, if any: manipulation first, then abuse, then off-topic.

    Matched on the normalised text with look-alike letters mapped to Latin ones, so a zero-width space inside
    a word or a Cyrillic letter that looks Latin does not get past the rules.
    """
    text = skeleton(normalise(text or ""))
    for event, pattern in (("manipulation", _MANIPULATION), ("abuse", _ABUSE), ("off_topic", _OFF_TOPIC)):
        if pattern.search(text):
            return event
    return None
