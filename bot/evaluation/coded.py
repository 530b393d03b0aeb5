"""The coded-replies benchmark (``benchmarks/coded-replies/``): items, two coders' codes, their agreement,
and the fixed split into a development part and a test part.

Items are (patient line, reply) pairs written for Rapport; two coders code every item blind and independently
(``CODING.md``): the acts the reply performs and the three dimension scores, 0-4 or null. Agreement is
reported per act (presence, as a yes/no judgement per item) and per dimension, with Cohen's kappa and Gwet's
AC1 (``bot.evaluation.metrics``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bot.evaluation.metrics import cohen_kappa, gwet_ac1
from bot.practice import misfit_acts
from bot.scenarios import get_scenario
from bot.scoring.linear import split_sentences
from bot.scoring.scorer import HARMFUL_ACTS, ScoringContext
from bot.scoring.taxonomy import NO_ACT

ROOT = Path(__file__).resolve().parents[2]
BENCHMARK_DIR = ROOT / "benchmarks" / "coded-replies"
DIMENSIONS = ("empathy", "collaboration", "shared_decision")
TEST_SHARE = 0.5


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """JSON lines, one object each; raises ValueError naming the file and line of a bad one."""
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or "id" not in row:
            raise ValueError(f"{path}:{number}: each line must be an object with an id")
        rows.append(row)
    return rows


def part(item_id: str) -> str:
    """``dev`` or ``test``, fixed by a hash of the id: the split never depends on order, content or codes."""
    digest = hashlib.sha256(f"rapport-coded-replies:{item_id}".encode()).digest()
    return "test" if digest[0] / 256 < TEST_SHARE else "dev"


def _acts(row: dict[str, Any]) -> set[str]:
    return {str(a) for a in row.get("acts") or []}


def agreement(first: Sequence[dict[str, Any]], second: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Agreement of two coders over the items both coded (matched by id).

    Returns ``{"items", "acts": {act: {"n_first", "n_second", "kappa", "ac1"}}, "acts_macro": {"kappa", "ac1"},
    "exact_act_sets", "dimensions": {dim: {"exact", "within_1", "kappa", "ac1"}}}``; shares are 0-1.
    """
    by_id = {row["id"]: row for row in second}
    pairs = [(row, by_id[row["id"]]) for row in first if row["id"] in by_id]
    if not pairs:
        raise ValueError("The two files have no item ids in common.")
    acts = sorted(set().union(*(_acts(a) | _acts(b) for a, b in pairs)))
    per_act = {}
    for act in acts:
        a = [act in _acts(x) for x, _ in pairs]
        b = [act in _acts(y) for _, y in pairs]
        per_act[act] = {
            "n_first": sum(a),
            "n_second": sum(b),
            "kappa": _r(cohen_kappa(a, b)),
            "ac1": _r(gwet_ac1(a, b)),
        }
    dims = {}
    for dim in DIMENSIONS:
        first_scores = [x.get(dim) for x, _ in pairs]
        second_scores = [y.get(dim) for _, y in pairs]
        scored = list(zip(first_scores, second_scores, strict=True))
        both = [(u, v) for u, v in scored if u is not None and v is not None]
        dims[dim] = {
            "exact": _r(sum(u == v for u, v in scored) / len(pairs)),
            "within_1": _r(sum(abs(u - v) <= 1 for u, v in both) / len(both)) if both else None,
            "kappa": _r(cohen_kappa(first_scores, second_scores)),
            "ac1": _r(gwet_ac1(first_scores, second_scores)),
        }
    return {
        "items": len(pairs),
        "acts": per_act,
        "acts_macro": {
            "kappa": _mean(v["kappa"] for v in per_act.values()),
            "ac1": _mean(v["ac1"] for v in per_act.values()),
        },
        "exact_act_sets": _r(sum(_acts(a) == _acts(b) for a, b in pairs) / len(pairs)),
        "dimensions": dims,
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(sum(kept) / len(kept), 3) if kept else None


# -- measuring a scorer against the gold codes -----------------------------------------------------------------
GOLD_FILE = BENCHMARK_DIR / "gold.jsonl"


def read_benchmark(folder: Path = BENCHMARK_DIR, gold: Path | None = None) -> list[dict[str, Any]]:
    """Items joined with their gold codes (``gold.jsonl``), each with its ``part`` (dev or test)."""
    items = [row for path in sorted(Path(folder).glob("items-*.jsonl")) for row in read_jsonl(path)]
    codes = {row["id"]: row for row in read_jsonl(gold or Path(folder) / "gold.jsonl")}
    joined = [{**item, "gold": codes[item["id"]], "part": part(item["id"])} for item in items if item["id"] in codes]
    if not joined:
        raise ValueError(f"No coded items in {folder}")
    return joined


def item_context(scorer: Any, item: dict[str, Any]) -> ScoringContext:
    """The conversation an item states, as the product would build it: the patient's line, the earlier
    replies and their acts, whether a decision is in play and the persona's misfit moves."""
    previous = tuple(str(t) for t in item.get("previous_replies") or [])
    scenario = get_scenario(str(item.get("scenario") or ""))
    return ScoringContext(
        patient_line=item.get("patient_line"),
        previous_replies=previous,
        previous_acts=tuple(a.name for text in previous for a in scorer.score(text).acts),
        decision_in_play=bool(item.get("decision_in_play")),
        misfit_acts=misfit_acts(scenario, item.get("persona")) if scenario else frozenset(),
    )


def evaluate_coded(scorer: Any, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The scorer against the coders on ``items``.

    Returns per-act precision, recall and F1 (acts present in the gold), act macro-F1, per dimension the share
    of items exactly equal to the gold and within 1 point (null counts as equal only to null), the number
    of replies given a harmful act (MITI non-adherent, rescuer, persecutor or one of the new harmful acts)
    that the coders did not find, and each rule's precision (acts the rules, not the classifier, marked).
    """
    predicted: list[set[str]] = []
    dims: list[dict[str, Any]] = []
    rule_hits: dict[str, list[bool]] = {}
    for item in items:
        result = scorer.score(item["reply"], context=item_context(scorer, item)).to_dict()
        predicted.append({a["act"] for a in result["acts"]})
        coded = {str(a) for a in item["gold"].get("acts") or []}
        for act in {a["act"] for a in result["acts"] if a["source"] == "rule"}:
            rule_hits.setdefault(act, []).append(act in coded)
        dims.append({d: result["dimensions"][d]["score"] for d in DIMENSIONS})
    gold_acts = [{str(a) for a in item["gold"].get("acts") or []} for item in items]
    acts = sorted(set().union(*gold_acts))
    per_act = {}
    for act in acts:
        tp = sum(act in g and act in p for g, p in zip(gold_acts, predicted, strict=True))
        fp = sum(act not in g and act in p for g, p in zip(gold_acts, predicted, strict=True))
        fn = sum(act in g and act not in p for g, p in zip(gold_acts, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        per_act[act] = {"precision": _r(precision), "recall": _r(recall), "f1": _r(f1), "support": tp + fn}
    dimension_report = {}
    for dim in DIMENSIONS:
        pairs = [(item["gold"].get(dim), row[dim]) for item, row in zip(items, dims, strict=True)]
        dimension_report[dim] = {
            "exact": _r(sum(g == p for g, p in pairs) / len(pairs)),
            "within_1": _r(
                sum(
                    (g is None and p is None) or (g is not None and p is not None and abs(g - p) <= 1) for g, p in pairs
                )
                / len(pairs)
            ),
        }
    wrongly_harmful = sum(bool((p - g) & HARMFUL_ACTS) for g, p in zip(gold_acts, predicted, strict=True))
    return {
        "items": len(items),
        "acts": per_act,
        "act_macro_f1": _mean(v["f1"] for v in per_act.values()),
        "dimensions": dimension_report,
        "penalised_for_a_harmful_act_not_coded": wrongly_harmful,
        "rule_precision": {
            act: {"precision": _r(sum(hits) / len(hits)), "fired": len(hits)} for act, hits in sorted(rule_hits.items())
        },
    }


_FORMS = frozenset({"open_question", "closed_question"})


def training_pairs(items: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(sentence, act) pairs for the act classifier from coded items of one sentence and one act.

    A question's form and a named feeling's reflection are added by the scorer's rules (CODING.md 4.6, 4.7),
    so they are dropped when the item has another act; an item with no act teaches ``no_act``. Only the
    development part may be passed here: the test part is never trained on.
    """
    if any(item.get("part") == "test" for item in items):
        raise ValueError("the test part of the coded-replies benchmark is never used for training")
    pairs: list[tuple[str, str]] = []
    for item in items:
        reply = str(item["reply"]).strip()
        if len(split_sentences(reply)) != 1:
            continue
        acts = {str(a) for a in item["gold"].get("acts") or []}
        if acts - _FORMS:
            acts -= _FORMS
        if "nurse_name" in acts:
            acts -= {"simple_reflection", "complex_reflection"}
        if not acts:
            pairs.append((reply, NO_ACT))
        elif len(acts) == 1:
            pairs.append((reply, acts.pop()))
    return pairs
