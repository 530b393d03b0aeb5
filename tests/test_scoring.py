"""The scorer: acts and cues with evidence, dimension scores, tips and session summaries."""

from __future__ import annotations

import pytest

from bot.scoring import Scorer, summarise_session
from bot.scoring.summary import miti_metrics, spikes_checklist


def acts(scorer: Scorer, text: str) -> set[str]:
    return scorer.score(text).act_names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What have you been told about the biopsy so far?", "perception_check"),
        ("I'm afraid the results are not what we hoped.", "warning_shot"),
        ("Don't worry, I'm sure it'll be fine.", "premature_reassurance"),
        ("Leave it all to me, I'll sort everything out.", "rescue_take_over"),
        ("Would it be OK if I shared what the scan showed?", "seek_collaboration"),
        ("It's your decision in the end.", "emphasise_autonomy"),
        ("Could you tell me in your own words what we've agreed?", "check_understanding"),
        ("What matters most to you when you think about these treatments?", "decision_talk"),
        ("You've been drinking more since you lost your job.", "simple_reflection"),
        ("The biopsy showed cancer cells.", "give_information"),
        ("Hello, my name is Dr Okafor, I'm one of the surgeons.", "greet_introduce"),
    ],
)
def test_detects_the_main_act(scorer: Scorer, text: str, expected: str) -> None:
    assert expected in acts(scorer, text)


def test_questions_are_open_or_closed_by_their_wording(scorer: Scorer) -> None:
    assert "open_question" in acts(scorer, "How have the evenings been since you stopped work?")
    assert "closed_question" in acts(scorer, "Did you sleep last night?")


def test_each_sentence_is_scored_on_its_own(scorer: Scorer) -> None:
    result = scorer.score("It sounds like you're frightened. What's worrying you most?")
    sentences = {a.sentence for a in result.acts}
    assert sentences == {0, 1}
    assert {"nurse_name", "nurse_explore"} <= result.act_names


def test_evidence_offsets_point_at_the_words(scorer: Scorer) -> None:
    text = "Don\u2019t worry, the carcinoma is small."
    result = scorer.score(text)
    for det in [*result.acts, *result.cues]:
        assert text[det.start : det.end].replace("\u2019", "'") == det.text
    assert any(c.name == "jargon" and c.text == "carcinoma" for c in result.cues)


def test_unanswered_emotion_costs_empathy(scorer: Scorer) -> None:
    cue = "I'm so scared. I can't stop shaking."
    ignored = scorer.score("The next appointment is on Tuesday at ten.", context=cue)
    answered = scorer.score("It sounds like you're really frightened. What's going through your mind?", context=cue)
    assert ignored.emotion == "fear"
    assert ignored.dimensions["empathy"].score == 0
    assert "unanswered" in ignored.dimensions["empathy"].reason
    assert answered.dimensions["empathy"].score is not None and answered.dimensions["empathy"].score >= 3
    assert "fear" in ignored.tip["text"] or "emotion" in ignored.tip["text"]


def test_no_emotional_cue_means_empathy_not_applicable(scorer: Scorer) -> None:
    result = scorer.score("Your next appointment is on Tuesday.", context="OK. When do I come back?")
    assert result.dimensions["empathy"].applicable is False
    assert result.dimensions["empathy"].score is None


def test_directive_moves_lose_collaboration_and_get_a_tip(scorer: Scorer) -> None:
    # Advice and warning (hedged: "should") cap collaboration at 1; a bare order caps it at 0 (CODING.md 4.5, 4.12).
    result = scorer.score("You should stop drinking. If you carry on you'll end up in hospital.")
    assert result.dimensions["collaboration"].score == 1
    assert scorer.score("I hear you. Stop drinking.").dimensions["collaboration"].score == 0
    assert any(e.effect == "-" for e in result.dimensions["collaboration"].evidence)
    assert "permission" in result.tip["text"].lower() or "righting" in result.tip["text"].lower()
    assert result.tip["alternative"]


def test_shared_decision_moves_score_high(scorer: Scorer) -> None:
    text = "There's a choice to make here and I'd like us to decide together. What matters most to you?"
    result = scorer.score(text)
    assert result.dimensions["shared_decision"].score is not None
    assert result.dimensions["shared_decision"].score >= 3


def test_scenario_jargon_is_flagged(scorer: Scorer) -> None:
    result = scorer.score("Your HER2 status is negative.", extra_jargon=["her2"])
    assert any(c.name == "jargon" for c in result.cues)


def test_same_reply_scores_the_same_every_time(scorer: Scorer) -> None:
    text = "I wonder if part of you is relieved to finally know. What's on your mind?"
    assert scorer.score(text, context="I'm numb.").to_dict() == scorer.score(text, context="I'm numb.").to_dict()


def test_nlu_intent_fills_in_only_when_nothing_was_found(scorer: Scorer) -> None:
    plain = scorer.score("the thing with the stuff", nlu_intent=("simple_reflection", 0.9))
    assert [a.source for a in plain.acts] == ["nlu"]
    # A minimal encourager is read by its own rule, and a harmful guess from Rasa is never taken.
    assert [a.source for a in scorer.score("mm", nlu_intent=("simple_reflection", 0.9)).acts] == ["rule"]
    assert not scorer.score("the thing with the stuff", nlu_intent=("confront_blame", 0.9)).acts
    found = scorer.score("What have you been told so far?", nlu_intent=("confront_blame", 0.9))
    assert "confront_blame" not in found.act_names


def test_rules_only_pipeline_works_without_a_model() -> None:
    rules = Scorer(use_model=False)
    assert "premature_reassurance" in rules.score("Don't worry about it.").act_names


def test_missing_model_gives_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FileNotFoundError, match="make train"):
        Scorer(tmp_path / "nothing-here")


def _turn(scorer: Scorer, index: int, text: str, context: str | None = None) -> dict:  # type: ignore[type-arg]
    return {"index": index, "text": text, "score": scorer.score(text, context=context).to_dict()}


def test_spikes_order_and_missing_steps(scorer: Scorer) -> None:
    good = [
        _turn(scorer, 1, "Hello, I'm Dr Shah, one of the breast surgeons."),
        _turn(scorer, 3, "What have you been told about why we did the biopsy?"),
        _turn(scorer, 5, "How much detail would you like me to go into today?"),
        _turn(scorer, 7, "I'm afraid the results are not what we hoped."),
        _turn(scorer, 9, "The biopsy shows a breast cancer."),
        _turn(scorer, 11, "It sounds like this is a real shock. What's worrying you most?", "I'm scared"),
        _turn(scorer, 13, "There are a few options, and we'll decide together."),
        _turn(scorer, 15, "Let me summarise what we've agreed so far."),
    ]
    status = {s["step"]: s["status"] for s in spikes_checklist([(t["index"], t["score"]) for t in good])}
    assert all(v == "done" for v in status.values()), status
    blunt = [
        _turn(scorer, 1, "The biopsy shows a breast cancer."),
        _turn(scorer, 3, "What have you been told about the biopsy?"),
    ]
    status = {s["step"]: s["status"] for s in spikes_checklist([(t["index"], t["score"]) for t in blunt])}
    assert status["warning_shot"] == "missed"
    assert status["perception"] == "out_of_order"


def test_miti_metrics_and_bands(scorer: Scorer) -> None:
    scores = [
        scorer.score("You've been drinking more since the job went.").to_dict(),
        scorer.score("Part of you wants to cut down, and part of you dreads the evenings without it.").to_dict(),
        scorer.score("What would you like to be different?").to_dict(),
    ]
    metrics = miti_metrics(scores)
    assert metrics["questions"] == 1
    assert metrics["simple_reflections"] + metrics["complex_reflections"] >= 2
    assert metrics["reflection_to_question"] >= 2.0
    assert metrics["bands"]["reflection_to_question"] == "good"
    assert "not norms" in metrics["note"]
    assert miti_metrics([])["reflection_to_question"] is None


def test_session_summary_picks_strongest_and_weakest(scorer: Scorer) -> None:
    turns = [
        _turn(scorer, 1, "Don't worry, you'll be fine.", "I'm terrified."),
        _turn(
            scorer,
            3,
            "It sounds like you're frightened. Tell me more about what worries you.",
            "I'm terrified.",
        ),
    ]
    summary = summarise_session(turns)
    assert summary["strongest"]["index"] == 3
    assert summary["weakest"]["index"] == 1
    assert summary["weakest"]["alternative"]
    assert summary["dimensions"]["empathy"]["mean"] is not None
