"""The session report tells only what happened. Sessions are played through the real scorer and patient engine
(``practice.take_turn``, as the action server runs it) and stored in a real Store, so the report is built from
exactly what the product keeps; only Rasa is left out."""

from __future__ import annotations

import random
from typing import Any

import pytest
import yaml

from bot import practice
from bot.reports import build_report, engine_steps, strongest_and_weakest
from bot.scenarios import Scenario, get_scenario, library
from bot.scenarios.model import check_scenario
from bot.scenarios.template import render_template
from bot.scoring import Scorer
from bot.store import Store

# Breaking the news with every SPIKES step in place: introduction, perception, invitation, a warning shot, the
# news in plain words with an acknowledgement (Jo has just asked, frightened), the emotion met and explored,
# then a reply that meets her feelings, sums up, names the first steps and invites the decision together
# (strategy and summary), and one that respects her confession about the delay and agrees the plan. The patient
# agrees the plan, whichever lines the seed picks (checked for seeds 1 to 8).
NEWS_PERFECT = [
    "Hello Jo, I'm Dr Khan, one of the breast surgeons.",
    "What have you been told about the biopsy so far?",
    "How much detail would you like me to go into today?",
    "I'm afraid the results are not what we hoped.",
    "I'm sorry, Jo. The biopsy shows a breast cancer.",
    "It sounds like this is a huge shock.",
    "What's worrying you most right now?",
    "It sounds like your mum is very much on your mind.",
    "I can see why this is so hard for you. So far we've talked about the result and your mum. The first step "
    "would be an operation to take the lump out, and the breast care nurse can see you today. "
    "Shall we decide together what happens next?",
    "It took courage to tell me that. What matters is the plan from here: the operation first, and the breast "
    "care nurse today. Shall we agree that together?",
]

# The news alone, with nothing before it in the reply that could prepare the patient.
BARE_NEWS = "The biopsy shows a breast cancer."


def play_session(
    store: Store,
    scorer: Scorer,
    scenario_id: str,
    lines: list[str],
    *,
    end_by: str | None = "trainee",
    persona: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """Store a session as the product does: the opening, then each line scored and answered (a line starting
    with "/" is an app command, stored as one); the session is ended by ``end_by`` unless the patient ended it."""
    scenario = get_scenario(scenario_id)
    assert scenario is not None
    sid = store.create_session(
        "Report Tester", {"id": scenario.id, "title": scenario.title, "theme": scenario.theme}, "gentle", 3, False
    )
    opening = practice.start(scenario_id, "gentle", 3, persona)
    store.open_session(sid, opening["text"], opening["pool"], opening["state"])
    state = opening["state"]
    for i, text in enumerate(lines):
        begin = store.begin_turn(sid, text, f"report-test-{i:04d}")
        assert begin.turn is not None and begin.token is not None, begin.kind
        if text.startswith("/"):
            store.finish_turn(sid, begin.turn["id"], begin.token, "command", replies=[("system", "Hint: ...", None)])
            continue
        result = practice.take_turn(scenario_id, state, text, scorer=scorer)
        replies: list[tuple[str, str, str | None]] = [("patient", result["text"], result["pool"])]
        if result["notice"]:
            replies.append(("system", result["notice"], None))
        store.finish_turn(
            sid,
            begin.turn["id"],
            begin.token,
            "answered",
            score=result["score"],
            replies=replies,
            state=result["state"],
            ended_by="patient" if result["ended"] else None,
        )
        state = result["state"]
        if result["ended"]:
            break
    if end_by is not None:
        store.end_session(sid, end_by)
    session = store.get_session(sid)
    assert session is not None
    return sid, build_report(session, store.turns(sid))


def _trainee(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The transcript's trainee replies by their turn number."""
    return {t["turn"]: t for t in report["transcript"] if t["turn"] is not None}


def _spikes(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["step"]: s for s in report["spikes"]}


# ----- turn numbers -----


def test_turns_are_the_trainees_own_count(store: Store, scorer: Scorer) -> None:
    lines = NEWS_PERFECT[:3] + ["/hint"] + NEWS_PERFECT[3:6]
    _, report = play_session(store, scorer, "difficult-news", lines)
    replies = [t for t in report["transcript"] if t["speaker"] == "trainee" and t["status"] != "command"]
    assert [t["turn"] for t in replies] == [1, 2, 3, 4, 5, 6]
    assert [t["text"] for t in replies] == NEWS_PERFECT[:6]
    command = next(t for t in report["transcript"] if t["status"] == "command")
    assert command["turn"] is None  # an app command is not a reply to the patient
    assert all(t["turn"] is None for t in report["transcript"] if t["speaker"] != "trainee")
    # Row positions and turn numbers part ways after the first reply (patient lines, the hint and its answer).
    assert [t["index"] for t in replies] == [1, 3, 5, 9, 11, 13]

    by_turn = _trainee(report)
    steps = _spikes(report)
    assert by_turn[steps["perception"]["turn"]]["text"] == NEWS_PERFECT[1]
    assert by_turn[steps["warning_shot"]["turn"]]["text"] == NEWS_PERFECT[3]
    assert by_turn[steps["knowledge"]["turn"]]["text"] == NEWS_PERFECT[4]
    rows = [i for i in report["rubric"]["items"] if i.get("turn") is not None]
    assert rows and all(by_turn[i["turn"]]["text"] for i in rows)
    for pick in (report["strongest"], report["weakest"]):
        assert by_turn[pick["turn"]]["text"] == pick["text"]
        assert by_turn[pick["turn"]]["index"] == pick["index"]  # the row, for the page's links


def test_engine_steps_skip_commands_and_count_messages_the_scorer_could_not_read(store: Store, scorer: Scorer) -> None:
    lines = ["What have you been told about the biopsy so far?", "/hint", "¿Qué le han dicho hasta ahora?"]
    sid, report = play_session(store, scorer, "difficult-news", lines + ["How much would you like to know today?"])
    turns = store.turns(sid)
    session = store.get_session(sid)
    assert session is not None
    trace = session["patient_state"]["trace"]
    steps = engine_steps(turns)
    assert sorted(steps.values()) == [t["turn"] for t in trace[1:]] == [1, 2, 3]
    spanish = next(t for t in report["transcript"] if t["text"].startswith("¿"))
    assert spanish["turn"] == 2 and spanish["score"] is None  # a reply, numbered, but not scored
    assert "2 replies were scored" in report["outcome"]


# ----- strongest and weakest -----


def test_strongest_and_weakest_are_two_different_turns(store: Store, scorer: Scorer) -> None:
    _, report = play_session(store, scorer, "difficult-news", NEWS_PERFECT)
    best, worst = report["strongest"], report["weakest"]
    assert best and worst and best["turn"] != worst["turn"]

    def level(pick: dict[str, Any]) -> float:
        return sum(d["score"] / d["max"] for d in pick["scores"].values()) / len(pick["scores"])

    assert level(best) >= level(worst)
    assert 1 not in (best["turn"], worst["turn"])  # the greeting had nothing to judge: neither


def test_one_judged_turn_is_shown_once(store: Store, scorer: Scorer) -> None:
    _, report = play_session(store, scorer, "difficult-news", NEWS_PERFECT[:2])
    assert report["strongest"]["turn"] == 2 and report["weakest"] is None
    _, greeting_only = play_session(store, scorer, "difficult-news", NEWS_PERFECT[:1])
    assert greeting_only["strongest"] is None and greeting_only["weakest"] is None


def test_ties_go_to_the_earliest_turns_whatever_the_order(scorer: Scorer) -> None:
    score = scorer.score("What have you been told about the biopsy so far?").to_dict()
    turns = [{"index": n, "row": 2 * n - 1, "text": f"reply {n}", "score": score} for n in (1, 2, 3, 4)]
    for _ in range(5):
        random.shuffle(turns)
        best, worst = strongest_and_weakest(turns)
        assert best is not None and worst is not None
        assert (best["turn"], worst["turn"]) == (1, 2)


# ----- SPIKES: each step credited for its own act -----


def test_a_perception_question_is_not_credited_as_the_warning_shot(store: Store, scorer: Scorer) -> None:
    asked = "I'm afraid I have to ask, what have you been told so far?"
    assert {"warning_shot", "perception_check"} <= {a["act"] for a in scorer.score(asked).to_dict()["acts"]}
    assert "warning_shot" not in {a["act"] for a in scorer.score(BARE_NEWS).to_dict()["acts"]}
    _, report = play_session(store, scorer, "difficult-news", [NEWS_PERFECT[0], asked, BARE_NEWS])
    steps = _spikes(report)
    assert steps["perception"]["status"] == "done" and steps["perception"]["turn"] == 2
    assert steps["warning_shot"]["status"] == "missed" and steps["warning_shot"]["turn"] is None
    assert steps["knowledge"]["turn"] == 3


def test_a_warning_shot_counts_only_before_the_news(store: Store, scorer: Scorer) -> None:
    fused = "I'm sorry to say the biopsy showed some cancer cells."
    _, report = play_session(store, scorer, "difficult-news", [NEWS_PERFECT[1], fused])
    steps = _spikes(report)
    assert steps["knowledge"]["turn"] == 2
    assert steps["warning_shot"]["status"] == "missed" and "same sentence" in steps["warning_shot"]["note"]
    paused = "I'm afraid it's not the news we hoped for. The biopsy shows a breast cancer."
    _, report = play_session(store, scorer, "difficult-news", [NEWS_PERFECT[1], paused])
    assert _spikes(report)["warning_shot"]["status"] == "done"
    late = [BARE_NEWS, NEWS_PERFECT[3]]  # the news first, then the "warning"
    _, report = play_session(store, scorer, "difficult-news", late)
    assert _spikes(report)["warning_shot"]["status"] == "out_of_order"


def test_a_summary_is_not_credited_as_the_strategy(store: Store, scorer: Scorer) -> None:
    summary = "Let me summarise what we've talked about so far."
    assert "summarise" in {a["act"] for a in scorer.score(summary).to_dict()["acts"]}
    _, report = play_session(store, scorer, "difficult-news", [BARE_NEWS, summary])
    steps = _spikes(report)
    assert steps["summary"]["status"] == "done" and steps["strategy"]["status"] == "missed"


def test_a_perfect_spikes_session_has_every_step_done(store: Store, scorer: Scorer) -> None:
    _, report = play_session(store, scorer, "difficult-news", NEWS_PERFECT)
    steps = _spikes(report)
    assert {k: s["status"] for k, s in steps.items()} == {k: "done" for k in steps}
    assert [steps[k]["turn"] for k in ("setting", "perception", "invitation", "warning_shot", "knowledge")] == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert report["session"]["ended_by"] == "patient"


# ----- the instruments that fit the scenario -----


@pytest.mark.parametrize("scenario_id", sorted(library()))
def test_each_scenario_shows_the_instruments_its_rubric_declares(
    store: Store, scorer: Scorer, scenario_id: str
) -> None:
    scenario = library()[scenario_id]
    lines = ["What's been on your mind since we last spoke?", "It sounds like this has been really hard."]
    _, report = play_session(store, scorer, scenario_id, lines)
    assert report["rubric"]["kind"] == scenario.rubric
    assert bool(report["spikes"]) is (scenario.rubric == "spikes")
    assert report["miti"]["applies"] is (scenario.rubric == "miti")
    if scenario.rubric != "miti":  # counted, but no band where MITI is not the yardstick
        assert set(report["miti"]["bands"].values()) == {None} and report["miti"]["questions"] >= 1
    else:
        assert report["miti"]["bands"]["reflection_to_question"] is not None
    used = [i for i in report["instruments"] if i["applies"]]
    assert used[0]["id"] == scenario.rubric
    assert all(i["why_not"] for i in report["instruments"] if not i["applies"])


def _declared(theme: str, rubric: str) -> Scenario:
    text, _ = render_template("Declared rubric", theme)
    data = yaml.safe_load(text)
    data["rubric"] = rubric
    scenario, problems = check_scenario(data)
    assert scenario is not None, problems
    return scenario


@pytest.mark.parametrize(("rubric", "spikes", "miti"), [("spikes", True, False), ("miti", False, True)])
def test_instruments_follow_the_declared_rubric_not_the_scenario(
    monkeypatch: pytest.MonkeyPatch, store: Store, scorer: Scorer, rubric: str, spikes: bool, miti: bool
) -> None:
    _, played = play_session(store, scorer, "rupture-repair", ["It sounds like you're really angry about this."])
    declared = _declared("rupture-repair", rubric)
    monkeypatch.setattr("bot.reports.get_scenario", lambda _id: declared)
    session = {**played["session"], "patient_state": {}}
    report = build_report(session, played["transcript"])
    assert report["rubric"]["kind"] == rubric
    assert bool(report["spikes"]) is spikes and report["miti"]["applies"] is miti


# ----- the outcome says only what happened -----


def test_the_outcome_of_a_session_the_trainee_ended(store: Store, scorer: Scorer, news: Scenario) -> None:
    _, report = play_session(store, scorer, "difficult-news", NEWS_PERFECT[:2])
    text = report["outcome"]
    assert text.startswith("You ended the session before the conversation reached an ending.")
    assert "2 replies were scored." in text
    assert not any(e.outcome in text for e in news.endings)
    assert text.endswith(f"0 of {len(news.concerns)} hidden concerns came out.")
    assert not any(c.summary in text for c in news.concerns)  # no concern came out, none is told


def test_the_outcome_names_the_ending_the_engine_reached(store: Store, scorer: Scorer, news: Scenario) -> None:
    sid, report = play_session(store, scorer, "difficult-news", NEWS_PERFECT, end_by=None)
    session = store.get_session(sid)
    assert session is not None and session["ended_by"] == "patient"
    reached = next(e for e in news.endings if e.id == session["patient_state"]["ending"])
    assert f"The conversation reached an ending: {reached.outcome}" in report["outcome"]
    assert ("aims for" in report["outcome"]) is reached.good
    others = [e.outcome for e in news.endings if e.id != reached.id]
    assert not any(o in report["outcome"] for o in others)
    revealed = len(session["patient_state"]["revealed"])
    assert f"{revealed} of {len(news.concerns)} hidden concerns came out." in report["outcome"]
    assert report["rubric"]["ending"]["id"] == reached.id


def test_a_session_that_could_not_start_is_not_blamed_on_the_trainee(store: Store, scorer: Scorer) -> None:
    _, report = play_session(store, scorer, "difficult-news", [], end_by="error")
    assert "could not be started" in report["outcome"] and "You ended" not in report["outcome"]
    assert "No reply was scored." in report["outcome"]
    assert report["strongest"] is None and report["weakest"] is None
