"""EPITOME calibration with rationale-taught sentence models (tiny made-up data, not rows of the real data)."""

from __future__ import annotations

from pathlib import Path

from bot.evaluation import mapping
from bot.evaluation.calibrate import _base_nlp, epitome_examples, with_heads
from bot.evaluation.epitome import Pair
from bot.evaluation.epitome_calibrate import Rows, calibrate_epitome, fit_head, in_rationale
from bot.scoring import Scorer
from bot.scoring.linear import split_sentences

STRONG = ("Thanks for sharing.", "What happened after you told her?", "What happened after you told her")
WEAK = ("Thanks for sharing.", "Why?", "Why?")
NONE = ("Thanks for sharing.", "Good luck with it.", "")


def _pairs(n: int = 36) -> list[Pair]:
    pairs = []
    for i in range(n):
        level = i % 3
        opener, body, span = (NONE, WEAK, STRONG)[level]
        rationales = (span,) if span else ()
        pairs.append(Pair(f"s{i // 2}", f"r{i}", f"My week was hard {i}.", f"{opener} {body}", level, rationales))
    return pairs


def test_sentences_and_rationale_overlap() -> None:
    assert split_sentences("Thanks. What happened?\nTell me more") == ["Thanks.", "What happened?", "Tell me more"]
    assert split_sentences("...") == ["..."]
    assert in_rationale("What happened after you told her?", ["What happened after you told her"])
    assert not in_rationale("Thanks for sharing.", ["What happened after you told her"])


def test_pooled_head_round_trips_and_scores(tmp_path: Path) -> None:
    pairs = _pairs()
    base = Scorer(nlp=_base_nlp(None))
    rows = Rows(pairs, epitome_examples(base, {"ex": pairs})["ex"])
    assert rows.sentence_labels[2] == ["0", "2"]
    head = fit_head(rows, range(len(pairs)), {"acts": {"0": [], "1": [], "2": []}}, c=3.0, pool=0.5)
    assert head.pooled and head.sentences is not None
    with_heads(_base_nlp(None), {"ex": head}, "test").to_disk(tmp_path / "model")
    loaded = Scorer(tmp_path / "model")
    assert loaded._codes is not None and loaded._codes.heads["ex"].pool == 0.5
    score = loaded.score("Thanks for sharing. What happened after you told her?", context="Hard week.")
    assert mapping.epitome_levels(score)["ex"] == 2


def test_calibrate_epitome_records_the_blend_weights(tmp_path: Path) -> None:
    data = {"ex": _pairs(), "er": _pairs()}
    meta = calibrate_epitome(data, tmp_path / "model", folds=2)
    assert set(meta["pool"]) == {"ex", "er"}
    assert all(w in (0.0, 0.25, 0.5, 0.75, 1.0) for w in meta["pool"].values())
    assert {"ex_macro_f1", "er_macro_f1"} <= set(meta["cv_estimate"])
