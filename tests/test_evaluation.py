"""Evaluation against human coders (AnnoMI, EPITOME) and calibration on coded data.

Unit tests use tiny CSVs written here (made up for these tests, not rows of the real data). The floor tests
run on ../shared/eval when it is there (always in CI) and skip with a message elsewhere.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from bot.cli import main
from bot.evaluation import mapping
from bot.evaluation.annomi import has_subtypes, read_annomi
from bot.evaluation.calibrate import (
    Example,
    _base_nlp,
    annomi_specs,
    calibrate_annomi,
    calibrate_epitome,
    folds_by_group,
    train_annomi_heads,
    with_heads,
)
from bot.evaluation.epitome import find_files, read_epitome
from bot.evaluation.evaluate import evaluate_annomi, evaluate_epitome
from bot.evaluation.metrics import auc, confusion, macro_f1, per_class_f1
from bot.scoring import Scorer
from bot.scoring.taxonomy import ACTS, ANNOMI_BEHAVIOUR

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
FULL = ["mi_quality", "transcript_id", "utterance_id", "interlocutor", "utterance_text", "annotator_id"]
FULL += ["reflection_subtype", "question_subtype", "therapist_input_subtype", "main_therapist_behaviour"]
FULL += ["client_talk_type"]
SIMPLE = ["transcript_id", "mi_quality", "utterance_id", "interlocutor", "utterance_text"]
SIMPLE += ["main_therapist_behaviour", "client_talk_type"]

# Made-up lines for synthetic sessions: (behaviour, subtype, text).
THERAPIST = [
    ("question", "open", "What would you like to be different about {}?"),
    ("question", "closed", "Did you manage to cut down on {} last week?"),
    ("reflection", "simple", "So you've been thinking about {} a lot."),
    ("reflection", "complex", "It sounds like part of you is tired of {} running the show."),
    ("therapist_input", "information", "The guideline says that {} raises your blood pressure over time."),
    ("other", None, "Mm-hmm."),
]
CLIENT = ["I don't know, {} is just part of my day.", "Yeah.", "I suppose {} is getting harder to ignore."]
TOPICS = ["smoking", "the drinking", "the late nights", "sugary drinks", "gambling", "skipping meals"]


def _row(tid: int, uid: int, who: str, text: str, **codes: str) -> dict[str, str]:
    row = {k: "n/a" for k in FULL}
    row.update(transcript_id=str(tid), utterance_id=str(uid), interlocutor=who, utterance_text=text)
    row.update(mi_quality="high" if tid % 2 == 0 else "low", annotator_id="1")
    row.update(codes)
    return row


def synthetic_sessions(n: int = 6, turns: int = 18, seed: int = 1) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for tid in range(n):
        uid = 0
        for _ in range(turns):
            topic = rng.choice(TOPICS)
            rows.append(_row(tid, uid, "client", rng.choice(CLIENT).format(topic), client_talk_type="neutral"))
            behaviour, sub, text = rng.choice(THERAPIST)
            codes = {"main_therapist_behaviour": behaviour}
            key = {"question": "question_subtype", "reflection": "reflection_subtype"}.get(behaviour)
            if key and sub:
                codes[key] = sub
            if behaviour == "therapist_input":
                codes["therapist_input_subtype"] = "information"
            rows.append(_row(tid, uid + 1, "therapist", text.format(topic), **codes))
            uid += 2
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], fields: list[str] = FULL) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


# -- readers ------------------------------------------------------------------------------------------------
def test_annomi_keeps_the_majority_annotation_in_utterance_order(tmp_path: Path) -> None:
    rows = [
        _row(
            3, 2, "therapist", "You want a change.", main_therapist_behaviour="reflection", reflection_subtype="simple"
        ),
        _row(3, 0, "therapist", "How are things?", main_therapist_behaviour="question", question_subtype="open"),
        _row(3, 1, "client", "Not great.", client_talk_type="neutral"),
    ]
    # Utterance 2 coded by three annotators: two say reflection, one says question.
    rows.append({**rows[0], "annotator_id": "0", "main_therapist_behaviour": "question", "reflection_subtype": "n/a"})
    rows.append({**rows[0], "annotator_id": "7", "reflection_subtype": "complex"})
    sessions = read_annomi(write_csv(tmp_path / "a.csv", rows))
    assert len(sessions) == 1
    utts = sessions[0].utterances
    assert [u.utterance_id for u in utts] == [0, 1, 2]
    assert utts[2].behaviour == "reflection"
    assert utts[2].reflection == "simple"  # the first annotator (lowest id) who gave the majority code
    assert utts[1].talk_type == "neutral" and utts[1].behaviour is None
    assert sessions[0].quality == "low"
    assert has_subtypes(sessions)


def test_annomi_simple_format_and_bad_files(tmp_path: Path) -> None:
    rows = synthetic_sessions(n=2, turns=3)
    sessions = read_annomi(write_csv(tmp_path / "simple.csv", rows, SIMPLE))
    assert len(sessions) == 2 and not has_subtypes(sessions)
    with pytest.raises(ValueError, match="utterance_text"):
        read_annomi(write_csv(tmp_path / "bad.csv", rows, ["transcript_id", "utterance_id", "interlocutor"]))


def _epitome_dir(folder: Path, n: int = 40) -> Path:
    folder.mkdir(exist_ok=True)
    samples = {
        "emotional-reactions": ("I'm so sorry you're going through this, that sounds awful.", "Have you tried yoga?"),
        "interpretations": ("It must feel lonely when nobody seems to notice.", "Exams are in June."),
        "explorations": ("What happened after you told her?", "Good luck with it."),
    }
    for name, (strong, none) in samples.items():
        with open(folder / f"epitome-{name}-x.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["sp_id", "rp_id", "seeker_post", "response_post", "level", "rationales"])
            for i in range(n):
                level = i % 3
                text = strong if level == 2 else none if level == 0 else strong.split(",")[0] + "."
                writer.writerow([f"s{i // 2}", f"r{i}", f"My week has been hard, post {i}.", text, level, ""])
    return folder


def test_epitome_files_are_found_by_name(tmp_path: Path) -> None:
    folder = _epitome_dir(tmp_path / "epi", n=6)
    data = read_epitome(folder)
    assert set(data) == {"er", "ip", "ex"}
    assert [p.level for p in data["er"]] == [0, 1, 2, 0, 1, 2]
    (folder / "epitome-explorations-x.csv").unlink()
    with pytest.raises(FileNotFoundError, match="explorations"):
        find_files(folder)


# -- metrics and mapping ------------------------------------------------------------------------------------
def test_metrics_on_hand_counted_cases() -> None:
    gold = ["a", "a", "b", "b", "c"]
    pred = ["a", "b", "b", "b", "a"]
    # a: tp 1, fp 1, fn 1 -> 0.5; b: tp 2, fp 1 -> 0.8; c: 0
    assert per_class_f1(gold, pred, ["a", "b", "c"]) == {"a": 0.5, "b": 0.8, "c": 0.0}
    assert macro_f1(gold, pred, ["a", "b", "c"]) == pytest.approx(1.3 / 3)
    assert confusion(gold, pred, ["a", "b", "c"]) == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert auc([0.9, 0.8, 0.1], [True, True, False]) == 1.0
    assert auc([0.1, 0.9], [True, False]) == 0.0
    assert auc([0.5, 0.5], [True, False]) == 0.5
    assert auc([0.5], [True]) is None


def test_every_act_has_an_annomi_behaviour() -> None:
    assert set(ANNOMI_BEHAVIOUR) == set(ACTS)
    assert set(ANNOMI_BEHAVIOUR.values()) == {"reflection", "question", "therapist_input", "other"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What would you like to be different?", "question"),
        ("Mm-hmm.", "other"),
        ("So you've been drinking more since the job went.", "reflection"),
        ("So you're not sure it's worth it?", "reflection"),
        ("The guideline is no more than fourteen units a week, spread over several days.", "therapist_input"),
    ],
)
def test_behaviour_of_a_reply(scorer: Scorer, text: str, expected: str) -> None:
    assert mapping.behaviour(scorer.score(text)) == expected


def test_codes_of_a_calibrated_model_decide(scorer: Scorer) -> None:
    score = scorer.score("Mm-hmm.")
    score.codes = {"behaviour": "reflection", "reflection": "complex", "er": "2"}
    assert mapping.behaviour(score) == "reflection"
    assert mapping.reflection_subtype(score) == "complex"
    assert mapping.epitome_levels(score)["er"] == 2


def test_epitome_levels_from_acts(scorer: Scorer) -> None:
    levels = mapping.epitome_levels(scorer.score("What's worrying you most about it?"))
    assert levels["ex"] == 2
    assert mapping.epitome_levels(scorer.score("The clinic opens at nine."))["ex"] == 0


def test_folds_keep_each_group_whole_and_are_seeded() -> None:
    groups = [str(i % 7) for i in range(50)]
    folds = folds_by_group(groups, 3)
    assert set().union(*folds) == set(groups)
    assert sum(len(f) for f in folds) == 7
    assert folds == folds_by_group(groups, 3)


def test_annomi_heads_keep_their_gates_on_disk(tmp_path: Path) -> None:
    lines = {
        "reflection": "So you feel stuck at work",
        "question": "What would help you most",
        "therapist_input": "The clinic opens at nine on weekdays",
        "other": "Mm-hmm",
    }
    examples = [
        Example(
            f"{line} {i}.",
            "I don't know.",
            (),
            {"behaviour": code, **({"reflection": ("simple", "complex")[i % 2]} if code == "reflection" else {})},
            str(i % 3),
        )
        for i in range(6)
        for code, line in lines.items()
    ]
    heads = train_annomi_heads(examples, annomi_specs(True))
    assert heads["behaviour"].model.config.word_trigrams
    with_heads(_base_nlp(None), heads, "test").to_disk(tmp_path / "m")
    loaded = Scorer(tmp_path / "m").nlp.get_pipe("rapport_codes").heads
    assert loaded["behaviour"].gate is None
    assert loaded["reflection"].gate == ("behaviour", "reflection")  # a subtype is only given to its behaviour


# -- command line -------------------------------------------------------------------------------------------
def test_eval_annomi_json_last_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "s.csv", synthetic_sessions(n=4, turns=6))
    assert main(["eval", "annomi", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    keys = {"macro_f1", "per_class_f1", "reflection_subtype_f1", "question_subtype_f1", "session_auc"}
    assert keys | {"utterances_per_s"} <= set(report)
    assert report["utterances"] == 24 and 0.0 <= report["macro_f1"] <= 1.0
    assert set(report["per_class_f1"]) == {"reflection", "question", "therapist_input", "other"}


def test_eval_epitome_json_and_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _epitome_dir(tmp_path / "epi", n=6)
    assert main(["eval", "epitome", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"er_macro_f1", "ip_macro_f1", "ex_macro_f1"} <= set(report)
    assert main(["eval", "epitome", str(tmp_path / "nowhere")]) == 2


# -- calibration --------------------------------------------------------------------------------------------
def test_calibrated_annomi_model_is_used_and_reproducible(tmp_path: Path, scorer: Scorer) -> None:
    sessions = read_annomi(write_csv(tmp_path / "s.csv", synthetic_sessions()))
    meta = calibrate_annomi(sessions, tmp_path / "m1", folds=2)
    again = calibrate_annomi(sessions, tmp_path / "m2", folds=2)
    assert meta["cv_estimate"]["macro_f1"] == again["cv_estimate"]["macro_f1"]
    for name in ("behaviour.npz", "behaviour.json", "heads.json"):
        first = (tmp_path / "m1" / "rapport_codes" / name).read_bytes()
        assert first == (tmp_path / "m2" / "rapport_codes" / name).read_bytes(), name
    calibrated = Scorer(tmp_path / "m1")
    result = calibrated.score("So you've been thinking about gambling a lot.", context="Yeah.")
    assert result.codes["behaviour"] == "reflection"
    assert result.to_dict()["codes"] == result.codes
    # Rule-based cues and act phrases still work on top of the calibrated model.
    reassured = calibrated.score("Don't worry, the carcinoma is small.")
    assert "premature_reassurance" in reassured.act_names
    assert "jargon" in reassured.cue_names
    # Evaluating the calibrated model on its own training data agrees far better than chance.
    assert evaluate_annomi(calibrated, sessions)["macro_f1"] >= 0.9
    assert "codes" not in scorer.score("So you've been thinking about gambling a lot.").to_dict()


def test_calibrate_cli_prints_the_estimate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _epitome_dir(tmp_path / "epi")
    out = tmp_path / "model"
    assert main(["calibrate", "epitome", str(folder), "--out", str(out), "--folds", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert any("Cross-validated estimate" in line for line in lines)
    assert {"er_macro_f1", "ip_macro_f1", "ex_macro_f1"} <= set(json.loads(lines[-1]))
    levels = mapping.epitome_levels(Scorer(out).score("What happened after you told her?", context="Hard week."))
    assert levels["ex"] == 2


# -- floors on the development data (../shared/eval) --------------------------------------------------------
needs_data = pytest.mark.skipif(
    not (EVAL / "AnnoMI-full-dev.csv").exists(),
    reason=f"evaluation data not found at {EVAL} (it is always there in CI)",
)


@needs_data
def test_floors_shipped_model_on_annomi(scorer: Scorer) -> None:
    report = evaluate_annomi(scorer, read_annomi(EVAL / "AnnoMI-full-dev.csv"))
    assert report["utterances"] == 2606
    # 0.679 before the scoring issue; 0.632 since: the acts AnnoMI files under "other" grew (minimal
    # encouragers, dismissing, self-disclosure) and the fallback rules that called any "you" statement a
    # reflection and any long one information were removed for their poor precision on unfamiliar text.
    assert report["macro_f1"] >= 0.62
    # Apparent AUC of the shipped session figure (0.920) on the half it was chosen on; its nested estimate,
    # 0.894, is in docs/scoring.md (rapport eval session-figure).
    assert report["session_auc"] >= 0.90
    assert report["question_subtype_f1"] >= 0.55
    assert report["utterances_per_s"] >= 300  # shared CI machine; ~1,000-1,700 measured on a quiet core


@needs_data
def test_floors_shipped_model_on_epitome(scorer: Scorer) -> None:
    report = evaluate_epitome(scorer, read_epitome(EVAL))
    assert report["er_macro_f1"] >= 0.30
    assert report["ex_macro_f1"] >= 0.40


@needs_data
def test_floors_calibration_estimates(tmp_path: Path) -> None:
    meta = calibrate_annomi(read_annomi(EVAL / "AnnoMI-full-dev.csv"), tmp_path / "annomi", folds=5)
    assert meta["cv_estimate"]["macro_f1"] >= 0.725
    epi = calibrate_epitome(read_epitome(EVAL), tmp_path / "epitome", folds=5)["cv_estimate"]
    assert epi["er_macro_f1"] >= 0.70
    assert epi["ip_macro_f1"] >= 0.50
    assert epi["ex_macro_f1"] >= 0.62
