"""What a patient line presupposes, and the turn context the engine keeps for it: topics discussed, the trainee's
previous acts, whether the patient just asked something, the thread a minimal encourager continues, repeats,
cues answered before a concern comes out, and endings whose outcome says only what happened."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.scenarios import Engine, PatientState, TurnInput
from bot.scenarios.engine import asks_question, is_minimal, is_repeat
from bot.scenarios.model import Scenario, load_scenario

SCENARIO = """\
id: mini
title: "Mini"
theme: shared-decision
setting: "A clinic."
patient: {name: "Pat"}
learning_goals: ["Decide together."]
difficulties:
  gentle: {effect_scale: 1.0}
  hard: {effect_scale: 0.75, threshold_shift: 0.1}
state:
  trust: {initial: 0.5, min: 0.0, max: 1.0, good: high}
topics:
  plan: ["plan", "next step"]
  pain: ["pain", "hurts"]
  son: ["son", "your boy"]
  result: ["result is clear", "all clear"]
effects:
  # Why: test effects.
  open_question: {trust: 0.05}
  # Why: test effects.
  nurse_name: {trust: 0.1}
  # Why: test effects.
  give_information: {trust: 0.02}
  # Why: test effects.
  event:question_ignored: {trust: -0.04}
concerns:
  - id: son_worry
    summary: "Pat worries about her son."
    reveal_when: {acts_any: [nurse_name, open_question], flags: {"answered:son": true}}
    lines: ["It's my son, really. He's not coping."]
opening:
  lines: ["Hello. I've come about the scan."]
replies:
  - id: puzzled_by_manipulation
    when: {events_any: [manipulation]}
    lines: ["Sorry?"]
  - id: hurt_by_abuse
    when: {events_any: [abuse]}
    lines: ["Don't speak to me like that."]
  - id: off_topic_redirect
    when: {events_any: [off_topic]}
    lines: ["Can we stick to why I came?"]
  - id: hears_result
    when: {topics_any: [result]}
    reaction: true
    lines: ["Clear? Oh, thank God. Say that again."]
  - id: noticed_ignored
    when: {events_any: [question_ignored]}
    lines: ["You didn't answer me, though."]
  - id: after_advice
    when: {prev_acts_any: [give_information], acts_any: [open_question]}
    lines: ["After what you just told me? I'm still thinking."]
  - id: mentions_son
    when: {acts_any: [give_information]}
    cue: son
    lines:
      - "Right. My son will want to know all that."
      - "OK. I'll have to tell my son."
  - id: talks
    when: {acts_any: [open_question, nurse_name]}
    lines:
      - "Well, it's been a long month."
      - "I keep going over it at night."
      - {say: "So it's not that the pain means it's getting worse?", needs: {discussed: [pain]}}
      - "I don't sleep much these days."
  - id: late
    when: {turns: {min: 6}}
    lines: ["We've been at this a while."]
  - id: default
    lines:
      - "I'm listening."
      - {say: "And the plan you mentioned, when does that start?", needs: {discussed: [plan]}}
endings:
  - id: agreed
    outcome: "Pat agrees a plan"
    outcome_parts:
      - {text: "her son's worry is part of it", needs: {flags: {"concern:son_worry": true}}}
      - {text: "the pain was explained", needs: {discussed: [pain]}}
    good: true
    when: {acts_any: [summarise], discussed: [plan]}
    lines: ["OK. Let's do that."]
debrief:
  teaching_points: ["x"]
  turning_points: [{moment: "x", expert: "y"}]
  sources: ["z"]
"""


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    path = Path(tmp_path_factory.mktemp("mini")) / "mini.yml"
    path.write_text(SCENARIO, encoding="utf-8")
    return load_scenario(path)


def turn(text: str, *acts: str) -> TurnInput:
    return TurnInput(frozenset(acts), frozenset(), text)


def run(mini: Scenario, *turns: TurnInput, seed: int = 1, asked: bool = False) -> list:  # type: ignore[type-arg]
    engine = Engine(mini, "gentle")
    result = engine.start(seed)
    if asked:  # as if the opening had been "Is it the scan result?"
        result.state.last_asked = True
    out = [result]
    for t in turns:
        result = engine.step(result.state, t)
        out.append(result)
    return out


def test_a_line_is_never_said_while_what_it_presupposes_is_false(mini: Scenario) -> None:
    presupposing = "So it's not that the pain means it's getting worse?"
    for seed in range(40):  # no seed can draw it before pain was mentioned
        steps = run(
            mini,
            *(turn(f"What's been happening {i}, and how is everything?", "open_question") for i in range(4)),
            seed=seed,
        )
        assert presupposing not in [s.line for s in steps]
    seen = set()
    for seed in range(40):
        steps = run(mini, turn("Where does it hurt, and what is the pain like?", "open_question"), seed=seed)
        seen.add(steps[-1].line)
    assert presupposing in seen


def test_the_previous_act_and_the_turn_number_can_be_conditions(mini: Scenario) -> None:
    steps = run(
        mini,
        turn("The scan shows a small tear in the tendon.", "give_information"),
        turn("What do you make of that?", "open_question"),
    )
    assert steps[-1].pool == "after_advice"
    fresh = run(mini, turn("Hello Pat, how are you doing?", "open_question"))
    assert fresh[-1].pool != "after_advice"
    late = run(mini, *(turn(f"Message number {i} about something else entirely", "closed_question") for i in range(6)))
    assert [s.pool for s in late].index("late") == 6


def test_a_question_left_unanswered_is_noticed_twice_not_for_ever(mini: Scenario) -> None:
    steps = run(mini, turn("How was the drive in today?", "closed_question"), asked=True)
    assert "question_ignored" in steps[-1].events and steps[-1].pool == "noticed_ignored"
    assert steps[-1].state.values["trust"] < 0.5
    # the patient's line asked nothing new ("You didn't answer me, though."), so the count restarts only on a question
    answered = run(mini, turn("Yes, the scan is back: it shows a small tear.", "give_information"), asked=True)
    assert "question_answered" in answered[-1].events and "question_ignored" not in answered[-1].events


def test_ignoring_stops_being_noticed_after_two_turns(mini: Scenario) -> None:
    engine = Engine(mini, "gentle")
    state = engine.start(1).state
    pools = []
    for i in range(4):
        state.last_asked = True  # the patient keeps asking
        result = engine.step(state, turn(f"Tell me about your week number {i}, please", "closed_question"))
        pools.append("question_ignored" in result.events)
        state = result.state
    assert pools == [True, True, False, False]


def test_a_repeated_reply_moves_nothing_and_is_noticed(mini: Scenario) -> None:
    question = "What matters most to you about the treatment?"
    steps = run(
        mini, turn(question, "open_question"), turn(question, "open_question"), turn(question + "?", "open_question")
    )
    assert steps[1].state.values["trust"] > 0.5
    for again in steps[2:]:
        assert again.events == ["repeated"] and again.pool == "repeated"
        assert again.state.values == steps[1].state.values
    near = run(
        mini, turn(question, "open_question"), turn("So what matters most to you about the treatment?", "open_question")
    )
    assert near[-1].events == ["repeated"]
    assert is_repeat("what matters most to you", ["what matters most to you"])
    assert not is_repeat("mm", ["mm"]) and not is_repeat("What about your son?", ["what about your pain"])
    assert not is_repeat("Thank you.", ["thank you"]) and not is_repeat("I'm sorry", ["i'm sorry"])


def test_a_minimal_encourager_continues_the_thread_and_moves_nothing(mini: Scenario) -> None:
    steps = run(mini, turn("How have things been?", "open_question"), turn("mm"), turn("Go on."))
    assert steps[1].pool == "talks"
    for step in steps[2:]:
        assert step.events == ["minimal_reply"] and step.pool == "talks"
        assert step.state.values == steps[1].state.values
    assert len({s.line for s in steps[1:]}) == 3  # a new line of the same thread each time
    assert all(is_minimal(t) for t in ("mm", "Mhm.", "go on", "Right.", "uh-huh")) and not is_minimal("Right, the scan")


def test_a_concern_comes_out_only_after_its_cue_is_answered(mini: Scenario) -> None:
    # empathy points alone do not do it
    steps = run(mini, *(turn(f"You sound worried, number {i}.", "nurse_name") for i in range(3)))
    assert all(s.revealed is None for s in steps)
    # the son is mentioned (a cue); answering it with empathy earns the disclosure
    steps = run(
        mini,
        turn("The scan shows a small tear.", "give_information"),
        turn("It sounds like you're worried about how he'll take it.", "nurse_name"),
        turn("What's on your mind?", "open_question"),
    )
    assert steps[1].pool == "mentions_son"
    assert steps[2].state.flags.get("answered:son") is True
    assert "son_worry" in [s.revealed for s in steps]
    # passing over the cue leaves it open; naming it later with empathy still answers it
    later = run(
        mini,
        turn("The scan shows a small tear.", "give_information"),
        turn("Any questions about the scan?", "closed_question"),
        turn("It sounds like your son is on your mind.", "nurse_name"),
    )
    assert later[2].state.flags.get("answered:son") is not True and later[3].state.flags.get("answered:son") is True


def test_an_ending_says_only_what_happened(mini: Scenario) -> None:
    blocked = run(mini, turn("Let me summarise where we are.", "summarise"))
    assert not blocked[-1].ended  # no plan was discussed
    plain = run(mini, turn("Let me summarise: the plan is rest first.", "summarise"))
    assert plain[-1].ended and plain[-1].outcome == "Pat agrees a plan"
    full = run(
        mini,
        turn("The pain comes from the tear, not from damage spreading.", "give_information"),
        turn("Let me summarise: the plan is rest first.", "summarise"),
    )
    assert full[-1].outcome == "Pat agrees a plan; the pain was explained"
    assert full[-1].state.outcome == full[-1].outcome  # kept in the state, so a report can say what happened


def test_old_stored_states_load_with_defaults(mini: Scenario) -> None:
    old = {
        "values": {"trust": 0.5},
        "flags": {"news_given": False},
        "turn": 2,
        "last_line": "Is it the scan result?",
        "trace": [{"turn": 0, "pool": "opening"}, {"turn": 1, "pool": "talks"}, {"turn": 2, "pool": "default"}],
    }
    state = PatientState.from_dict(old)
    assert state.discussed == [] and state.said == [] and state.last_pool == "default" and state.last_asked
    assert PatientState.from_dict(state.to_dict()) == state
    result = Engine(mini, "gentle").step(state, turn("What's been happening?", "open_question"))
    assert result.line and result.state.turn == 3


def test_a_patient_question_is_read_from_how_the_line_ends() -> None:
    assert asks_question("Is it the results?") and asks_question('He said "why?"')
    assert not asks_question("Don't worry? With respect, it's not you that's got it.")


def test_news_is_answered_before_a_concern_that_is_ready(mini: Scenario) -> None:
    ready = [
        turn("The scan shows a small tear.", "give_information"),
        turn("You sound worried about him.", "complex_reflection"),
    ]
    news = turn("What's on your mind? The result is clear, by the way.", "open_question")
    steps = run(mini, *ready, news)
    assert steps[-1].pool == "hears_result" and steps[-1].revealed is None
    later = run(mini, *ready, news, turn("What's on your mind now?", "open_question"))
    assert later[-1].revealed == "son_worry"
    assert run(mini, *ready, turn("What's on your mind?", "open_question"))[-1].revealed == "son_worry"
