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
