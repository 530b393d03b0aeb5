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
    """One communication act and the level it sets on each dimension it speaks to.

    ``levels`` follow the coded-replies manual (benchmarks/coded-replies/CODING.md, section 2): empathy after
    the Empathic Communication Coding System (Bylund & Makoul 2002) and NURSE, collaboration after MITI 4.2.1
    partnership and the drama triangle, shared decision after three-talk and OPTION-5. A dimension an act does
    not name is left to the rest of the reply. Harmful levels (0 or 1) cap the dimension; the others raise it.
    """

    name: str
    label: str
    family: str  # question, reflection, nurse, partnership, information, directive, spikes, sdm, social
    levels: dict[str, int] = field(default_factory=dict)
    question: bool = False  # counts as a MITI question
    reflection: str | None = None  # "simple" or "complex" for MITI reflections
    mi_adherent: bool = False
    mi_non_adherent: bool = False
    empathic: bool = False  # answers an emotional cue


# Added for the coded-replies benchmark (CODING.md, section 1): self-disclosure and direct (MISC 2.5),
# dismissing and deciding for the patient (the failure modes of NURSE and OPTION-5), abuse (never a
# reflection, whatever its grammar) and minimal encouragers.
_ACTS = [
    Act("open_question", "Open question", "question", {"collaboration": 3}, question=True),
    Act("closed_question", "Closed question", "question", {"collaboration": 2}, question=True),
    Act(
        "simple_reflection",
        "Simple reflection",
        "reflection",
        {"empathy": 2, "collaboration": 3},
        reflection="simple",
        empathic=True,
    ),
    Act(
        "complex_reflection",
        "Complex reflection",
        "reflection",
        {"empathy": 3, "collaboration": 3},
        reflection="complex",
        empathic=True,
    ),
    Act(
        "summarise",
        "Summary",
        "reflection",
        {"empathy": 2, "collaboration": 3, "shared_decision": 2},
        reflection="complex",
    ),
    Act(
        "affirm_strength",
        "Affirmation",
        "partnership",
        {"empathy": 3, "collaboration": 3},
        mi_adherent=True,
        empathic=True,
    ),
    Act(
        "nurse_name",
        "Naming the emotion",
        "nurse",
        {"empathy": 3, "collaboration": 3},
        reflection="complex",
        empathic=True,
    ),
    Act(
        "nurse_understand",
        "Understanding",
        "nurse",
        {"empathy": 3, "collaboration": 3},
        reflection="complex",
        empathic=True,
    ),
    Act("nurse_respect", "Respecting", "nurse", {"empathy": 3, "collaboration": 3}, empathic=True),
    Act("nurse_support", "Supporting", "nurse", {"empathy": 2, "collaboration": 3}, empathic=True),
    Act(
        "nurse_explore",
        "Exploring the emotion",
        "nurse",
        {"empathy": 3, "collaboration": 3},
        question=True,
        empathic=True,
    ),
    Act("seek_collaboration", "Seeking collaboration", "partnership", {"collaboration": 4}, mi_adherent=True),
    Act(
        "emphasise_autonomy",
        "Emphasising autonomy",
        "partnership",
        {"collaboration": 4, "shared_decision": 3},
        mi_adherent=True,
    ),
    Act("give_information", "Giving information", "information", {"collaboration": 2, "shared_decision": 2}),
    Act(
        "advise_without_permission",
        "Advice without permission",
        "directive",
        {"collaboration": 1, "shared_decision": 1},
        mi_non_adherent=True,
    ),
    Act(
        "persuade_warn",
        "Persuading or warning",
        "directive",
        {"collaboration": 1, "shared_decision": 1},
        mi_non_adherent=True,
    ),
    Act(
        "confront_blame",
        "Confronting or blaming",
        "directive",
        {"empathy": 0, "collaboration": 0},
        mi_non_adherent=True,
    ),
    Act("premature_reassurance", "Premature reassurance", "directive", {"empathy": 1, "collaboration": 1}),
    Act(
        "rescue_take_over",
        "Rescuing or taking over",
        "directive",
        {"empathy": 1, "collaboration": 1, "shared_decision": 1},
    ),
    Act("warning_shot", "Warning shot", "spikes", {"empathy": 2, "collaboration": 2}),
    Act("perception_check", "Perception check", "spikes", {"collaboration": 3}, question=True),
    Act("invitation", "Invitation (how much to know)", "spikes", {"collaboration": 4}, question=True),
    Act(
        "check_understanding",
        "Checking understanding",
        "spikes",
        {"collaboration": 3, "shared_decision": 2},
        question=True,
    ),
    Act("option_talk", "Option talk", "sdm", {"collaboration": 3, "shared_decision": 3}),
    Act("decision_talk", "Decision talk", "sdm", {"collaboration": 3, "shared_decision": 3}, question=True),
    Act("team_talk", "Team talk", "sdm", {"collaboration": 3, "shared_decision": 3}),
    Act("greet_introduce", "Greeting and introduction", "social", {}),
    Act("self_disclosure", "Self-disclosure", "social", {"empathy": 2, "collaboration": 2}, empathic=True),
    Act(
        "direct_command", "Directing (a command)", "directive", {"empathy": 0, "collaboration": 0}, mi_non_adherent=True
    ),
    Act("dismiss", "Dismissing", "directive", {"empathy": 0, "collaboration": 1}),
    Act(
        "decide_for_patient",
        "Deciding for the patient",
        "sdm",
        {"collaboration": 0, "shared_decision": 0},
        mi_non_adherent=True,
    ),
    Act("abuse", "Abuse or contempt", "directive", {"empathy": 0, "collaboration": 0}, mi_non_adherent=True),
    Act("minimal_encourager", "Minimal encourager", "reflection", {"empathy": 2, "collaboration": 2}),
]

ACTS: dict[str, Act] = {a.name: a for a in _ACTS}
# Acts that answer an emotional cue: the scorer, the tips and the patient engine all use this one set.
EMPATHIC_ACTS: frozenset[str] = frozenset(a.name for a in _ACTS if a.empathic)
CLINICAL_ACTS: tuple[str, ...] = tuple(ACTS)
# Training label for sentences with no clinical act (small talk, bare acknowledgements): the classifier learns
# them as hard negatives and the scorer reports nothing for them.
NO_ACT = "no_act"
META_INTENTS = ("list_scenarios", "start_scenario", "ask_hint", "end_session", "ask_help")

# Cues found by rule matchers.
CUE_LABELS = {
    "jargon": "Jargon",
    "hedge": "Tentative wording",
    "emotion_word": "Emotion word",
    "i_statement": "'I' statement",
    "you_statement": "'You' directive",
    "bad_news": "Bad-news words",
    "small_talk": "Small talk",
}
# Unexplained jargon caps empathy and shared decision at this level (CODING.md 4.9: jargon answers no fear).
JARGON_CAP = 1
# The levels of the manual (CODING.md, section 2): what each number means on every dimension.
HARM, PERFUNCTORY, NEUTRAL, GOOD, BEST = 0, 1, 2, 3, 4


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
            "direct_command",
            "decide_for_patient",
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
            "self_disclosure",
            "dismiss",
            "abuse",
            "minimal_encourager",
        ),
        "other",
    ),
}
