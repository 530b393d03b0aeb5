"""Tips: scenario-specific, never the move the reply just made, never another scenario's content.

Every scenario and persona's scripted skilled and unskilled transcripts are played through the product's own turn
path (``bot.practice.start`` / ``take_turn``: the real scorer, the real engine, the scenario's tips in the
ScoringContext). The loader is tested on bad data, and ``choose_tip`` on its guards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import practice
from bot.scenarios import Scenario, get_scenario, library
from bot.scenarios.engine import PatientState
from bot.scenarios.tips import TipsError, concern_index, load_tips_file, scenario_tips, tips_path
from bot.scoring import Scorer
from bot.scoring.feedback import HARMFUL_ACTS, choose_tip, generic_alternatives, generic_recommends, generic_texts
from tests import test_scenario_ambivalence as drinking
from tests import test_scenario_attachment as heart
from tests import test_scenario_rescuer_trap as rescuer
from tests import test_scenario_rupture_repair as rupture
from tests import test_scenario_shared_decision as remedy
from tests.transcripts import NEWS_SKILLED, NEWS_UNSKILLED

# (scenario, persona, skilled?, name, lines): every scripted transcript of the library.
TRANSCRIPTS: list[tuple[str, str | None, bool, str, list[str]]] = [
    ("difficult-news", None, True, "skilled", NEWS_SKILLED),
    ("difficult-news", None, False, "unskilled", NEWS_UNSKILLED),
    ("ambivalence-drinking", None, True, "skilled", drinking.SKILLED),
    ("ambivalence-drinking", None, False, "unskilled", drinking.UNSKILLED),
    ("attachment-heart-failure", "anxious", True, "skilled", heart.ANXIOUS_SKILLED),
    ("attachment-heart-failure", "anxious", False, "unskilled", heart.ANXIOUS_UNSKILLED),
    ("attachment-heart-failure", "avoidant", True, "skilled", heart.AVOIDANT_SKILLED),
    ("attachment-heart-failure", "avoidant", False, "unskilled", heart.AVOIDANT_UNSKILLED),
    ("rescuer-trap", None, True, "skilled", rescuer.SKILLED),
    ("rescuer-trap", None, False, "rescuer", rescuer.RESCUER),
    ("rescuer-trap", None, False, "persecutor", rescuer.PERSECUTOR),
    ("rupture-repair", None, True, "skilled", rupture.SKILLED),
    ("rupture-repair", None, False, "defending", rupture.DEFENDING),
    ("rupture-repair", None, False, "ignoring", rupture.IGNORING),
    ("shared-decision-remedy", None, True, "skilled", remedy.SKILLED),
    ("shared-decision-remedy", None, False, "unskilled", remedy.UNSKILLED),
    ("shared-decision-remedy", None, False, "rescuer", remedy.RESCUER),
]
MIN_DISTINCT_SKILLED = 40  # the target: distinct tip texts over all skilled transcripts
MIN_TIPS_PER_PERSONA = 15
HARM_TOLERANCE = 0.02  # share of alternatives the scorer may misread as harmful
SHARED_BY = 2  # a story term in at most this many scenario files is content; in more, an everyday word


@dataclass
class Turn:
    scenario: str
    persona: str | None
    skilled: bool
    text: str
    acts: set[str]
    tip: dict[str, str]
    revealed: tuple[str, ...] = ()  # the concerns the patient had revealed when the tip was shown


def _play(
    scorer: Scorer, scenario_id: str, persona: str | None, lines: list[str]
) -> list[tuple[str, dict[str, Any], tuple[str, ...]]]:
    """The transcript through bot.practice, as the action server runs it; the scored turns in order, each with the
    concerns revealed before it."""
    state = practice.start(scenario_id, "gentle", seed=3, persona=persona)["state"]
    scored = []
    for text in lines:
        revealed = tuple(state.get("revealed", ()))
        result = practice.take_turn(scenario_id, state, text, scorer=scorer)
        if result["score"] is not None:
            scored.append((text, result["score"], revealed))
        state = result["state"]
        if result["ended"]:
            break
    return scored


@pytest.fixture(scope="module")
def turns(scorer: Scorer) -> list[Turn]:
    out = []
    for scenario_id, persona, skilled, _, lines in TRANSCRIPTS:
        for text, score, revealed in _play(scorer, scenario_id, persona, lines):
            acts = {a["act"] for a in score["acts"]}
            out.append(Turn(scenario_id, persona, skilled, text, acts, score["tip"], revealed))
    return out


def _scenario(scenario_id: str) -> Scenario:
    scenario = get_scenario(scenario_id)
    assert scenario is not None
    return scenario


def _recommends(turn: Turn) -> set[str]:
    source, _, tip_id = turn.tip["id"].partition(":")
    if source == "scenario":
        tips = {t["id"]: t for t in scenario_tips(_scenario(turn.scenario), turn.persona, revealed=turn.revealed)}
        assert tip_id in tips, f"{turn.tip['id']} is not a tip of {turn.scenario}/{turn.persona}"
        return set(tips[tip_id]["recommends"])
    assert source == "generic", turn.tip
    return set(generic_recommends(tip_id, turn.tip["alternative"]))


# -- the played transcripts --------------------------------------------------------------------------------------


def test_every_scripted_turn_gets_a_tip(turns: list[Turn]) -> None:
    assert len(turns) >= 100
    for turn in turns:
        assert turn.tip["text"].strip() and turn.tip["alternative"].strip(), turn


def test_no_tip_recommends_a_move_the_reply_just_made(turns: list[Turn]) -> None:
    for turn in turns:
        recommends = _recommends(turn)
        assert recommends, turn.tip
        assert not recommends & turn.acts, (turn.text, sorted(turn.acts), turn.tip)


def test_tips_shown_never_carry_another_scenarios_content(turns: list[Turn]) -> None:
    words = _story_terms()
    for turn in turns:
        shown = f"{turn.tip['text']} {turn.tip['alternative']}"
        for other, terms in words.items():
            if other != turn.scenario:
                leaked = _leaks(shown, terms, _file_text(turn.scenario))
                assert not leaked, (turn.scenario, other, leaked, turn.tip)


def test_no_tip_gives_away_a_concern_before_the_patient_reveals_it(turns: list[Turn]) -> None:
    """Over every scripted transcript: a tip shown before a concern came out carries none of its distinctive
    content, and a tip declared for a concern is shown only after it came out."""
    reveals = 0
    for turn in turns:
        scenario = _scenario(turn.scenario)
        concerns = concern_index(scenario)[turn.persona or ""]
        shown = f"{turn.tip['text']} {turn.tip['alternative']}"
        for concern_id, words in concerns.items():
            if concern_id not in turn.revealed:
                assert not words.spoiled_by(shown), (turn.scenario, turn.persona, concern_id, turn.text, turn.tip)
        source, _, tip_id = turn.tip["id"].partition(":")
        if source == "scenario":
            everything = tuple(concerns)
            (tip,) = [t for t in scenario_tips(scenario, turn.persona, revealed=everything) if t["id"] == tip_id]
            assert tip["concern"] is None or tip["concern"] in turn.revealed, (turn.scenario, tip_id, turn.revealed)
            reveals += tip["concern"] is not None
    assert reveals, "no transcript reaches a tip about a revealed concern: the test no longer covers it"


def test_at_least_forty_distinct_tips_over_the_skilled_transcripts(turns: list[Turn]) -> None:
    skilled = [t for t in turns if t.skilled]
    distinct = {t.tip["text"] for t in skilled}
    assert len(distinct) >= MIN_DISTINCT_SKILLED, f"{len(distinct)} distinct tips over {len(skilled)} skilled turns"


def test_skilled_turns_mostly_get_the_scenarios_own_tips(turns: list[Turn]) -> None:
    skilled = [t for t in turns if t.skilled]
    own = [t for t in skilled if t.tip["id"].startswith("scenario:")]
    assert len(own) >= 0.75 * len(skilled), f"{len(own)} of {len(skilled)} skilled turns got a scenario tip"


def test_the_same_reply_gets_a_different_tip_in_another_scenario(scorer: Scorer) -> None:
    """The tip depends on the scenario: a blaming reply is answered in each scenario's own terms."""
    shown = set()
    for scenario in library().values():
        for persona in scenario.persona_ids:
            state = practice.start(scenario.id, "gentle", seed=3, persona=persona)["state"]
            result = practice.take_turn(scenario.id, state, "You should have come in sooner.", scorer=scorer)
            shown.add(result["score"]["tip"]["alternative"])
    assert len(shown) >= len(library())


# -- the tips data ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario_id", sorted(library()))
def test_every_scenario_and_persona_has_its_own_tips(scenario_id: str) -> None:
    scenario = _scenario(scenario_id)
    assert tips_path(scenario_id).exists()
    for persona in scenario.persona_ids:
        tips = scenario_tips(scenario, persona if scenario.personas else None)
        assert len(tips) >= MIN_TIPS_PER_PERSONA, (scenario_id, persona, len(tips))
        named = [t for t in tips if _first_name(scenario) in t["alternative"] or _address(scenario) in t["alternative"]]
        assert len(named) >= 0.8 * len(tips), f"{scenario_id}/{persona}: alternatives should speak to the patient"


@pytest.mark.parametrize("scenario_id", sorted(library()))
def test_no_tip_in_the_data_carries_another_scenarios_content(scenario_id: str) -> None:
    words = _story_terms()
    own = _file_text(scenario_id)
    for tip in load_tips_file(tips_path(scenario_id), scenario_id, _scenario(scenario_id).personas):
        for other, terms in words.items():
            if other != scenario_id:
                leaked = _leaks(f"{tip['text']} {tip['alternative']}", terms, own)
                assert not leaked, (scenario_id, tip["id"], other, leaked)


def test_generic_tips_name_no_scenarios_content() -> None:
    terms = set().union(*_distinctive_words().values())
    for text in generic_texts():
        assert not _leaks(text, terms, ""), text
        assert not re.search(r"\b(?:biopsy|biopsies|results?|scan|tablets?|cancer|liver|heart|sugar)\b", text, re.I), (
            text
        )


def test_a_concern_tip_is_offered_only_after_the_reveal() -> None:
    """Anxious Ray's reading of the odds (counting Christmases) is his to tell: its tips wait for the reveal."""
    heart = _scenario("attachment-heart-failure")
    before = {t["id"] for t in scenario_tips(heart, "anxious")}
    assert "anxious-the-odds" not in before and "anxious-the-nights" not in before
    assert {t["id"] for t in scenario_tips(heart, "anxious", revealed=())} == before
    after = {t["id"] for t in scenario_tips(heart, "anxious", revealed=["read_the_odds"])}
    assert {"anxious-the-odds", "anxious-odds-honest"} <= after and "anxious-the-nights" not in after
    assert before < after
    assert scenario_tips(heart, "anxious", revealed=("read_the_odds",)) is scenario_tips(
        heart, "anxious", revealed=["read_the_odds", "not-a-concern"]
    )
    # and the product's turn path passes the patient's revealed concerns on
    state = PatientState.from_dict(practice.start(heart.id, "gentle", seed=3, persona="anxious")["state"])
    tips = practice.scoring_context(heart, state).tips or ()
    assert "anxious-the-odds" not in {t["id"] for t in tips}
    state.revealed.append("read_the_odds")
    tips = practice.scoring_context(heart, state).tips or ()
    assert "anxious-the-odds" in {t["id"] for t in tips}


def test_the_testers_case_ray_looked_it_up_but_has_not_told_the_odds(scorer: Scorer) -> None:
    """Early on, anxious Ray says he looked it up (an open line): the tip must not tell the trainee about the
    Christmases he has been counting until he says so himself."""
    heart = _scenario("attachment-heart-failure")
    odds = concern_index(heart)["anxious"]["read_the_odds"]
    reply = "I can see you are worried. What do you understand about it?"
    state = PatientState.from_dict(practice.start(heart.id, "gentle", seed=3, persona="anxious")["state"])
    state.last_line = "The letter said heart failure, and I looked it up, which I shouldn't have. That's all I know."
    before = scorer.score(reply, context=practice.scoring_context(heart, state)).to_dict()["tip"]
    assert before["id"] != "scenario:anxious-the-odds"
    assert not odds.spoiled_by(f"{before['text']} {before['alternative']}"), before
    state.revealed.append("read_the_odds")
    after = scorer.score(reply, context=practice.scoring_context(heart, state)).to_dict()["tip"]
    assert after["id"] == "scenario:anxious-the-odds"


@pytest.mark.parametrize("scenario_id", sorted(library()))
def test_every_tip_about_a_concern_declares_it(scenario_id: str) -> None:
    """Loading checks it; here, also that no tip's text carries a concern it does not declare, per persona."""
    scenario = _scenario(scenario_id)
    for persona, concerns in concern_index(scenario).items():
        everything = tuple(concerns)
        for tip in scenario_tips(scenario, persona or None, revealed=everything):
            shown = f"{tip['text']} {tip['alternative']}"
            for concern_id, words in concerns.items():
                if concern_id != tip["concern"]:
                    assert not words.spoiled_by(shown), (scenario_id, persona, tip["id"], concern_id)
    assert any(t["concern"] for t in load_tips_file(tips_path(scenario_id), scenario_id, scenario.personas))


def test_scenario_tips_are_cached_per_scenario() -> None:
    scenario = _scenario("difficult-news")
    assert scenario_tips(scenario) is scenario_tips(scenario)
    anxious = scenario_tips(_scenario("attachment-heart-failure"), "anxious")
    avoidant = scenario_tips(_scenario("attachment-heart-failure"), "avoidant")
    assert {t["id"] for t in anxious} != {t["id"] for t in avoidant}
    assert all(not t["id"].startswith("avoidant-") for t in anxious)


def _alternatives() -> list[tuple[str, set[str]]]:
    """Every alternative reply a tip can offer, scenario and generic, with the acts it says it performs."""
    out = {a.text: set(a.recommends) for a in generic_alternatives()}
    for scenario in library().values():
        for persona in scenario.persona_ids:
            for tip in scenario_tips(scenario, persona if scenario.personas else None):
                out[tip["alternative"]] = set(tip["recommends"])
    return sorted(out.items())


def test_alternatives_cost_no_points_themselves(scorer: Scorer) -> None:
    """A better reply the scorer would penalise teaches the wrong thing. The classifier is retrained as its data
    grows, so a stray reading or two is tolerated; more means the alternatives need rewording."""
    alternatives = _alternatives()
    harmful = [(text, sorted(scorer.score(text).act_names & HARMFUL_ACTS)) for text, _ in alternatives]
    harmful = [(text, acts) for text, acts in harmful if acts]
    assert len(harmful) <= HARM_TOLERANCE * len(alternatives), harmful


def test_alternatives_mostly_perform_what_they_recommend(scorer: Scorer) -> None:
    """``recommends`` is what keeps a tip from suggesting the reply's own move, so it must be honest: the scorer
    finds at least one of the recommended acts in most alternatives (the rest are reflections and the like that
    the scorer reads as a neighbouring act)."""
    alternatives = _alternatives()
    done = [text for text, recommends in alternatives if scorer.score(text).act_names & recommends]
    assert len(done) >= 0.8 * len(alternatives), f"{len(done)} of {len(alternatives)}"


# -- choose_tip's guards ---------------------------------------------------------------------------------------

_TIP = {
    "id": "probe",
    "text": "Ask about her mum.",
    "alternative": "Tell me about your mum.",
    "recommends": ["nurse_explore", "open_question"],
    "when": {"patient_says": ["my mum"]},
}


def test_a_scenario_tip_is_skipped_when_the_reply_already_made_its_move() -> None:
    line = "It's my mum, you see."
    chosen = choose_tip({"simple_reflection"}, set(), None, (), tips=[_TIP], patient_line=line)
    assert chosen["id"] == "scenario:probe"
    made = choose_tip({"nurse_explore", "open_question"}, set(), None, (), tips=[_TIP], patient_line=line)
    assert made["id"] != "scenario:probe"
    assert not generic_recommends(made["id"], made["alternative"]) & {"nurse_explore", "open_question"}
    elsewhere = choose_tip({"simple_reflection"}, set(), None, (), tips=[_TIP], patient_line="I'm fine.")
    assert elsewhere["id"] != "scenario:probe"


def test_harm_and_unanswered_emotion_come_before_a_scenarios_next_move() -> None:
    line = "It's my mum. I'm so scared."
    harmed = choose_tip({"confront_blame"}, set(), "fear", (), tips=[_TIP], patient_line=line)
    assert harmed["id"] == "generic:blame"
    unanswered = choose_tip({"give_information"}, set(), "fear", (), tips=[_TIP], patient_line=line)
    assert unanswered["id"] == "scenario:probe"  # its alternative answers the emotion (exploring it)
    facts = dict(_TIP, recommends=["give_information"], alternative="It is a small one.")
    assert choose_tip({"closed_question"}, set(), "fear", (), tips=[facts], patient_line=line)["id"] == (
        "generic:unanswered-emotion"
    )


def test_generic_alternatives_fit_the_emotion_family() -> None:
    seen = {}
    for family in ("fear", "sadness", "anger", "shame", "shock", "overwhelm"):
        tip = choose_tip({"give_information"}, set(), family, ())
        assert family in tip["text"]
        seen[family] = tip["alternative"]
    assert len(set(seen.values())) == len(seen)
    again = choose_tip({"give_information"}, set(), "fear", ())
    assert again == choose_tip({"give_information"}, set(), "fear", ())


def test_generic_tips_never_repeat_the_replys_move() -> None:
    named = choose_tip({"nurse_name", "complex_reflection", "nurse_explore", "open_question"}, set(), "fear", ())
    assert not generic_recommends(named["id"], named["alternative"]) & {"nurse_name", "nurse_explore", "open_question"}
    reassured = choose_tip({"premature_reassurance", "nurse_name"}, set(), "fear", ())
    assert reassured["id"] == "generic:reassurance"
    assert "nurse_name" not in generic_recommends(reassured["id"], reassured["alternative"])


def test_a_persona_misfit_is_never_recommended() -> None:
    tip = choose_tip({"give_information"}, set(), None, (), misfit_acts={"nurse_explore", "nurse_name"})
    assert not generic_recommends(tip["id"], tip["alternative"]) & {"nurse_explore", "nurse_name"}
    pressed = choose_tip({"nurse_explore", "open_question"}, set(), None, (), misfit_acts={"nurse_explore"})
    assert pressed["id"] == "generic:misfit-warmth"


# -- the loader ------------------------------------------------------------------------------------------------

_GOOD = {
    "id": "t1",
    "when": {"acts_any": ["greet_introduce"]},
    "text": "Ask first.",
    "alternative": "What do you know so far?",
    "recommends": ["perception_check"],
}


def _write(tmp_path: Path, tips: list[dict[str, Any]], scenario: str = "difficult-news") -> Path:
    path = tmp_path / "difficult-news.yml"
    path.write_text(yaml.safe_dump({"scenario": scenario, "tips": tips}), encoding="utf-8")
    return path


def test_the_loader_reads_good_data_and_expands_groups(tmp_path: Path) -> None:
    tip = dict(_GOOD, when={"acts_none": ["@empathic"], "emotion": ["fear", "none"], "scores_max": {"empathy": 1}})
    (loaded,) = load_tips_file(_write(tmp_path, [tip]), "difficult-news")
    assert "nurse_name" in loaded["when"]["acts_none"] and "@empathic" not in loaded["when"]["acts_none"]
    assert loaded["recommends"] == ["perception_check"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"recommends": ["mind_reading"]}, "unknown act 'mind_reading'"),
        ({"when": {"acts_any": ["telepathy"]}}, "unknown act 'telepathy'"),
        ({"text": "  "}, "'text' must be non-empty"),
        ({"alternative": ""}, "'alternative' must be non-empty"),
        ({"recommends": []}, "'recommends' must name at least one act"),
        ({"when": {"moon_phase": "full"}}, "unknown conditions ['moon_phase']"),
        ({"when": {"emotion": ["glee"]}}, "unknown emotion ['glee']"),
        ({"when": {"cues_any": ["sarcasm"]}}, "unknown cue ['sarcasm']"),
        ({"persona": ["anxious"]}, "unknown persona ['anxious']"),
        ({"colour": "blue"}, "unknown keys ['colour']"),
        ({"when": {"acts_any": ["perception_check"]}}, "recommends only acts the reply must already have made"),
        ({"when": {"scores_max": {"kindness": 2}}}, "'when.scores_max'"),
    ],
)
def test_the_loader_rejects_bad_data_clearly(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    path = _write(tmp_path, [dict(_GOOD, **change)])
    with pytest.raises(TipsError) as err:
        load_tips_file(path, "difficult-news")
    assert message in str(err.value)
    assert str(path) in str(err.value) and "t1" in str(err.value)


def test_a_broken_tips_file_falls_back_to_generic_tips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import bot.scenarios.tips as tips_module

    _write(tmp_path, [dict(_GOOD, recommends=["mind_reading"])])
    monkeypatch.setattr(tips_module, "TIPS_DIR", tmp_path)
    assert scenario_tips(_scenario("difficult-news")) == ()
    assert "unknown act 'mind_reading'" in caplog.text
    _write(tmp_path, [_GOOD])
    assert [t["id"] for t in scenario_tips(_scenario("difficult-news"))] == ["t1"]


def test_the_loader_rejects_a_tip_that_gives_away_an_undeclared_concern(tmp_path: Path) -> None:
    spoiler = dict(_GOOD, text="Jo nursed her mum when she was fifteen; ask about that.")
    path = _write(tmp_path, [spoiler])
    with pytest.raises(TipsError) as err:
        load_tips_file(path, "difficult-news")
    message = str(err.value)
    assert (
        str(path) in message
        and "'t1'" in message
        and "mum_and_ellie" in message
        and "concern: mum_and_ellie" in message
    )
    # in the alternative too, and by a single telling pair of words
    with pytest.raises(TipsError, match="the_delay"):
        load_tips_file(
            _write(tmp_path, [dict(_GOOD, alternative="You waited from Easter till June, Jo?")]), "difficult-news"
        )
    # declared, it loads, and waits for the reveal
    (loaded,) = load_tips_file(_write(tmp_path, [dict(spoiler, concern="mum_and_ellie")]), "difficult-news")
    assert loaded["concern"] == "mum_and_ellie"
    # a declared concern does not excuse giving away another one
    with pytest.raises(TipsError, match="the_delay"):
        load_tips_file(
            _write(tmp_path, [dict(spoiler, concern="mum_and_ellie", alternative="You waited from Easter till June?")]),
            "difficult-news",
        )


def test_the_anxious_ray_spoiler_is_refused_undeclared(tmp_path: Path) -> None:
    """The tester's case: Christmases counted at three in the morning, in a tip that does not declare it."""
    tip = dict(
        _GOOD,
        persona=["anxious"],
        text="Ray has been counting Christmases on his own at three in the morning.",
        alternative="That sounds frightening, Ray.",
        recommends=["nurse_name"],
    )
    path = tmp_path / "attachment-heart-failure.yml"
    path.write_text(yaml.safe_dump({"scenario": "attachment-heart-failure", "tips": [tip]}), encoding="utf-8")
    personas = _scenario("attachment-heart-failure").personas
    with pytest.raises(TipsError, match="read_the_odds.*persona anxious"):
        load_tips_file(path, "attachment-heart-failure", personas)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"concern": "secret_twin"}, "unknown concern 'secret_twin'"),
        ({"concern": ""}, "'concern' must be one concern id"),
        ({"concern": ["mum_and_ellie", "the_delay"]}, "'concern' must be one concern id"),
    ],
)
def test_the_loader_rejects_an_unknown_concern(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    path = _write(tmp_path, [dict(_GOOD, **change)])
    with pytest.raises(TipsError) as err:
        load_tips_file(path, "difficult-news")
    assert message in str(err.value) and str(path) in str(err.value) and "t1" in str(err.value)


def test_a_persona_concern_must_belong_to_every_persona_the_tip_is_for(tmp_path: Path) -> None:
    path = tmp_path / "attachment-heart-failure.yml"
    personas = _scenario("attachment-heart-failure").personas

    def load(**change: Any) -> list[dict[str, Any]]:
        data = {"scenario": "attachment-heart-failure", "tips": [dict(_GOOD, **change)]}
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        return load_tips_file(path, "attachment-heart-failure", personas)

    with pytest.raises(TipsError, match="unknown concern 'read_the_odds' for avoidant"):
        load(concern="read_the_odds")
    with pytest.raises(TipsError, match="unknown concern 'read_the_odds' for avoidant"):
        load(concern="read_the_odds", persona=["avoidant"])
    assert load(concern="read_the_odds", persona=["anxious"])[0]["concern"] == "read_the_odds"


def test_the_loader_rejects_duplicate_ids_and_the_wrong_scenario(tmp_path: Path) -> None:
    with pytest.raises(TipsError, match="duplicate id"):
        load_tips_file(_write(tmp_path, [_GOOD, _GOOD]), "difficult-news")
    with pytest.raises(TipsError, match="expected 'difficult-news'"):
        load_tips_file(_write(tmp_path, [_GOOD], scenario="rescuer-trap"), "difficult-news")
    (tmp_path / "difficult-news.yml").write_text("tips: [unclosed", encoding="utf-8")
    with pytest.raises(TipsError, match="not valid YAML"):
        load_tips_file(tmp_path / "difficult-news.yml", "difficult-news")


# -- helpers: each scenario's own content words, derived from its own file ---------------------------------------


def _file_text(scenario_id: str) -> str:
    return Path(_scenario(scenario_id).path).read_text(encoding="utf-8").lower()


_WORD = re.compile(r"[a-z][a-z'-]{3,}")
_PROPER = re.compile(r"(?<![.!?:]\s)(?<!^)(?<=\s)([A-Z][a-z]{2,})")


def _story_terms() -> dict[str, set[str]]:
    """Per scenario, from its own file: the names of its people and places (capitalised words inside sentences of
    its setting, patient and hidden concerns), its jargon, its news keywords, and the words of its title and id that
    at most SHARED_BY scenario files use (its clinical story: "biopsy", "liver", "heart", "karela"). Its topic
    phrases are left out: they are what a trainee says ("matter to you", "on your own"), not the story."""
    texts = {s: _file_text(s) for s in library()}
    out: dict[str, set[str]] = {}
    for scenario_id in library():
        data = yaml.safe_load(Path(_scenario(scenario_id).path).read_text(encoding="utf-8"))
        story = [str(data.get("setting")), yaml.safe_dump(data.get("patient"), width=10_000)]
        story += [str(c.get("summary")) for c in data.get("concerns") or []]
        for persona in (data.get("personas") or {}).values():
            story += [yaml.safe_dump(persona.get("patient"), width=10_000)]
            story += [str(c.get("summary")) for c in persona.get("concerns") or []]
        names = {w.lower() for text in story for w in _PROPER.findall(text)}
        names |= {w.lower() for w in re.findall(r"[A-Za-z]{3,}", str(data["patient"]["name"]))}
        headline = set(_WORD.findall(f"{data.get('title')} {scenario_id.replace('-', ' ')}".lower()))
        terms = {t.strip("'-") for t in names | headline}
        terms = {t for t in terms if len(t) >= 3 and sum(_has(x, t) for x in texts.values()) <= SHARED_BY}
        terms |= {str(t).lower() for t in data.get("jargon") or []}
        terms |= {str(t).lower() for t in (data.get("news") or {}).get("keywords") or []}
        out[scenario_id] = terms
    return out


def _distinctive_words() -> dict[str, set[str]]:
    """Per scenario: its story terms that no other scenario file uses at all (for text that must fit any scenario)."""
    texts = {s: _file_text(s) for s in library()}
    return {
        s: {t for t in terms if sum(_has(x, t) for x in texts.values()) == 1} for s, terms in _story_terms().items()
    }


def _has(text: str, term: str) -> bool:
    return re.search(r"(?<![a-z])" + re.escape(term) + r"(?![a-z])", text) is not None


def _leaks(shown: str, terms: set[str], own_file: str) -> list[str]:
    """Terms of another scenario in the shown text that this scenario's own file does not use."""
    low = shown.lower().replace("\u2019", "'")
    return sorted(t for t in terms if _has(low, t) and not _has(own_file, t))


def _first_name(scenario: Scenario) -> str:
    name = str(scenario.patient.get("name", ""))
    nick = re.search(r"\((\w+)\)", name)
    return nick.group(1) if nick else name.split()[0]


def _address(scenario: Scenario) -> str:
    return "Mr " + str(scenario.patient.get("name", "")).split()[-1]
