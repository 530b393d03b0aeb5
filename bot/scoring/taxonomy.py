"""The communication acts the scorer recognises and what each one is worth.

One table keeps labels, MITI families and dimension weights together, so the scorer, the report and the
docs cannot disagree about what an act means. Weights are a design choice grounded in MITI 4.2.1, NURSE,
SPIKES and OPTION-5 (see docs/scoring.md); they are not published coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DIMENSIONS = ("empathy", "collaboration", "shared_decision")
MAX_SCORE = 4


@dataclass(frozen=True)
class Act:
    name: str
    label: str
    family: str  # question, reflection, nurse, partnership, information, directive, spikes, sdm, social
    weights: dict[str, int] = field(default_factory=dict)
    question: bool = False  # counts as a MITI question
    reflection: str | None = None  # "simple" or "complex" for MITI reflections
    mi_adherent: bool = False
    mi_non_adherent: bool = False
    empathic: bool = False  # answers an emotional cue


_ACTS = [
    Act("open_question", "Open question", "question", {"collaboration": 1}, question=True),
    Act("closed_question", "Closed question", "question", {}, question=True),
    Act(
        "simple_reflection",
        "Simple reflection",
        "reflection",
        {"empathy": 1, "collaboration": 1},
        reflection="simple",
        empathic=True,
    ),
    Act(
        "complex_reflection",
        "Complex reflection",
        "reflection",
        {"empathy": 2, "collaboration": 1},
        reflection="complex",
        empathic=True,
    ),
    Act("summarise", "Summary", "reflection", {"collaboration": 1, "shared_decision": 1}, reflection="complex"),
    Act(
        "affirm_strength",
        "Affirmation",
        "partnership",
        {"empathy": 1, "collaboration": 1},
        mi_adherent=True,
        empathic=True,
    ),
    Act("nurse_name", "Naming the emotion", "nurse", {"empathy": 2}, reflection="complex", empathic=True),
    Act("nurse_understand", "Understanding", "nurse", {"empathy": 2}, reflection="complex", empathic=True),
    Act("nurse_respect", "Respecting", "nurse", {"empathy": 1, "collaboration": 1}, empathic=True),
    Act("nurse_support", "Supporting", "nurse", {"empathy": 1, "collaboration": 1}, empathic=True),
    Act(
        "nurse_explore",
        "Exploring the emotion",
        "nurse",
        {"empathy": 2, "collaboration": 1},
        question=True,
        empathic=True,
    ),
    Act(
        "seek_collaboration",
        "Seeking collaboration",
        "partnership",
        {"collaboration": 2, "shared_decision": 1},
        mi_adherent=True,
    ),
    Act(
        "emphasise_autonomy",
        "Emphasising autonomy",
        "partnership",
        {"collaboration": 2, "shared_decision": 1},
        mi_adherent=True,
    ),
    Act("give_information", "Giving information", "information", {}),
    Act(
        "advise_without_permission",
        "Advice without permission",
        "directive",
        {"collaboration": -2, "shared_decision": -1},
        mi_non_adherent=True,
    ),
    Act(
        "persuade_warn",
        "Persuading or warning",
        "directive",
        {"collaboration": -2, "shared_decision": -1},
        mi_non_adherent=True,
    ),
    Act(
        "confront_blame",
        "Confronting or blaming",
        "directive",
        {"empathy": -2, "collaboration": -3},
        mi_non_adherent=True,
    ),
    Act("premature_reassurance", "Premature reassurance", "directive", {"empathy": -2, "collaboration": -1}),
    Act(
        "rescue_take_over",
        "Rescuing or taking over",
        "directive",
        {"collaboration": -2, "shared_decision": -2},
    ),
    Act("warning_shot", "Warning shot", "spikes", {"empathy": 1}),
    Act("perception_check", "Perception check", "spikes", {"collaboration": 1}, question=True),
    Act(
        "invitation",
        "Invitation (how much to know)",
        "spikes",
        {"collaboration": 1, "shared_decision": 1},
        question=True,
    ),
    Act(
        "check_understanding",
        "Checking understanding",
        "spikes",
        {"collaboration": 1, "shared_decision": 1},
        question=True,
    ),
    Act("option_talk", "Option talk", "sdm", {"shared_decision": 2}),
    Act("decision_talk", "Decision talk", "sdm", {"collaboration": 1, "shared_decision": 2}, question=True),
    Act("team_talk", "Team talk", "sdm", {"collaboration": 1, "shared_decision": 2}),
    Act("greet_introduce", "Greeting and introduction", "social", {}),
]

ACTS: dict[str, Act] = {a.name: a for a in _ACTS}
# Acts that answer an emotional cue: the scorer, the tips and the patient engine all use this one set.
EMPATHIC_ACTS: frozenset[str] = frozenset(a.name for a in _ACTS if a.empathic)
CLINICAL_ACTS: tuple[str, ...] = tuple(ACTS)
META_INTENTS = ("list_scenarios", "start_scenario", "ask_hint", "end_session", "ask_help")

# Cues found by rule matchers. Weights apply once per turn, like acts.
CUE_LABELS = {
    "jargon": "Jargon",
    "hedge": "Tentative wording",
    "emotion_word": "Emotion word",
    "i_statement": "'I' statement",
    "you_statement": "'You' directive",
    "bad_news": "Bad-news words",
}
CUE_WEIGHTS: dict[str, dict[str, int]] = {
    "jargon": {"empathy": -1, "shared_decision": -1},
    "you_statement": {"collaboration": -1},
}
# Base score of each dimension when it applies: collaboration starts neutral, empathy and shared decision
# must be earned.
BASE = {"empathy": 0, "collaboration": 1, "shared_decision": 0}


def label(name: str) -> str:
    """Human label of an act or cue, falling back to the name itself."""
    if name in ACTS:
        return ACTS[name].label
    return CUE_LABELS.get(name, name.replace("_", " "))


# AnnoMI's four therapist behaviours (Wu et al. 2022) for each act: how the scorer is compared with human MI
# coders (docs/scoring.md, "Mapping to AnnoMI"). Affirming, respecting, supporting, autonomy statements,
# reassurance, blame and greetings have no AnnoMI code of their own and fall under "other".
ANNOMI_BEHAVIOUR: dict[str, str] = {
    **dict.fromkeys(
        (
            "open_question",
            "closed_question",
            "nurse_explore",
            "perception_check",
            "invitation",
            "check_understanding",
            "decision_talk",
        ),
        "question",
    ),
    **dict.fromkeys(
        ("simple_reflection", "complex_reflection", "summarise", "nurse_name", "nurse_understand"), "reflection"
    ),
    **dict.fromkeys(
        (
            "give_information",
            "advise_without_permission",
            "persuade_warn",
            "option_talk",
            "team_talk",
            "warning_shot",
            "rescue_take_over",
            "seek_collaboration",
        ),
        "therapist_input",
    ),
    **dict.fromkeys(
        (
            "affirm_strength",
            "nurse_respect",
            "nurse_support",
            "emphasise_autonomy",
            "premature_reassurance",
            "confront_blame",
            "greet_introduce",
        ),
        "other",
    ),
}
