"""The patient model: trajectories for skilled and unskilled trainees, replay, bounds, loading errors."""

from __future__ import annotations

import pytest
import yaml

from bot.scenarios import Engine, PatientState, TurnInput, load_scenario
from bot.scenarios.model import BUILTIN_DIR, Scenario, ScenarioError, parse_scenario
from bot.scoring import Scorer
from tests.transcripts import NEWS_SKILLED, NEWS_UNSKILLED


def play(scorer: Scorer, scenario: Scenario, lines: list[str], seed: int = 3, difficulty: str = "gentle"):  # type: ignore[no-untyped-def]
    engine = Engine(scenario, difficulty)
    result = engine.start(seed)
    history = [result]
    for text in lines:
        if result.state.ended:
            break
        score = scorer.score(text, extra_jargon=scenario.jargon)
        result = engine.step(result.state, TurnInput(frozenset(score.act_names), frozenset(score.cue_names), text))
        history.append(result)
    return history


SKILLED = NEWS_SKILLED
UNSKILLED = NEWS_UNSKILLED


def test_skilled_trainee_reaches_disclosure_and_a_close(scorer: Scorer, news: Scenario) -> None:
    history = play(scorer, news, SKILLED)
    final = history[-1].state
    assert "mum_and_ellie" in final.revealed
    assert final.ended
    assert final.values["trust"] > news.variables["trust"].initial
    assert any("news_with_warning" in step.events for step in history)


def test_unskilled_trainee_meets_confusion_shock_and_distrust(scorer: Scorer, news: Scenario) -> None:
    history = play(scorer, news, UNSKILLED)
    pools = [step.pool for step in history]
    final = history[-1].state
    assert "confusion_jargon" in pools
    assert any(p.startswith("distrust") for p in pools)
    assert final.revealed == []
    assert not final.ended
    assert final.values["trust"] < news.variables["trust"].initial


def test_news_without_warning_brings_shock(scorer: Scorer, news: Scenario) -> None:
    history = play(scorer, news, ["Hello, I'm Dr Khan.", "It's cancer."])
    assert "news_without_warning" in history[-1].events
    assert history[-1].pool == "shock_silence"


def test_hard_is_harder_than_gentle(scorer: Scorer, news: Scenario) -> None:
    gentle = play(scorer, news, SKILLED[:7], difficulty="gentle")[-1].state
    hard = play(scorer, news, SKILLED[:7], difficulty="hard")[-1].state
    assert gentle.values["trust"] > hard.values["trust"]


def test_a_seed_replays_a_session_exactly(scorer: Scorer, news: Scenario) -> None:
    first = [s.line for s in play(scorer, news, SKILLED, seed=11)]
    again = [s.line for s in play(scorer, news, SKILLED, seed=11)]
    other = [s.line for s in play(scorer, news, SKILLED, seed=12)]
    assert first == again
    assert first != other


def test_lines_do_not_repeat_until_the_pool_is_spent(news: Scenario) -> None:
    engine = Engine(news, "gentle")
    state = engine.start(5).state
    seen = []
    pool = next(p for p in news.replies if p.id == "default_before_news")
    for _ in range(len(pool.lines)):
        result = engine.step(state, TurnInput(frozenset({"closed_question"})))
        state = result.state
        if result.pool == pool.id:
            seen.append(result.line)
    assert len(seen) == len(set(seen))


def test_state_round_trips_through_a_dict(news: Scenario) -> None:
    state = Engine(news).start(9).state
    assert PatientState.from_dict(state.to_dict()) == state


def test_step_does_not_modify_the_given_state(news: Scenario) -> None:
    engine = Engine(news)
    state = engine.start(1).state
    before = state.to_dict()
    engine.step(state, TurnInput(frozenset({"nurse_name"})))
    assert state.to_dict() == before


# Property-based tests over every scenario and persona live in tests/test_library.py.


def test_ended_session_refuses_more_turns(news: Scenario) -> None:
    engine = Engine(news)
    state = engine.start(1).state
    state.ended = True
    with pytest.raises(ValueError, match="ended"):
        engine.step(state, TurnInput(frozenset()))


def test_loader_reports_every_problem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load((BUILTIN_DIR / "difficult-news.yml").read_text())
    data["theme"] = "gossip"
    data["effects"]["nurse_name"] = {"happiness": 0.2}
    data["replies"][0]["lines"] = []
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data, "broken.yml")
    text = " ".join(err.value.problems)
    assert "theme 'gossip'" in text and "happiness" in text and "at least one line" in text
    bad = tmp_path / "bad.yml"
    bad.write_text("id: [unclosed")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(bad)


def test_public_view_hides_the_concerns(news: Scenario) -> None:
    public = news.public()
    assert "concerns" not in public
    assert not any(c.summary in str(public) or c.lines[0] in str(public) for c in news.concerns)
    assert public["learning_goals"] and public["patient"]["name"]


def test_first_scenario_has_enough_distinct_lines(news: Scenario) -> None:
    lines = [line for pool in (*news.replies, news.opening) for line in pool.lines]
    lines += [line for c in news.concerns for line in c.lines]
    assert len(set(lines)) >= 40


def test_a_pool_can_set_a_flag_that_later_pools_test(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.scenarios.template import render_template

    text, _ = render_template("Flag memory")
    text = text.replace("  - id: guarded\n", "  - id: guarded\n    sets: [was_guarded]\n", 1).replace(
        "  - id: default ",
        '  - id: remembers\n    when: {flags: {was_guarded: true}}\n    lines:\n      - "You were short with me."\n'
        "  - id: default ",
        1,
    )
    path = tmp_path / "flags.yml"
    path.write_text(text)
    scenario = load_scenario(path)
    engine = Engine(scenario)
    state = engine.start(1).state
    state.values["trust"] = 0.1
    first = engine.step(state, TurnInput(frozenset({"closed_question"})))
    assert first.pool == "guarded" and first.state.flags["was_guarded"] is True
    first.state.values["trust"] = 0.5
    assert engine.step(first.state, TurnInput(frozenset({"closed_question"}))).pool == "remembers"


def test_mark_effects_follow_what_the_patient_said_and_concerns_carry_marks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.scenarios.template import render_template

    text, _ = render_template("Mark memory")
    text = text.replace(
        "  topic:family: {trust: 0.03}\n", "  topic:family: {trust: 0.03}\n  mark:withdrawal: {distress: 0.2}\n"
    )
    text = text.replace(
        '    summary: "What the patient has not said', '    marks: [change_talk]\n    summary: "What the', 1
    )
    path = tmp_path / "marks.yml"
    path.write_text(text)
    scenario = load_scenario(path)
    assert scenario.concerns[0].marks == ("change_talk", "disclosure")
    engine = Engine(scenario)
    state = engine.start(1).state
    state.values["trust"] = 0.1
    before = state.values["distress"]
    result = engine.step(state, TurnInput(frozenset({"closed_question"})))
    assert result.pool == "guarded" and "withdrawal" in result.marks
    assert result.state.values["distress"] == pytest.approx(before + 0.2 / engine.difficulty.effect_scale)
    assert result.state.trace[-1]["values"]["distress"] == result.state.values["distress"]


ENGLISH_THAT_LOOKS_ODD = [
    "mm",
    "ok",
    "Go on.",
    "u ok?",
    "wat do u mean",
    "I'm so sorry",
    "That's fair.",
    "Take your time.",
    "Kully, what matters most to you about the tablets?",
    "Paul, can we talk about the drinking?",
    "I no understand why you stop the tablet, you can explain me?",
]
NOT_ENGLISH = [
    "Hola, ¿cómo se siente hoy?",
    "Bonjour, comment allez-vous aujourd'hui ?",
    "Wie geht es Ihnen heute?",
    "Dzień dobry, jak się pani czuje?",
    "Ik begrijp het, dat is moeilijk voor u.",
]


def test_a_message_not_in_english_gets_an_in_role_sorry_and_moves_nothing(news: Scenario) -> None:
    from bot.scenarios.guard import foreign_language

    assert [t for t in ENGLISH_THAT_LOOKS_ODD if foreign_language(t)] == []
    assert all(foreign_language(t) for t in NOT_ENGLISH)
    engine = Engine(news, "gentle")
    start = engine.start(5)
    for text in NOT_ENGLISH:
        result = engine.step(start.state, TurnInput(frozenset({"open_question"}), frozenset(), text))
        assert result.events == ["not_english"] and result.pool == "not_understood"
        assert result.notice and "English" in result.notice
        assert result.state.values == start.state.values and not result.state.flags.get("news_given")
        assert not result.ended and result.revealed is None


def test_a_foreign_message_is_not_scored(news: Scenario) -> None:
    from bot import practice

    opening = practice.start("difficult-news", "gentle", 5)
    result = practice.take_turn("difficult-news", opening["state"], "¿Qué le han dicho hasta ahora?")
    assert result["score"] is None and result["events"] == ["not_english"] and result["notice"]
    english = practice.take_turn("difficult-news", opening["state"], "What have you been told so far?")
    assert english["score"] is not None and not english["notice"]
