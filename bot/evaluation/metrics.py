"""Agreement metrics: per-class and macro F1, confusion matrices and a rank-based AUC (no scikit-learn)."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def f1(gold: Sequence[object], pred: Sequence[object], label: object) -> float:
    """F1 of one class; 0.0 when the class is neither in the gold nor predicted."""
    pairs = list(zip(gold, pred, strict=True))
    tp = sum(g == label and p == label for g, p in pairs)
    fp = sum(p == label and g != label for g, p in pairs)
    fn = sum(g == label and p != label for g, p in pairs)
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def per_class_f1(gold: Sequence[object], pred: Sequence[object], labels: Sequence[object]) -> dict[str, float]:
    return {str(label): round(f1(gold, pred, label), 4) for label in labels}


def macro_f1(gold: Sequence[object], pred: Sequence[object], labels: Sequence[object] | None = None) -> float:
    """Unweighted mean of the per-class F1 over ``labels`` (default: the classes present in the gold)."""
    chosen = list(labels) if labels is not None else sorted(set(gold), key=str)
    if not chosen:
        return 0.0
    return sum(f1(gold, pred, label) for label in chosen) / len(chosen)


def accuracy(gold: Sequence[object], pred: Sequence[object]) -> float:
    pairs = list(zip(gold, pred, strict=True))
    return sum(g == p for g, p in pairs) / len(pairs) if pairs else 0.0


def confusion(gold: Sequence[object], pred: Sequence[object], labels: Sequence[object]) -> list[list[int]]:
    """Rows are gold labels, columns predicted labels, both in the order of ``labels``."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred, strict=True):
        if g in index and p in index:
            matrix[index[g]][index[p]] += 1
    return matrix


def auc(scores: Sequence[float], positives: Sequence[bool]) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties count half); None without both classes."""
    pos = [s for s, y in zip(scores, positives, strict=True) if y]
    neg = [s for s, y in zip(scores, positives, strict=True) if not y]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def _chance_corrected(
    a: Sequence[object], b: Sequence[object], chance: Callable[[list[float], list[float]], float]
) -> float | None:
    """(p_o - p_e) / (1 - p_e), with p_e from each rater's share of each category; None when undefined."""
    pairs = list(zip(a, b, strict=True))
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(x == y for x, y in pairs) / n
    categories = {x for x, _ in pairs} | {y for _, y in pairs}
    first = [sum(x == c for x, _ in pairs) / n for c in categories]
    second = [sum(y == c for _, y in pairs) / n for c in categories]
    expected = chance(first, second)
    return None if expected >= 1.0 else (observed - expected) / (1 - expected)


def cohen_kappa(a: Sequence[object], b: Sequence[object]) -> float | None:
    """Cohen's kappa for two raters on nominal categories (Cohen 1960): p_e = sum_k p_k(A) p_k(B).

    None when undefined (no items, or chance agreement is 1 because both raters used one category only)."""
    return _chance_corrected(a, b, lambda first, second: sum(p * q for p, q in zip(first, second, strict=True)))


def gwet_ac1(a: Sequence[object], b: Sequence[object]) -> float | None:
    """Gwet's AC1 for two raters (Gwet 2008, Br J Math Stat Psychol 61:29-48): like kappa, but chance agreement
    is sum_k pi_k (1 - pi_k) / (Q - 1) with pi_k the mean share of category k, so it stays stable when one
    category dominates (rare acts). Q counts the categories either rater used (at least 2)."""

    def chance(first: list[float], second: list[float]) -> float:
        pis = [(p + q) / 2 for p, q in zip(first, second, strict=True)]
        return sum(p * (1 - p) for p in pis) / (max(len(pis), 2) - 1)

    return _chance_corrected(a, b, chance)
