"""Issue 10, the patient part: each reported answer to something that was not said, as a test of its kind.

Every transcript is played through the real scorer and engine, as in practice; where a test must not depend on
which acts the scorer reads in a sentence, it also plays the engine directly with the acts a scorer might give.
"""

from __future__ import annotations

import pytest

from bot.scenarios import Engine, PatientState, Scenario, TurnInput, get_scenario
from bot.scoring import Scorer
from tests.playthrough import play
from tests.transcripts import NEWS_SKILLED

SEEDS = range(12)


def scenario(sid: str) -> Scenario:
    found = get_scenario(sid)
    assert found is not None
    return found


def lines_of(scorer: Scorer, sid: str, turns: list[str], persona: str | None = None) -> list[str]:
    """The patient's answers to these turns for every seed in SEEDS (the opening left out)."""
    out = []
    for seed in SEEDS:
        pt = play(scorer, scenario(sid), turns, seed=seed, persona=persona)
        out += [s.line for s in pt.steps[1:]]
    return out


# --- 1. lines never presuppose what did not happen ----------------------------------------------------------
def test_steve_does_not_answer_a_pain_explanation_nobody_gave(scorer: Scorer) -> None:
    tens = "You could try a TENS machine; it sends small electrical pulses through pads on your back."
    said = lines_of(scorer, "rescuer-trap", [tens])
    assert not [ln for ln in said if "crumbling" in ln or "in my head" in ln or "Hurt doesn't mean harm" in ln]
    engine = Engine(scenario("rescuer-trap"), "gentle")
    explained = set()
    for seed in range(30):
        start = engine.start(seed).state
        start.values["trust"] = 0.8
        text = "Long-standing pain is like an alarm that's got stuck on: the nerves are oversensitive, not damaged."
        explained.add(engine.step(start, TurnInput(frozenset({"give_information"}), text=text)).line)
    assert any("crumbling" in ln for ln in explained)  # the line is still there when its explanation was given


def test_steve_never_answers_a_refusal_after_a_promise(scorer: Scorer) -> None:
    rescuing = ["I'll fix this for you, I promise.", "Leave it all to me, I'll sort it.", "I'll fix this."] * 4
    said = lines_of(scorer, "rescuer-trap", rescuing)
    assert said and not [ln for ln in said if "You won't?" in ln]


def test_kully_does_not_say_you_decided_to_a_reply_that_asked_permission(scorer: Scorer) -> None:
    ask = "Would it be OK with you if I suggested adding a second tablet?"
    assert not [ln for ln in lines_of(scorer, "shared-decision-remedy", [ask]) if "decided already" in ln]
    engine = Engine(scenario("shared-decision-remedy"), "gentle")
    for seed in range(30):  # whatever else the scorer also reads in it
        acts = frozenset({"advise_without_permission", "seek_collaboration"})
        result = engine.step(engine.start(seed).state, TurnInput(acts, text=ask))
        assert "decided already" not in result.line


def test_ray_does_not_ask_an_opening_question_after_the_plan(scorer: Scorer) -> None:
    from tests.test_scenario_attachment import ANXIOUS_SKILLED

    engine = Engine(scenario("attachment-heart-failure"), "gentle", "anxious")
    pt = play(scorer, scenario("attachment-heart-failure"), ANXIOUS_SKILLED[:11], persona="anxious")
    state = pt.final
    assert "tablets" in state.discussed and state.turn >= 10
    for seed in range(30):
        state.seed = seed
        result = engine.step(state, TurnInput(frozenset({"seek_collaboration"}), text="Shall we go through it?"))
        assert "The letter said heart failure" not in result.line


# --- 2. the patient reacts to what was just said first ---------------------------------------------------
def test_tony_answers_the_biopsy_news_before_anything_else(scorer: Scorer) -> None:
    from tests.test_scenario_rupture_repair import SKILLED

    tony = scenario("rupture-repair")
    ready = play(scorer, tony, SKILLED[:6])  # his fear is out and acknowledged: his father is next
    assert "delay_fear" in ready.final.revealed
    news = "The biopsies they took in April showed no cancer."
    for seed in SEEDS:
        pt = play(scorer, tony, [*SKILLED[:6], news], seed=seed)
        assert pt.pools[-1] == "hears_biopsy_clear" and pt.steps[-1].revealed is None


def test_tony_hears_that_the_test_was_never_booked_as_news_not_reassurance(scorer: Scorer) -> None:
    missed = "I've checked, and your repeat camera test was never booked. Nothing was ever requested."
    for seed in SEEDS:
        pt = play(scorer, scenario("rupture-repair"), [missed], seed=seed)
        assert pt.pools[-1] == "hears_test_missed"
    said = lines_of(scorer, "rupture-repair", ["There was nothing booked for you, and nothing came through."])
    assert not [ln for ln in said if "know it's nothing" in ln]


def test_a_new_question_gets_its_own_answer(scorer: Scorer) -> None:
    pt = play(scorer, scenario("shared-decision-remedy"), ["What do you understand about your latest blood test?"])
    assert pt.pools[-1] == "perception_answer"


def test_a_question_left_unanswered_is_noticed(scorer: Scorer) -> None:
    jo = scenario("difficult-news")
    for seed in SEEDS:
        pt = play(scorer, jo, ["How was the traffic on the way in?"], seed=seed)
        if pt.steps[0].state.last_asked:  # every opening of Jo's asks about the results
            assert "question_ignored" in pt.steps[-1].events


# --- 3. endings need their substance ----------------------------------------------------------------------
def test_jo_does_not_agree_next_steps_that_were_never_discussed(scorer: Scorer) -> None:
    no_plan = [
        *NEWS_SKILLED[:10],
        "Let me summarise what we've talked about, and we can agree the next steps together.",
    ]
    pt = play(scorer, scenario("difficult-news"), no_plan)
    assert pt.final.ending != "plan_agreed"
    full = play(scorer, scenario("difficult-news"), NEWS_SKILLED)
    assert full.final.ending == "plan_agreed"
    assert "operation" in (full.steps[-1].outcome or "")


def test_paul_has_no_plan_of_his_own_without_hearing_his_liver_results(scorer: Scorer) -> None:
    from tests.test_scenario_ambivalence import SKILLED

    unheard = [t for t in SKILLED if "liver" not in t.lower() and "blood test" not in t.lower()]
    assert len(unheard) < len(SKILLED)
    for extra in ([], ["What would you like to do about it?", "It's your choice. What's your plan?"]):
        pt = play(scorer, scenario("ambivalence-drinking"), unheard + extra)
        assert pt.final.ending != "own_plan"


def test_kully_plan_names_only_options_that_were_discussed() -> None:
    kully = scenario("shared-decision-remedy")
    engine = Engine(kully, "gentle")
    for seed in range(30):
        state = engine.start(seed).state
        state.values.update(trust=0.9, involvement=0.9, understanding=0.8, decisional_conflict=0.1)
        state.flags.update(
            {"concern:karela_not_metformin": True, "concern:bapuji_feet": True, "concern_revealed": True}
        )
        state.discussed = ["metformin", "options"]
        result = engine.step(state, TurnInput(frozenset({"summarise"}), text="Let me summarise where we are."))
        assert result.pool == "decided_together"
        assert "without the low sugars" not in result.line and "do the course" not in result.line
        assert result.outcome and "lifestyle" not in result.outcome and "metformin" in result.outcome


def test_ray_outcome_mentions_driving_only_if_driving_came_up(scorer: Scorer) -> None:
    from tests.test_scenario_attachment import AVOIDANT_SKILLED

    pt = play(scorer, scenario("attachment-heart-failure"), AVOIDANT_SKILLED, persona="avoidant")
    assert pt.final.ending == "on_his_terms"
    assert ("driving" in (pt.steps[-1].outcome or "")) == ("driving" in pt.final.discussed)


# --- 4. repeats and minimal replies -----------------------------------------------------------------------
@pytest.mark.parametrize("sid", ["difficult-news", "shared-decision-remedy", "ambivalence-drinking"])
def test_the_same_question_three_times_is_rewarded_once(scorer: Scorer, sid: str) -> None:
    question = "What matters most to you right now?"
    pt = play(scorer, scenario(sid), [question, question, "What matters most to you, right now?"])
    first = pt.steps[1].state.values
    for again in pt.steps[2:]:
        assert again.events == ["repeated"]
        assert again.state.values == first and again.revealed is None and not again.ended


def test_mm_keeps_jo_talking_without_apologising_for_rabbiting(scorer: Scorer) -> None:
    for seed in range(20):
        pt = play(scorer, scenario("difficult-news"), ["mm", "Mm.", "Go on."], seed=seed)
        assert not [s.line for s in pt.steps if "rabbiting" in s.line or "talking too much" in s.line]
        for step in pt.steps[1:]:
            assert "minimal_reply" in step.events or "question_ignored" in step.events
            assert step.state.values == pt.steps[0].state.values


def test_mm_continues_the_thread_the_patient_was_on(scorer: Scorer) -> None:
    from tests.test_scenario_attachment import ANXIOUS_SKILLED

    pt = play(scorer, scenario("attachment-heart-failure"), [ANXIOUS_SKILLED[0], "mm"], persona="anxious")
    assert pt.pools[-1] == pt.pools[-2] and pt.steps[-1].line != pt.steps[-2].line


# --- 5. hidden concerns are earned by their own trigger ----------------------------------------------------
def test_jo_keeps_the_delay_to_herself_until_her_mother_is_acknowledged(scorer: Scorer) -> None:
    jo = scenario("difficult-news")
    opened = play(scorer, jo, NEWS_SKILLED[:6])
    assert "mum_and_ellie" in opened.final.revealed
    passed_over = [
        *NEWS_SKILLED[:6],
        "What's worrying you most right now?",
        "What other questions do you have?",
        "How are you feeling about the treatment?",
        "What would help most today?",
    ]
    pt = play(scorer, jo, passed_over)
    assert "the_delay" not in pt.final.revealed
    assert pt.final.values["trust"] >= 0.6  # not for want of trust
    acknowledged = play(scorer, jo, [*NEWS_SKILLED[:6], "It sounds like losing your mum is very much on your mind."])
    assert acknowledged.final.flags.get("answered:mum_and_ellie") is True


def test_old_stored_states_still_play(scorer: Scorer) -> None:
    jo = scenario("difficult-news")
    state = Engine(jo).start(3).state.to_dict()
    for key in ("discussed", "last_acts", "last_pool", "last_asked", "ignored", "said", "open_cues", "last_cues"):
        state.pop(key)
    from bot import practice

    result = practice.take_turn("difficult-news", PatientState.from_dict(state).to_dict(), "mm")
    assert result["text"] and "minimal_reply" in result["events"]


@pytest.mark.parametrize(
    "sid,persona",
    [
        (s, p)
        for s in (
            "difficult-news",
            "rescuer-trap",
            "ambivalence-drinking",
            "shared-decision-remedy",
            "rupture-repair",
            "attachment-heart-failure",
        )
        for p in scenario(s).persona_ids
    ],
)
def test_every_patient_notices_a_question_passed_over_twice_then_lets_it_go(sid: str, persona: str) -> None:
    engine = Engine(scenario(sid), "gentle", persona)
    state = engine.start(2).state
    state.last_asked, state.last_emotional = True, False
    pools = []
    for text in (
        "I had a sandwich for lunch today.",
        "The car park was busy this morning.",
        "It rained all week here.",
    ):
        result = engine.step(state, TurnInput(frozenset(), text=text))
        pools.append(result.pool)
        state = result.state
        state.last_asked, state.last_emotional = True, False  # as if each answer asked again
    assert [p.endswith("question_passed_over") for p in pools] == [True, True, False]


# --- 6. an answer fits the question that was asked ---------------------------------------------------------
def play_each_seed(scorer: Scorer, sid: str, turns: list[str], persona: str | None = None) -> list[tuple[str, str]]:
    """(pool, line) of the patient's last answer to these turns, for every seed in SEEDS."""
    out = []
    for seed in SEEDS:
        pt = play(scorer, scenario(sid), turns, seed=seed, persona=persona)
        out.append((pt.pools[-1], pt.steps[-1].line))
    return out


def test_paul_answers_an_opening_question_without_defending_drinking_nobody_raised(scorer: Scorer) -> None:
    said = play_each_seed(scorer, "ambivalence-drinking", ["What's been happening since I last saw you?"])
    assert {pool for pool, _ in said} == {"general_answer"}
    drink = ("drink", "cans", "a can", "drunk")
    assert not [line for _, line in said if any(w in line.lower() for w in drink)]
    # once the drinking is raised, his defence of it comes back
    asked = play_each_seed(scorer, "ambivalence-drinking", ["How do you feel about your drinking?"])
    assert any(pool == "guarded_answer" and "drink" in line.lower() for pool, line in asked)


def test_avoidant_ray_answers_a_perception_question_with_what_he_has_been_told(scorer: Scorer) -> None:
    said = play_each_seed(
        scorer, "attachment-heart-failure", ["What have you been told so far about the scan?"], persona="avoidant"
    )
    assert {pool for pool, _ in said} == {"v_perception"}
    assert not [line for _, line in said if "sleeping" in line or "Puffed" in line or "Nights, mostly" in line]
    assert any("GP" in line or "scan" in line or "letter" in line for _, line in said)


def test_anxious_ray_hears_stopping_as_stopping_not_as_how_much_he_wants_to_know(scorer: Scorer) -> None:
    said = play_each_seed(scorer, "attachment-heart-failure", ["Shall we stop there for today?"], persona="anxious")
    assert not [pool for pool, _ in said if pool == "a_permission"]
    assert not [line for _, line in said if "main bits" in line or "Just tell me" in line]
    assert {pool for pool, _ in said} == {"a_stopping"}
    # the detail line still answers the question it fits
    engine = Engine(scenario("attachment-heart-failure"), "gentle", "anxious")
    text = "How much detail would you like me to go into?"
    lines = {
        engine.step(engine.start(s).state, TurnInput(frozenset({"invitation"}), text=text)).line for s in range(30)
    }
    assert any("main bits" in ln for ln in lines)


def test_anxious_ray_takes_the_time_he_is_given_and_hears_support_only_when_it_is_offered(scorer: Scorer) -> None:
    turns = ["Shall we stop there for today?", "Take your time."]
    said = play_each_seed(scorer, "attachment-heart-failure", turns, persona="anxious")
    assert {pool for pool, _ in said} == {"a_given_time"}
    assert not [line for _, line in said if "not on my own" in line or "keeping an eye" in line]
    engine = Engine(scenario("attachment-heart-failure"), "gentle", "anxious")
    support = frozenset({"nurse_support"})
    for seed in range(30):  # support with no word about being alone, or about keeping an eye
        result = engine.step(engine.start(seed).state, TurnInput(support, text="I'm happy to help."))
        assert "not on my own" not in result.line and "keeping an eye" not in result.line
    offered = "You're not on your own with this. We'll keep an eye on you together."
    lines = {engine.step(engine.start(s).state, TurnInput(support, text=offered)).line for s in range(30)}
    assert any("not on my own" in ln for ln in lines) and any("keeping an eye" in ln for ln in lines)
