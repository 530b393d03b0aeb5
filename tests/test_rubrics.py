"""Rubrics from stored turns: each instrument reads acts and patient marks the way its docs say."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot import rubrics
from bot.reports import build_report
from bot.scenarios import Scenario
from bot.scenarios.model import check_scenario
from bot.scenarios.template import render_template
from bot.scoring.taxonomy import DIMENSIONS


def _turn(index: int, acts: list[str], text: str = "", cues: list[str] | None = None) -> dict[str, Any]:
    dims = {d: {"score": 1, "max": 4, "applicable": True, "reason": "", "evidence": []} for d in DIMENSIONS}
    return {
        "index": index,
        "text": text or " ".join(acts),
        "score": {
            "acts": [{"act": a} for a in acts],
            "cues": [{"cue": c} for c in cues or []],
            "dimensions": dims,
            "tip": {"text": "", "alternative": ""},
        },
    }


def _trace(marks: list[list[str]], values: list[dict[str, float]] | None = None) -> list[dict[str, Any]]:
    values = values or [{} for _ in range(len(marks) + 1)]
    out = [{"turn": 0, "values": values[0], "pool": "opening", "marks": []}]
    out += [{"turn": i + 1, "values": values[i + 1], "pool": "p", "marks": m} for i, m in enumerate(marks)]
    return out


def _scenario(theme: str) -> Scenario:
    text, _ = render_template("Rubric case", theme)
    data = yaml.safe_load(text)
    data["topics"]["owning"] = ["i'm sorry", "we got that wrong"]
    scenario, problems = check_scenario(data)
    assert scenario is not None, problems
    return scenario


def _items(result: dict[str, Any]) -> dict[str, Any]:
    return {i["key"]: i for i in result["items"]}


def test_stances_tell_rescuing_from_persecuting_from_coaching() -> None:
    turns = [
        _turn(1, ["rescue_take_over"]),
        _turn(3, ["confront_blame", "open_question"]),
        _turn(5, ["open_question"]),
        _turn(7, ["affirm_strength", "open_question"]),
        _turn(9, ["give_information"]),
    ]
    result = rubrics.stances(
        _scenario("rescuer-trap"), turns, _trace([["flattery"], ["withdrawal"], [], ["agency"], []])
    )
    assert [t["stance"] for t in result["turns"]] == ["rescuer", "persecutor", "coach", "challenger", "neutral"]
    items = _items(result)
    assert items["coach"]["value"] == 2 and items["coach_share"]["value"] == 40
    assert items["rescuer"]["status"] == "poor" and items["dependency"]["value"] == 1
    assert items["agency_lines"]["value"] == 1


def test_miti_rubric_balances_change_and_sustain_talk_by_half() -> None:
    turns = [_turn(i, ["complex_reflection"]) for i in range(1, 9, 2)] + [_turn(9, ["open_question"])]
    marks = [["sustain_talk"], ["sustain_talk"], ["change_talk"], ["change_talk"], ["change_talk"]]
    items = _items(rubrics.miti(_scenario("ambivalence"), turns, _trace(marks)))
    assert items["change_talk"]["value"] == "3 / 2"
    assert items["balance"]["value"] == 60
    assert items["trend"]["value"] == "0 → 100" and items["trend"]["status"] == "good"
    assert items["r2q"]["value"] == 4.0 and items["r2q"]["status"] == "good"


def test_option5_rewards_choice_options_preferences_and_integration_in_order() -> None:
    scenario = _scenario("shared-decision")
    good = [
        _turn(1, ["team_talk"], "There is a choice to make together about your family."),
        _turn(3, ["option_talk"]),
        _turn(5, ["open_question"]),
        _turn(7, ["decision_talk"]),
        _turn(9, ["summarise"]),
    ]
    rich = _items(rubrics.option5(scenario, good, _trace([[], [], [], [], ["decision"]])))
    poor = _items(rubrics.option5(scenario, [_turn(1, ["advise_without_permission"])], _trace([[]])))
    assert rich["decision"]["value"] == 4 and rich["integration"]["value"] == 4
    assert rich["topic_family"]["status"] == "done" and poor["topic_family"]["status"] == "missed"
    assert int(rich["total"]["value"].split()[0]) >= 14
    assert poor["total"]["value"] == "0 (0)"


def test_rupture_repair_steps_count_only_after_the_rupture() -> None:
    scenario = _scenario("rupture-repair")
    turns = [
        _turn(1, ["nurse_name"]),  # before any rupture: does not count as noticing it
        _turn(3, ["give_information"]),
        _turn(5, ["nurse_name"]),
        _turn(7, ["nurse_explore"]),
        _turn(9, ["greet_introduce"], "I'm sorry, we got that wrong."),
        _turn(11, ["seek_collaboration"]),
    ]
    marks = [[], ["confrontation"], [], [], ["repair"], []]
    items = _items(rubrics.rupture(scenario, turns, _trace(marks)))
    assert items["notice"]["value"] == 5 and items["invite"]["value"] == 7
    assert items["own"]["value"] == 9 and items["reagree"]["value"] == 11
    unrepaired = _items(rubrics.rupture(scenario, turns[:3], _trace(marks[:3])))
    assert unrepaired["own"]["status"] == "missed" and unrepaired["confrontation"]["value"] == 1


def test_attachment_fit_depends_on_the_persona() -> None:
    scenario = _scenario("attachment")
    turns = [_turn(1, ["nurse_name"]), _turn(3, ["give_information"]), _turn(5, ["nurse_support"])]
    anxious = _items(rubrics.attachment(scenario.for_persona("anxious"), turns, _trace([[], [], []])))
    avoidant = _items(rubrics.attachment(scenario.for_persona("avoidant"), turns, _trace([[], [], []])))
    assert anxious["fit"]["value"] == 2 and anxious["misfit"]["value"] == 1
    assert avoidant["fit"]["value"] == 0
    assert anxious["fit_share"]["value"] > (avoidant["fit_share"]["value"] or 0)


@pytest.mark.parametrize("theme", ["difficult-news", "rescuer-trap", "ambivalence", "rupture-repair"])
def test_state_items_show_the_direction_of_travel(theme: str) -> None:
    scenario = _scenario(theme)
    values = [{"trust": 0.4, "distress": 0.5}, {"trust": 0.7, "distress": 0.6}]
    result = rubrics.RUBRICS[scenario.rubric](scenario, [_turn(1, ["open_question"])], _trace([[]], values))
    items = _items(result)
    if "state_trust" in items:
        assert items["state_trust"]["status"] == "good" and items["state_trust"]["value"] == "0.40 → 0.70"


def test_report_carries_the_rubric_ending_and_missed_concerns(news: Scenario) -> None:
    session = {"id": "s", "scenario_id": news.id, "status": "ended", "ended_by": "patient"}
    state = {
        "persona": "",
        "ending": "plan_agreed",
        "revealed": ["mum_and_ellie"],
        "values": {"trust": 0.7},
        "trace": _trace([[]], [{"trust": 0.4}, {"trust": 0.7}]),
    }
    turns = [{**_turn(1, ["nurse_name"]), "speaker": "trainee"}]
    report = build_report({**session, "patient_state": state}, turns)
    assert report["rubric"]["kind"] == "spikes" and report["rubric"]["ending"]["good"] is True
    assert report["spikes"] and report["trajectory"][-1]["values"] == {"trust": 0.7}
    missed = [c for c in report["concerns"] if not c["revealed"]]
    assert missed and f"1 of {len(report['concerns'])} hidden concerns came out." in report["outcome"]
    assert "Jo agrees the next steps" in report["outcome"] and "aims for" in report["outcome"]


def test_a_non_apology_is_not_owning_your_part() -> None:
    scenario = _scenario("rupture-repair")
    assert rubrics.owns_their_part(scenario, "I'm sorry, we got that wrong.")
    assert not rubrics.owns_their_part(scenario, "I'm sorry you feel that way, but we are very busy.")
    assert not rubrics.owns_their_part(scenario, "We're sorry-ish.")


def test_an_angry_opening_starts_the_repair_clock_at_the_first_turn() -> None:
    scenario = _scenario("rupture-repair")
    trace = _trace([[]])
    trace[0]["marks"] = ["confrontation"]
    items = _items(rubrics.rupture(scenario, [_turn(1, ["nurse_name"])], trace))
    assert items["notice"]["value"] == 1 and items["confrontation"]["value"] == 1


def test_a_topic_raised_only_to_dismiss_it_is_not_done() -> None:
    scenario = _scenario("shared-decision")
    dismissive = [_turn(1, ["confront_blame"], "Your family remedies won't help.")]
    items = _items(rubrics.option5(scenario, dismissive, _trace([[]])))
    assert items["topic_family"]["status"] == "poor"
    asked = dismissive + [_turn(3, ["open_question"], "What does your family think about it?")]
    assert _items(rubrics.option5(scenario, asked, _trace([[], []])))["topic_family"]["value"] == 3


def test_asking_permission_counts_as_seeking_collaboration_not_as_a_question() -> None:
    from bot.scoring.summary import miti_metrics

    permission = {"acts": [{"act": "seek_collaboration", "sentence": 0}, {"act": "closed_question", "sentence": 0}]}
    plain = {"acts": [{"act": "closed_question", "sentence": 0}]}
    two_sentences = {"acts": [{"act": "seek_collaboration", "sentence": 0}, {"act": "closed_question", "sentence": 1}]}
    assert miti_metrics([permission])["questions"] == 0
    assert miti_metrics([plain])["questions"] == 1
    assert miti_metrics([two_sentences])["questions"] == 1


def test_repair_steps_follow_the_engine_steps_when_a_message_was_not_scored() -> None:
    scenario = _scenario("rupture-repair")
    # Step 1 answered a message the scorer could not read (no scored turn); the patient turned angry at step 2.
    trace = _trace([[], ["confrontation"], []])
    turns = [
        {**_turn(1, ["give_information"]), "step": 2},  # answers the calm line of step 1: not defending
        {**_turn(2, ["nurse_name"]), "step": 3},  # answers the angry line of step 2: noticing the rupture
    ]
    items = _items(rubrics.rupture(scenario, turns, trace))
    assert items["notice"]["value"] == 2 and items["notice"]["turn"] == 2
    assert items["defending"]["value"] == 0
    explaining = [turns[0], {**_turn(2, ["give_information"]), "step": 3}]
    assert _items(rubrics.rupture(scenario, explaining, trace))["defending"]["value"] == 1


def test_instruments_come_from_the_declared_rubric() -> None:
    for theme in ("difficult-news", "ambivalence", "shared-decision"):
        scenario = _scenario(theme)
        listed = {i["id"]: i for i in rubrics.instruments(scenario)}
        assert next(iter(listed)) == scenario.rubric and listed[scenario.rubric]["applies"]
        assert listed["spikes"]["applies"] is (scenario.rubric == "spikes")
        assert listed["miti"]["applies"] is (scenario.rubric == "miti")
        assert all(i["why_not"] for i in listed.values() if not i["applies"])
    assert [i["applies"] for i in rubrics.instruments(None)] == [False, False]


def test_spikes_steps_credit_only_their_own_acts(news: Scenario) -> None:
    turns = [
        _turn(1, ["perception_check", "warning_shot"], "I'm afraid I must ask: what do you know so far?"),
        _turn(2, ["give_information"], "The biopsy shows a cancer.", cues=["bad_news"]),
        _turn(3, ["summarise"], "So, to sum up what we have said."),
    ]
    steps = {s["step"]: s for s in rubrics.spikes_checklist(news, turns)}
    assert steps["perception"]["status"] == "done" and steps["warning_shot"]["status"] == "missed"
    assert steps["knowledge"]["turn"] == 2
    assert steps["summary"]["turn"] == 3 and steps["strategy"]["status"] == "missed"
    assert steps["emotions"]["status"] == "missed"


def test_the_nurse_count_counts_nurse_statements_only(news: Scenario) -> None:
    turns = [
        _turn(1, ["complex_reflection"]),  # a reflection meets the emotion but is not a NURSE statement
        _turn(2, ["nurse_name", "complex_reflection"]),
        _turn(3, ["nurse_explore"]),
    ]
    items = _items(rubrics.spikes(news, turns, _trace([[], [], []])))
    assert items["nurse"]["value"] == 2
