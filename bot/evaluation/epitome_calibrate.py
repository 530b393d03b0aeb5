"""Calibrate the EPITOME heads: a reply model plus a sentence model taught by the coders' rationales.

Each mechanism (emotional reactions, interpretations, explorations) gets a reply-level model as before and,
when the data has rationale spans, a sentence-level model: a sentence that overlaps a rationale takes the
reply's level, every other sentence level 0. At scoring time each level's strongest sentence is blended into
the reply model's probabilities (``Head.pool``); the blend weight is chosen by an inner cross-validation on
the training side only (folds by seeker post). Rationales are used for training only: scoring needs only the
response and the seeker post.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.evaluation.calibrate import (
    C_EPITOME,
    FEATURES,
    Example,
    _base_nlp,
    _meta,
    _write,
    epitome_examples,
    epitome_specs,
    folds_by_group,
    with_heads,
)
from bot.evaluation.epitome import LEVELS, Pair
from bot.evaluation.evaluate import epitome_predictions, epitome_report
from bot.evaluation.metrics import macro_f1
from bot.scoring import linear
from bot.scoring.pipeline import Head
from bot.scoring.scorer import Scorer

log = logging.getLogger(__name__)

POOL_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # candidate blend weights, the smallest best one wins
INNER_FOLDS = 3
# The sentence model must earn its place: at least this much more inner macro-F1 than the reply model alone
# (inner folds hold few weak-level replies, so smaller gains are mostly noise).
POOL_MARGIN = 0.02
RATIONALE_SHARE = 0.5  # a sentence is in a rationale when this share of its words is in one span
_WORDS = re.compile(r"[a-z']+")


def _words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower()))


def in_rationale(sentence: str, rationales: Sequence[str]) -> bool:
    """Whether most of the sentence's words are in one rationale span."""
    mine = _words(sentence)
    return bool(mine) and any(len(mine & _words(span)) >= RATIONALE_SHARE * len(mine) for span in rationales)


class Rows:
    """One mechanism's pairs with their reply features and their sentence features and labels."""

    def __init__(self, pairs: Sequence[Pair], examples: Sequence[Example]) -> None:
        self.pairs = list(pairs)
        self.groups = [p.seeker_id for p in pairs]
        self.labels = [str(p.level) for p in pairs]
        self.reply = [linear.extract(e.text, FEATURES, context=e.context, acts=e.acts) for e in examples]
        self.sentences = [
            [linear.extract(s, FEATURES, context=p.seeker) for s in linear.split_sentences(p.response)] for p in pairs
        ]
        self.sentence_labels = [_sentence_labels(p) for p in pairs]
        self.has_rationales = any(p.rationales for p in pairs)


def _sentence_labels(pair: Pair) -> list[str] | None:
    """Each sentence's level (the reply's inside a rationale, else 0); None when a coded reply has no spans."""
    sentences = linear.split_sentences(pair.response)
    if pair.level and not pair.rationales:
        return None
    return [str(pair.level) if pair.level and in_rationale(s, pair.rationales) else "0" for s in sentences]


def fit_head(rows: Rows, idx: Sequence[int], spec: Mapping[str, Any], c: float, pool: float) -> Head:
    """A head on rows ``idx``: the reply model, and the sentence model when there are rationales and ``pool``."""
    model = linear.fit([rows.reply[i] for i in idx], [rows.labels[i] for i in idx], FEATURES, c=c)
    sentences = None
    if rows.has_rationales and pool > 0:
        feats, labels = [], []
        for i in idx:
            levels = rows.sentence_labels[i]
            if levels is not None:
                feats.extend(rows.sentences[i])
                labels.extend(levels)
        if len(set(labels)) > 1:
            sentences = linear.fit(feats, labels, FEATURES, c=c)
    return Head(model, spec["acts"], sentences=sentences, pool=pool if sentences else 0.0)


def choose_pool(rows: Rows, idx: Sequence[int], spec: Mapping[str, Any], c: float, seed: int) -> float:
    """The blend weight with the best macro-F1 over inner folds of ``idx`` (by seeker post)."""
    if not rows.has_rationales:
        return 0.0
    gold: list[str] = []
    scores: dict[float, list[str]] = {w: [] for w in POOL_WEIGHTS}
    for held in folds_by_group([rows.groups[i] for i in idx], INNER_FOLDS, seed):
        train = [i for i in idx if rows.groups[i] not in held]
        test = [i for i in idx if rows.groups[i] in held]
        head = fit_head(rows, train, spec, c, pool=1.0)
        for i in test:
            gold.append(rows.labels[i])
            reply = head.model.proba(rows.reply[i])
            pooled = head.sentence_proba(rows.sentences[i]) if head.sentences is not None else reply
            for w in POOL_WEIGHTS:
                scores[w].append(head.model.labels[int(np.argmax((1 - w) * reply + w * pooled))])
    levels = [str(v) for v in LEVELS]
    f1 = {w: macro_f1(gold, scores[w], levels) for w in POOL_WEIGHTS}
    best = max(POOL_WEIGHTS, key=lambda w: (round(f1[w], 6), -w))
    if f1[best] < f1[0.0] + POOL_MARGIN:
        best = 0.0
    log.info(
        "pool weight %.2f chosen by %d inner folds (macro-F1 %s)",
        best,
        INNER_FOLDS,
        ", ".join(f"{w}: {v:.3f}" for w, v in f1.items()),
    )
    return best


def train_head(rows: Rows, idx: Sequence[int], spec: Mapping[str, Any], c: float, seed: int) -> Head:
    """A head trained on ``idx``, its blend weight chosen by inner cross-validation on ``idx`` alone."""
    return fit_head(rows, idx, spec, c, choose_pool(rows, idx, spec, c, seed))


def calibrate_epitome(
    data: Mapping[str, Sequence[Pair]], out: Path, base: str | Path | None = None, folds: int = 5, source: str = ""
) -> dict[str, Any]:
    """Train one head per mechanism, write the model folder, and estimate by folds of seeker posts."""
    started = time.perf_counter()
    base_scorer = Scorer(nlp=_base_nlp(base))
    examples = epitome_examples(base_scorer, data)
    specs = epitome_specs(list(data))
    rows = {key: Rows(pairs, examples[key]) for key, pairs in data.items()}
    estimate = None
    if folds > 1:
        gold: dict[str, list[int]] = {}
        pred: dict[str, list[int]] = {}
        for key, pairs in data.items():
            for n, held in enumerate(folds_by_group(rows[key].groups, folds)):
                train = [i for i, g in enumerate(rows[key].groups) if g not in held]
                head = train_head(rows[key], train, specs[key], C_EPITOME, seed=n)
                scorer = Scorer(nlp=with_heads(_base_nlp(base), {key: head}, source))
                test = [p for p in pairs if p.seeker_id in held]
                gold.setdefault(key, []).extend(p.level for p in test)
                pred.setdefault(key, []).extend(epitome_predictions(scorer, test, key))
        estimate = epitome_report(gold, pred)
    heads = {key: train_head(rows[key], range(len(rows[key].pairs)), specs[key], C_EPITOME, seed=folds) for key in data}
    meta = _meta("epitome", source, sum(len(v) for v in data.values()), heads, folds, estimate, started)
    meta["pool"] = {key: head.pool for key, head in heads.items()}
    _write(with_heads(_base_nlp(base), heads, source), out, meta)
    return meta
