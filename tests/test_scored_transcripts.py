"""The scorer on every scripted transcript of the library, played through the product's own turn path.

Skilled play is never penalised for a harmful move it did not make, unskilled play earns no empathy for
moves it did not make, and every persona's session means tell skilled from unskilled play (scoring issue).
"""

from __future__ import annotations

from statistics import mean
from typing import Any

import pytest

from bot import practice
from bot.scoring.scorer import HARMFUL_ACTS
from bot.scoring.taxonomy import EMPATHIC_ACTS
from tests.test_tips import TRANSCRIPTS


def play(scenario_id: str, persona: str | None, lines: list[str]) -> list[dict[str, Any]]:
    state = practice.start(scenario_id, None, seed=7, persona=persona)["state"]
    scores = []
    for text in lines:
        result = practice.take_turn(scenario_id, state, text)
        state = result["state"]
        if result["score"] is not None:
            scores.append(result["score"])
        if result["ended"]:
            break
    return scores


PLAYED = {
    (scenario_id, persona, skilled): play(scenario_id, persona, list(lines))
    for scenario_id, persona, skilled, _, lines in TRANSCRIPTS
}


def acts(score: dict[str, Any]) -> set[str]:
    return {a["act"] for a in score["acts"]}


@pytest.mark.parametrize(("scenario_id", "persona"), sorted({(s, p) for s, p, _ in PLAYED}, key=str))
def test_skilled_play_is_never_penalised_for_a_harm_it_did_not_do(scenario_id: str, persona: str | None) -> None:
    harmed = [sorted(acts(s) & HARMFUL_ACTS) for s in PLAYED[(scenario_id, persona, True)] if acts(s) & HARMFUL_ACTS]
    assert harmed == []


def dimension_mean(scores: list[dict[str, Any]], dim: str) -> float:
    values = [s["dimensions"][dim]["score"] for s in scores if s["dimensions"][dim]["score"] is not None]
    return mean(values) if values else 0.0


@pytest.mark.parametrize(
    ("scenario_id", "persona"), sorted({(s, p) for s, p, k in PLAYED if (s, p, False) in PLAYED}, key=str)
)
def test_session_means_separate_skilled_from_unskilled_play(scenario_id: str, persona: str | None) -> None:
    skilled, unskilled = PLAYED[(scenario_id, persona, True)], PLAYED[(scenario_id, persona, False)]
    for dim in ("empathy", "collaboration"):
        assert dimension_mean(skilled, dim) > dimension_mean(unskilled, dim), dim


def test_unskilled_play_rarely_earns_an_empathic_act() -> None:
    unskilled = [s for (_, _, skilled), scores in PLAYED.items() if not skilled for s in scores]
    empathic = [s for s in unskilled if acts(s) & EMPATHIC_ACTS]
    assert len(empathic) <= 0.1 * len(unskilled)


def test_a_question_sent_again_in_practice_earns_nothing() -> None:
    question = "What worries you most about the operation?"
    state = practice.start("difficult-news", None, seed=3)["state"]
    scores = []
    for _ in range(3):
        result = practice.take_turn("difficult-news", state, question)
        state = result["state"]
        scores.append(result["score"]["dimensions"]["collaboration"]["score"])
    assert scores[0] >= 3 and scores[1] <= 1 and scores[2] <= 1


def test_deciding_for_the_patient_in_the_shared_decision_scenario_scores_zero() -> None:
    state = practice.start("shared-decision-remedy", None, seed=3)["state"]
    result = practice.take_turn("shared-decision-remedy", state, "So I'm starting you on gliclazide today.")
    dims = result["score"]["dimensions"]
    assert dims["shared_decision"]["score"] == 0 and dims["collaboration"]["score"] == 0
