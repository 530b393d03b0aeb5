"""The session figure chosen by nested cross-validation: folds, no leakage, determinism, the CLI, the real file."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.evaluation.annomi import read_annomi
from bot.evaluation.evaluate import annomi_report, score_session
from bot.evaluation.metrics import auc
from bot.evaluation.session_figure import (
    CANDIDATES,
    FIXED,
    PRODUCT_FIGURE,
    SessionCounts,
    counts_from_runs,
    counts_from_scores,
    fit_logistic,
    nested_cv,
    select,
    session_figure_report,
    stratified_folds,
)
from bot.scoring import Scorer
from bot.scoring.summary import QUALITY_KEY, miti_metrics
from tests.test_evaluation import EVAL, synthetic_sessions, write_csv

ANNOMI = EVAL / "AnnoMI-full-dev.csv"


def _session(tid: int, high: bool, **counts: int) -> SessionCounts:
    base = dict(
        turns=20,
        coded=30,
        questions=8,
        open_questions=4,
        simple_reflections=5,
        complex_reflections=3,
        mi_adherent=1,
        mi_non_adherent=1,
        information=5,
    )
    base.update(counts)
    return SessionCounts(transcript_id=str(tid), high=high, product=None, **base)


def _dataset(n_high: int = 30, n_low: int = 10, seed: int = 0, signal: str = "open") -> list[SessionCounts]:
    """Sessions where only one count tells high from low (plus noise in the others)."""
    rng = random.Random(seed)
    out = []
    for i in range(n_high + n_low):
        high = i < n_high
        noise = {
            "simple_reflections": rng.randint(2, 8),
            "complex_reflections": rng.randint(1, 5),
            "information": rng.randint(2, 8),
        }
        if signal == "open":
            noise["open_questions"] = rng.randint(5, 8) if high else rng.randint(0, 3)
        out.append(_session(i, high, **noise))
    return out


# -- folds ----------------------------------------------------------------------------------------------------
def test_folds_split_by_transcript_stratified_and_seeded() -> None:
    sessions = _dataset(30, 10)
    folds = stratified_folds(sessions, 5, seed=3)
    ids = [tid for fold in folds for tid in fold]
    assert sorted(ids) == sorted(s.transcript_id for s in sessions)  # each transcript in exactly one fold
    high = {s.transcript_id for s in sessions if s.high}
    assert [sum(t not in high for t in fold) for fold in folds] == [2] * 5  # low quality spread evenly
    assert [len(fold) for fold in folds] == [8] * 5
    assert folds == stratified_folds(sessions, 5, seed=3)
    assert folds != stratified_folds(sessions, 5, seed=4)


# -- the choice never sees the outer test fold ----------------------------------------------------------------
def test_selector_only_sees_the_outer_training_transcripts() -> None:
    sessions = _dataset(30, 10)
    seen: list[set[str]] = []

    def spy(train: Sequence[SessionCounts], seed: int) -> str:
        seen.append({s.transcript_id for s in train})
        return select(train, seed)

    report = nested_cv(sessions, folds=5, repeats=2, seed=1, selector=spy)
    assert len(seen) == len(report["per_fold"]) == 10
    everyone = {s.transcript_id for s in sessions}
    for train_ids, row in zip(seen, report["per_fold"], strict=True):
        test_ids = set(row["test_transcripts"])
        assert not train_ids & test_ids
        assert train_ids | test_ids == everyone


def test_changing_the_test_fold_changes_its_score_but_not_its_choice() -> None:
    """A leaky procedure would pick the candidate that is perfect on the held-out sessions; nested CV does not."""
    sessions = _dataset(30, 10, signal="open")
    before = nested_cv(sessions, folds=5, repeats=1, seed=2)
    first = before["per_fold"][0]
    assert first["chosen"] == "percent_open" and first["auc"] == 1.0
    held = set(first["test_transcripts"])
    # On the held-out fold, open questions now point the wrong way and only complex reflections separate.
    flipped = [
        replace(
            s,
            open_questions=(0 if s.high else 8),
            complex_reflections=(5 if s.high else 0),
            simple_reflections=(3 if s.high else 8),
        )
        if s.transcript_id in held
        else s
        for s in sessions
    ]
    held_out = [s for s in flipped if s.transcript_id in held]
    assert auc([FIXED["percent_complex"][1](s) for s in held_out], [s.high for s in held_out]) == 1.0
    after = nested_cv(flipped, folds=5, repeats=1, seed=2)
    assert after["per_fold"][0]["test_transcripts"] == first["test_transcripts"]
    assert after["per_fold"][0]["chosen"] == "percent_open"
    assert after["per_fold"][0]["auc"] == 0.0
    # whereas choosing on the held-out fold itself would have picked another figure
    assert select(held_out, 0, folds=2) != "percent_open"


def test_nested_cv_is_deterministic_for_a_seed() -> None:
    sessions = _dataset(30, 10)
    one = nested_cv(sessions, folds=5, repeats=2, seed=7)
    assert one == nested_cv(sessions, folds=5, repeats=2, seed=7)
    other = nested_cv(sessions, folds=5, repeats=2, seed=8)
    assert [r["test_transcripts"] for r in one["per_fold"]] != [r["test_transcripts"] for r in other["per_fold"]]
    assert one["choices"] == {"percent_open": 10}
    assert one["fold_auc_mean"] == 1.0 and one["pooled_auc_mean"] == 1.0


# -- the candidates -------------------------------------------------------------------------------------------
def test_select_prefers_the_informative_figure_and_breaks_ties_by_order() -> None:
    assert select(_dataset(30, 10, signal="open"), 0) == "percent_open"
    same = [_session(i, i % 3 != 0) for i in range(30)]  # nothing tells them apart: every AUC is 0.5
    assert select(same, 0) == CANDIDATES[0].name


def test_logistic_regression_weights_the_share_that_separates() -> None:
    rng = random.Random(5)
    sessions = [
        _session(i, i < 20, complex_reflections=rng.randint(6, 9) if i < 20 else rng.randint(0, 3)) for i in range(28)
    ]
    loose, tight = fit_logistic(sessions, 10.0), fit_logistic(sessions, 0.1)
    assert max(range(len(loose.weights)), key=lambda i: loose.weights[i]) == 1  # complex_reflections
    assert auc([loose(s) for s in sessions], [s.high for s in sessions]) == 1.0
    assert sum(abs(w) for w in tight.weights) < sum(abs(w) for w in loose.weights)


def _act(name: str, sentence: int) -> dict[str, Any]:
    return {"act": name, "sentence": sentence}


def test_product_candidate_is_the_summary_figure() -> None:
    scores = [
        {"acts": [_act("simple_reflection", 0), _act("open_question", 1)]},
        {"acts": [_act("seek_collaboration", 0), _act("closed_question", 0)]},  # asking permission
        {"acts": [_act("advise_without_permission", 0), _act("give_information", 1)]},
        {"acts": [_act("complex_reflection", 0), _act("affirm_strength", 1), _act("persuade_warn", 2)]},
        {"acts": []},
    ]
    counts = counts_from_scores("t", True, scores)
    assert (counts.turns, counts.coded, counts.questions, counts.reflections) == (5, 9, 1, 2)
    # the report shows the chosen figure moved to 0-1 (1 + its value): the same order, so the same AUC
    assert counts.product == miti_metrics(scores)[QUALITY_KEY] == round(1 + FIXED[PRODUCT_FIGURE][1](counts), 3)


# -- command line and the real file ---------------------------------------------------------------------------
def test_cli_prints_a_table_then_one_json_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "s.csv", synthetic_sessions(n=8, turns=8))
    assert main(["eval", "session-figure", str(path), "--folds", "2", "--repeats", "2", "--seed", "4"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) > 5 and lines[0].startswith("sessions 8")
    report = json.loads(lines[-1])
    assert report["shipped"]["name"] in report["candidates"]
    assert report["scorer"]["model"] and report["scorer"]["fingerprint"]  # which model made the counts
    assert report["nested"]["folds"] == 2 and len(report["nested"]["per_fold"]) == 4
    assert {row["chosen"] for row in report["nested"]["per_fold"]} <= set(report["candidates"])
    assert main(["eval", "session-figure", str(path), "--folds", "2", "--repeats", "2", "--seed", "4", "--json"]) == 0
    only = capsys.readouterr().out.strip().splitlines()
    assert len(only) == 1 and json.loads(only[0]) == report
    assert main(["eval", "session-figure", str(tmp_path / "missing.csv")]) == 2


@pytest.mark.skipif(not ANNOMI.exists(), reason="AnnoMI development half not in ../shared/eval")
def test_on_the_annomi_development_half(scorer: Scorer) -> None:
    runs = [score_session(scorer, s) for s in read_annomi(ANNOMI)]
    counts = counts_from_runs(runs)
    assert (len(counts), sum(not c.high for c in counts)) == (67, 12)
    report = session_figure_report(counts, folds=5, repeats=3, seed=13)
    # the product's figure over these counts is the one `rapport eval annomi` measures
    assert report["product_apparent_auc"] == annomi_report(runs)["session_auc"]
    nested = report["nested"]
    assert len(nested["per_fold"]) == 15 and all(row["test_low"] in (2, 3) for row in nested["per_fold"])
    # floors a little under docs/scoring.md (nested 0.88-0.89 by fold and pooled with the shipped scorer;
    # the target, 0.92, is not met)
    assert nested["fold_auc_mean"] >= 0.85 and nested["pooled_auc_mean"] >= 0.85
