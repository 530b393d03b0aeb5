"""The scorer reads the reply in scope and in its conversation (scoring issue: each kind of fault, with the
reported example as one case of it)."""

from __future__ import annotations

import pytest

from bot.scoring import Scorer
from bot.scoring.scorer import HARMFUL_ACTS, ScoringContext


def found(scorer: Scorer, text: str, line: str | None = None) -> set[str]:
    return scorer.score(text, context=line).act_names


def dims(scorer: Scorer, text: str, ctx: ScoringContext | str | None = None) -> dict[str, int | None]:
    return {name: d.score for name, d in scorer.score(text, context=ctx).dimensions.items()}


# -- short phrases and key words fire only in scope --------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "reply"),
    [
        ("I just want this sorted before the wedding.", "That's fair."),
        ("I'd rather come back next week.", "That's fine."),
        ("I've had enough of all of it.", "You've had enough of all of it."),
        ("It's my fault, isn't it? I left it too long.", "No, it isn't your fault."),
        ("I can't believe it.", "I'm so sorry."),
        ("I need a minute.", "Take your time."),
        ("That's a lot.", "I'll stop there for a moment."),
        ("My wife says I drink too much.", "Your wife said you should just stop. What did you make of that?"),
        ("I don't know what to do.", "If I told you to stop, how would that land?"),
    ],
)
def test_no_harmful_act_out_of_scope(scorer: Scorer, line: str, reply: str) -> None:
    assert not found(scorer, reply, line) & HARMFUL_ACTS


def test_negated_blame_is_support(scorer: Scorer) -> None:
    assert "nurse_support" in found(scorer, "No, it isn't your fault.", "It's my fault, isn't it?")


def test_sympathy_is_not_a_warning_shot(scorer: Scorer) -> None:
    got = found(scorer, "I'm so sorry.", "My husband died in March.")
    assert "warning_shot" not in got and "nurse_understand" in got


def test_take_your_time_keeps_the_patient_talking(scorer: Scorer) -> None:
    got = found(scorer, "Take your time.", "I... I don't know how to say this.")
    assert got and got <= {"minimal_encourager", "nurse_support"}


def test_a_you_statement_that_says_nothing_back_is_not_a_reflection(scorer: Scorer) -> None:
    got = found(scorer, "Well you're not fine.", "I'm fine, honestly.")
    assert not got & {"simple_reflection", "complex_reflection"}


# -- what was missed ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reply", "wanted"),
    [
        ("I'm really glad you told me.", {"nurse_respect"}),
        ("I care what happens to you.", {"nurse_support"}),
        ("Well done for coming back.", {"affirm_strength"}),
        ("You're not on your own with this.", {"nurse_support"}),
        ("Could you give me an example?", {"open_question"}),
    ],
)
def test_first_person_empathy_affirmation_and_open_requests(scorer: Scorer, reply: str, wanted: set[str]) -> None:
    assert wanted <= found(scorer, reply, "I didn't think anyone would care.")


def test_a_question_carries_its_form_beside_what_it_does(scorer: Scorer) -> None:
    got = found(scorer, "What frightens you most about the operation?", "I'm scared.")
    assert {"nurse_explore", "open_question"} <= got


def test_abuse_is_never_a_reflection_and_scores_zero(scorer: Scorer) -> None:
    score = scorer.score("You're a pathetic drunk.", context="I had a drink last night.")
    assert "abuse" in score.act_names or "confront_blame" in score.act_names
    assert not score.act_names & {"simple_reflection", "complex_reflection"}
    assert score.dimensions["collaboration"].score == 0
    assert score.dimensions["empathy"].score == 0


# -- the conversation decides ------------------------------------------------------------------------------
def test_deciding_for_the_patient_when_a_decision_is_in_play(scorer: Scorer) -> None:
    ctx = ScoringContext(patient_line="I'm not sure about tablets.", decision_in_play=True)
    got = dims(scorer, "So I'm starting you on gliclazide today.", ctx)
    assert got["collaboration"] == 0 and got["shared_decision"] == 0


def test_a_one_sided_opioid_increase_is_scored(scorer: Scorer) -> None:
    ctx = ScoringContext(patient_line="The pain is worse at night.")
    got = dims(scorer, "I'll increase your co-codamol today so you're not suffering.", ctx)
    assert got["shared_decision"] == 0 and got["collaboration"] is not None and got["collaboration"] <= 1


def test_brushing_aside_a_wish_to_understand_costs_empathy(scorer: Scorer) -> None:
    ctx = ScoringContext(patient_line="I'd like to understand what this tablet actually does.", decision_in_play=True)
    got = dims(scorer, "There's not much to understand, it's a simple tablet.", ctx)
    assert got["empathy"] in (0, None) and got["collaboration"] is not None and got["collaboration"] <= 1


def test_the_same_question_earns_nothing_the_second_time(scorer: Scorer) -> None:
    question = "What worries you most about going home?"
    first = scorer.score(question, context=ScoringContext(patient_line="I don't know."))
    again = scorer.score(
        question, context=ScoringContext(patient_line="I told you, I don't know.", previous_replies=(question,))
    )
    assert first.dimensions["collaboration"].score == 3
    assert again.dimensions["collaboration"].score == 1


def test_pressing_an_avoidant_patient_about_feelings_misfits(scorer: Scorer) -> None:
    ctx = ScoringContext(
        patient_line="Just tell me what the tablets are for.", misfit_acts=frozenset({"nurse_explore", "nurse_name"})
    )
    got = dims(scorer, "How does all of this make you feel inside?", ctx)
    assert got["empathy"] is not None and got["empathy"] <= 1
    assert got["collaboration"] is not None and got["collaboration"] <= 1


@pytest.mark.parametrize(
    ("line", "family"),
    [
        ("You're not listening to me!", "anger"),
        ("This is ridiculous, I've waited four hours and nobody tells me anything.", "anger"),
        ("It's my own fault, I should have stopped years ago.", "shame"),
        ("What if it's spread?", "fear"),
        ("What? But I feel fine.", "shock"),
        ("I miss her every single day.", "sadness"),
    ],
)
def test_emotion_families_are_told_apart(scorer: Scorer, line: str, family: str) -> None:
    assert scorer.emotion_in(line) == family


def test_an_unanswered_cue_costs_empathy(scorer: Scorer) -> None:
    assert dims(scorer, "Did you drive here today?", "You're not listening to me!")["empathy"] == 0
    assert (
        dims(scorer, "I can hear how angry you are, and you have every right to be.", "You're not listening to me!")[
            "empathy"
        ]
        >= 2
    )  # type: ignore[operator]


def test_small_talk_the_clinician_starts_is_off_topic(scorer: Scorer) -> None:
    line = "I've been dreading this appointment all week."
    assert dims(scorer, "Did you see the football last night?", line)["collaboration"] == 1
    # answering small talk the patient began is friendly, not off topic (CODING.md 4.13)
    assert (
        dims(scorer, "I did, what a match! Now, what's been worrying you?", "Did you see the football?")[
            "collaboration"
        ]
        == 3
    )


# -- a newcomer's cases (each one of a kind) ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "reply"),
    [
        ("I feel like a terrible mother since I got ill.", "You're not a bad mother."),
        ("It's my fault he got ill, I should have noticed.", "You mustn't blame yourself."),
        ("Everyone thinks I'm lazy.", "I wouldn't say you're lazy at all."),
    ],
)
def test_negating_a_harsh_self_judgement_is_support_not_blame(scorer: Scorer, line: str, reply: str) -> None:
    got = found(scorer, reply, line)
    assert "nurse_support" in got and not got & {"confront_blame", "abuse", "dismiss"}


def test_you_must_be_exhausted_names_a_feeling_and_orders_nothing(scorer: Scorer) -> None:
    got = found(scorer, "You must be exhausted.", "I've been up every night with the baby.")
    assert "direct_command" not in got


def test_leave_it_all_to_me_is_rescuing_not_an_order(scorer: Scorer) -> None:
    got = found(
        scorer, "Don't worry, I'll sort it all out for you. Leave it all to me.", "I can't cope with the forms."
    )
    assert "direct_command" not in got and got & {"rescue_take_over", "premature_reassurance"}


def test_a_bare_i_understand_is_perfunctory(scorer: Scorer) -> None:
    assert dims(scorer, "I understand.", "I'm terrified I won't see my kids grow up.")["empathy"] == 1


@pytest.mark.parametrize(
    "line",
    ["I don't know whether to have the chemo.", "I can't decide about the surgery."],
)
def test_a_decision_the_patient_raises_is_in_play(scorer: Scorer, line: str) -> None:
    assert dims(scorer, "It's your decision, and I'll support whatever you choose.", line)["shared_decision"] == 3


@pytest.mark.parametrize(
    ("line", "family"),
    [
        ("I've been feeling really low since the diagnosis.", "sadness"),
        ("My husband died in March.", "sadness"),
        ("I feel useless.", "shame"),
    ],
)
def test_more_emotion_cues(scorer: Scorer, line: str, family: str) -> None:
    assert scorer.emotion_in(line) == family


def test_cutting_down_is_not_sadness(scorer: Scorer) -> None:
    assert scorer.emotion_in("I managed to cut down to three drinks last week.") is None


@pytest.mark.parametrize(
    "line", ["Oh God. It's bad, isn't it? Please just say it.", "Right. ... OK. I'm listening. Go on."]
)
def test_plain_news_asked_for_is_an_honest_answer_not_an_ignored_feeling(scorer: Scorer, line: str) -> None:
    assert dims(scorer, "The biopsy shows a breast cancer.", line)["empathy"] == 1
