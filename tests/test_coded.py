"""The coded-replies benchmark tools: agreement statistics, the fixed split, and the files in the repository."""

from __future__ import annotations

import pytest

from bot.evaluation.coded import (
    BENCHMARK_DIR,
    agreement,
    evaluate_coded,
    part,
    read_benchmark,
    read_jsonl,
    training_pairs,
)
from bot.evaluation.metrics import cohen_kappa, gwet_ac1


def test_kappa_and_ac1_on_a_worked_two_by_two_table() -> None:
    # 50 items: both yes 20, A yes B no 5, A no B yes 10, both no 15 -> p_o 0.70
    a = [True] * 20 + [True] * 5 + [False] * 10 + [False] * 15
    b = [True] * 20 + [False] * 5 + [True] * 10 + [False] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)  # p_e = 0.5 * 0.6 + 0.5 * 0.4
    assert gwet_ac1(a, b) == pytest.approx((0.7 - 0.495) / 0.505)  # p_e = 2 * 0.55 * 0.45
    assert cohen_kappa([1, 1, 1], [1, 1, 1]) is None  # undefined when both use one category
    assert gwet_ac1([1, 1, 1], [1, 1, 1]) == pytest.approx(1.0)


def test_agreement_matches_items_by_id_and_counts_within_one() -> None:
    first = [
        {"id": "x1", "acts": ["open_question"], "empathy": None, "collaboration": 3, "shared_decision": None},
        {
            "id": "x2",
            "acts": ["nurse_name", "nurse_explore"],
            "empathy": 4,
            "collaboration": 3,
            "shared_decision": None,
        },
    ]
    second = [
        {
            "id": "x2",
            "acts": ["nurse_explore", "nurse_name"],
            "empathy": 3,
            "collaboration": 3,
            "shared_decision": None,
        },
        {"id": "x1", "acts": ["closed_question"], "empathy": None, "collaboration": 2, "shared_decision": None},
    ]
    report = agreement(first, second)
    assert report["items"] == 2 and report["exact_act_sets"] == 0.5
    assert report["dimensions"]["empathy"]["exact"] == 0.5 and report["dimensions"]["empathy"]["within_1"] == 1.0
    assert report["acts"]["nurse_name"]["n_first"] == 1
    with pytest.raises(ValueError, match="no item ids in common"):
        agreement(first, [{"id": "other"}])


def test_the_split_is_fixed_by_id_and_about_half() -> None:
    ids = [f"s{n:04d}" for n in range(1, 801)]
    parts = [part(i) for i in ids]
    assert parts == [part(i) for i in ids]
    assert 0.4 < parts.count("test") / len(parts) < 0.6


def test_benchmark_items_are_well_formed() -> None:
    items = [row for path in sorted(BENCHMARK_DIR.glob("items-*.jsonl")) for row in read_jsonl(path)]
    if not items:
        pytest.skip("no benchmark items in this checkout")
    assert len({row["id"] for row in items}) == len(items)
    for row in items:
        assert isinstance(row["patient_line"], str) and row["patient_line"].strip()
        assert isinstance(row["reply"], str) and row["reply"].strip()
        assert isinstance(row["previous_replies"], list) and isinstance(row["decision_in_play"], bool)


def test_evaluate_coded_counts_acts_dimensions_and_false_harms(scorer) -> None:  # type: ignore[no-untyped-def]
    from bot.evaluation.coded import evaluate_coded

    items = [
        {
            "id": "t1",
            "patient_line": "I'm scared it's cancer.",
            "reply": "It sounds like you're really frightened. What worries you most?",
            "previous_replies": [],
            "gold": {
                "acts": ["nurse_name", "nurse_explore"],
                "empathy": 4,
                "collaboration": 3,
                "shared_decision": None,
            },
        },
        {
            "id": "t2",
            "patient_line": "I don't know what to do.",
            "reply": "Don't worry, it'll all be fine.",
            "previous_replies": [],
            "gold": {"acts": ["premature_reassurance"], "empathy": 1, "collaboration": 1, "shared_decision": None},
        },
    ]
    report = evaluate_coded(scorer, items)
    assert report["items"] == 2
    assert set(report["acts"]) == {"nurse_name", "nurse_explore", "premature_reassurance"}
    assert report["acts"]["premature_reassurance"]["recall"] == 1.0
    assert 0 <= report["act_macro_f1"] <= 1
    assert set(report["dimensions"]) == {"empathy", "collaboration", "shared_decision"}
    items[0]["gold"]["acts"] = ["nurse_name"]
    items[1]["gold"]["acts"] = []  # the coders found no harm: the scorer's reassurance is now a false harm
    assert evaluate_coded(scorer, items)["penalised_for_a_harmful_act_not_coded"] == 1


def test_every_busy_rule_is_precise_on_the_development_part(scorer) -> None:  # type: ignore[no-untyped-def]
    """A rule under 90% precision on the development part is fixed or removed (scoring issue, item 3)."""
    dev = [item for item in read_benchmark() if item["part"] == "dev"]
    rules = evaluate_coded(scorer, dev)["rule_precision"]
    busy = {act: r["precision"] for act, r in rules.items() if r["fired"] >= 10}
    assert busy, "no rule fired ten times: the check would be empty"
    assert {act: p for act, p in busy.items() if p < 0.9} == {}


def test_the_test_part_is_never_training_data() -> None:
    items = read_benchmark()
    with pytest.raises(ValueError, match="never used for training"):
        training_pairs(items)
    pairs = training_pairs([i for i in items if i["part"] == "dev"])
    dev_replies = {str(i["reply"]).strip() for i in items if i["part"] == "dev"}
    assert pairs and all(text in dev_replies for text, _ in pairs)
