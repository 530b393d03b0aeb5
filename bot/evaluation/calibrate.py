"""Calibrate the scorer on an institution's own coded data (AnnoMI or EPITOME format).

The shipped sentence classifier and the rules stay as they are; calibration adds ``rapport_codes``, reply-level
heads that learn the institution's codes from the reply, the line before it and the acts the rules and the
shipped classifier found. The result is a model folder for ``RAPPORT_SCORER_MODEL`` or ``--model``.
Training is deterministic; the cross-validated estimate uses folds by transcript (AnnoMI) or by seeker post
(EPITOME), so no conversation is in both the training and the test side of a fold.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import spacy
from spacy.language import Language

from bot.evaluation.annomi import Session, has_subtypes
from bot.evaluation.epitome import Pair
from bot.evaluation.evaluate import SessionRun, annomi_report, score_session
from bot.scoring import linear
from bot.scoring.pipeline import CodeModel, Head
from bot.scoring.scorer import DEFAULT_MODEL_DIR, Scorer

log = logging.getLogger(__name__)

FEATURES = linear.FeatureConfig(context=True, dense=True, context_scale=0.5)
SEED = 13
C_ANNOMI = 3.0
C_EPITOME = 3.0
# AnnoMI heads: word 3-grams and the previous line's 2-grams too, character 2-4-grams (as good as 2-5, faster),
# and NB-SVM log-count-ratio logits added to the logistic regression's; C stays C_ANNOMI (fixed a priori).
ANNOMI_FEATURES = linear.FeatureConfig(
    char_max=4, context=True, dense=True, context_scale=0.5, word_trigrams=True, context_bigrams=True
)

# What each AnnoMI code means in the product (docs/scoring.md). "other" has no act of its own.
ANNOMI_ACTS: dict[str, dict[str, list[str]]] = {
    "behaviour": {"reflection": [], "question": [], "therapist_input": [], "other": []},
    "reflection": {"simple": ["simple_reflection"], "complex": ["complex_reflection"]},
    "question": {"open": ["open_question"], "closed": ["closed_question"]},
    "input": {
        "information": ["give_information"],
        "advice": ["advise_without_permission"],
        "negotiation": ["team_talk"],
        "options": ["option_talk"],
    },
}
# Without subtype codes (the simple format) each behaviour stands for its most common act.
ANNOMI_PLAIN_ACTS = {"reflection": ["simple_reflection"], "question": [], "therapist_input": ["give_information"]}
# EPITOME levels as acts: warmth, understanding (generic or specific) and exploring (generic or specific).
EPITOME_ACTS: dict[str, dict[str, list[str]]] = {
    "er": {"0": [], "1": ["nurse_support"], "2": ["nurse_support"]},
    "ip": {"0": [], "1": ["nurse_understand"], "2": ["complex_reflection"]},
    "ex": {"0": [], "1": ["open_question"], "2": ["nurse_explore"]},
}


@dataclass(frozen=True)
class Example:
    """One coded reply with what the product knows when it scores it."""

    text: str
    context: str | None
    acts: tuple[str, ...]
    labels: Mapping[str, str]  # head -> code
    group: str  # transcript or seeker post: the unit of the cross-validation folds


def _base_nlp(base: str | Path | None) -> Language:
    nlp = spacy.load(Path(base) if base else DEFAULT_MODEL_DIR)
    if "rapport_codes" in nlp.pipe_names:
        nlp.remove_pipe("rapport_codes")
    return nlp


def _acts_found(scorer: Scorer, text: str) -> tuple[str, ...]:
    acts, _ = scorer.analyse(text)
    return tuple(sorted({a.name for a in acts}))


def annomi_examples(scorer: Scorer, sessions: Sequence[Session]) -> list[Example]:
    """Therapist utterances with their previous client utterance and the codes of each head."""
    out: list[Example] = []
    for session in sessions:
        context: str | None = None
        for utt in session.utterances:
            if utt.speaker != "therapist":
                context = utt.text
                continue
            if not utt.behaviour:
                continue
            labels = {"behaviour": utt.behaviour}
            if utt.behaviour == "reflection" and utt.reflection:
                labels["reflection"] = utt.reflection
            if utt.behaviour == "question" and utt.question:
                labels["question"] = utt.question
            if utt.behaviour == "therapist_input" and utt.inputs:
                labels["input"] = utt.inputs[0]
            out.append(Example(utt.text, context, _acts_found(scorer, utt.text), labels, session.transcript_id))
    return out


def epitome_examples(scorer: Scorer, data: Mapping[str, Sequence[Pair]]) -> dict[str, list[Example]]:
    """Responses with the seeker post as context, one list per mechanism."""
    return {
        key: [
            Example(p.response, p.seeker, _acts_found(scorer, p.response), {key: str(p.level)}, p.seeker_id)
            for p in pairs
        ]
        for key, pairs in data.items()
    }


def _features(ex: Example) -> linear.Features:
    return linear.extract(ex.text, FEATURES, context=ex.context, acts=ex.acts)


def train_heads(examples: Sequence[Example], specs: Mapping[str, dict[str, Any]], c: float) -> dict[str, Head]:
    """One head per spec, each trained on the examples that carry its code."""
    feats = [_features(ex) for ex in examples]
    heads: dict[str, Head] = {}
    for key, spec in specs.items():
        rows = [(f, ex.labels[key]) for f, ex in zip(feats, examples, strict=True) if key in ex.labels]
        if len({label for _, label in rows}) < 2:
            log.info("head %s skipped: fewer than two codes in the data", key)
            continue
        model = linear.fit([f for f, _ in rows], [label for _, label in rows], FEATURES, c=c)
        heads[key] = Head(model, spec["acts"], spec.get("replaces_model_acts", False), spec.get("gate"))
        log.info("head %s: %d examples, %d features", key, len(rows), len(model.vocab))
    return heads


def add_log_count_ratio(
    model: linear.LinearModel, feats: Sequence[linear.Features], labels: Sequence[str], c: float
) -> None:
    """Add NB-SVM (Wang & Manning 2012) one-vs-rest logits to ``model``: a logistic regression per code on the
    features scaled by their log-count ratio. The sum is still one linear model, so scoring costs the same."""
    from scipy.sparse import csr_matrix, diags
    from sklearn.linear_model import LogisticRegression

    indptr, indices, values = [0], [], []
    for f in feats:
        idx, vals = model.vector(f)
        indices.append(idx)
        values.append(vals)
        indptr.append(indptr[-1] + len(idx))
    matrix = csr_matrix((np.concatenate(values), np.concatenate(indices), indptr), shape=(len(feats), len(model.vocab)))
    present = matrix.copy()
    present.data = (present.data != 0).astype(np.float64)
    gold = np.array(labels)
    for column, label in enumerate(model.labels):
        mine = gold == label
        p = np.asarray(present[mine].sum(axis=0)).ravel() + 1.0
        q = np.asarray(present[~mine].sum(axis=0)).ravel() + 1.0
        ratio = np.log((p / p.sum()) / (q / q.sum()))
        clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(matrix @ diags(ratio), mine)
        model.weights[:, column] += clf.coef_[0] * ratio
        model.bias[column] += clf.intercept_[0]


def fit_annomi(feats: Sequence[linear.Features], labels: Sequence[str], c: float) -> linear.LinearModel:
    """Logistic regression plus NB-SVM logits on the AnnoMI features."""
    model = linear.fit(feats, labels, ANNOMI_FEATURES, c=c)
    add_log_count_ratio(model, feats, labels, c)
    return model


def train_annomi_heads(examples: Sequence[Example], specs: Mapping[str, dict[str, Any]]) -> dict[str, Head]:
    """One head per spec (LR + NB-SVM on ``ANNOMI_FEATURES``), each trained on the examples that carry its code."""
    feats = [linear.extract(ex.text, ANNOMI_FEATURES, context=ex.context, acts=ex.acts) for ex in examples]
    heads: dict[str, Head] = {}
    for key, spec in specs.items():
        rows = [i for i, ex in enumerate(examples) if key in ex.labels]
        labels = [examples[i].labels[key] for i in rows]
        if len(set(labels)) < 2:
            log.info("head %s skipped: fewer than two codes in the data", key)
            continue
        model = fit_annomi([feats[i] for i in rows], labels, C_ANNOMI)
        heads[key] = Head(model, spec["acts"], spec.get("replaces_model_acts", False), spec.get("gate"))
        log.info("head %s: %d examples, %d features", key, len(rows), len(model.vocab))
    return heads


def annomi_specs(subtypes: bool) -> dict[str, dict[str, Any]]:
    """Heads for an AnnoMI file: the behaviour, and the subtypes when the file has them (gated)."""
    behaviour = dict(ANNOMI_ACTS["behaviour"]) if subtypes else {**ANNOMI_ACTS["behaviour"], **ANNOMI_PLAIN_ACTS}
    specs: dict[str, dict[str, Any]] = {"behaviour": {"acts": behaviour, "replaces_model_acts": True}}
    if subtypes:
        specs["reflection"] = {"acts": ANNOMI_ACTS["reflection"], "gate": ("behaviour", "reflection")}
        specs["question"] = {"acts": ANNOMI_ACTS["question"], "gate": ("behaviour", "question")}
        specs["input"] = {"acts": ANNOMI_ACTS["input"], "gate": ("behaviour", "therapist_input")}
    return specs


def epitome_specs(keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {key: {"acts": EPITOME_ACTS[key]} for key in keys}


def with_heads(nlp: Language, heads: Mapping[str, Head], source: str) -> Language:
    """The base pipeline with a ``rapport_codes`` component holding these heads."""
    codes = nlp.add_pipe("rapport_codes", last=True)
    assert isinstance(codes, CodeModel)
    codes.heads = dict(heads)
    codes.source = source
    return nlp


def folds_by_group(groups: Sequence[str], k: int, seed: int = SEED) -> list[set[str]]:
    """Groups (transcripts, seeker posts) dealt into ``k`` folds in a seeded random order."""
    unique = sorted(set(groups))
    random.Random(seed).shuffle(unique)
    return [set(unique[i::k]) for i in range(k)]


def _write(nlp: Language, out: Path, meta: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    (out / "rapport_meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def calibrate_annomi(
    sessions: Sequence[Session], out: Path, base: str | Path | None = None, folds: int = 5, source: str = ""
) -> dict[str, Any]:
    """Train on every session, write the model folder, and estimate agreement by cross-validation."""
    started = time.perf_counter()
    base_scorer = Scorer(nlp=_base_nlp(base))
    examples = annomi_examples(base_scorer, sessions)
    specs = annomi_specs(has_subtypes(sessions))
    estimate = None
    if folds > 1:
        by_id = {s.transcript_id: s for s in sessions}
        runs: list[SessionRun] = []
        for held in folds_by_group([s.transcript_id for s in sessions], folds):
            heads = train_annomi_heads([e for e in examples if e.group not in held], specs)
            scorer = Scorer(nlp=with_heads(_base_nlp(base), heads, source))
            runs.extend(score_session(scorer, by_id[t]) for t in sorted(held))
        estimate = annomi_report(runs)
    heads = train_annomi_heads(examples, specs)
    meta = _meta("annomi", source, len(examples), heads, folds, estimate, started)
    _write(with_heads(_base_nlp(base), heads, source), out, meta)
    return meta


def calibrate_epitome(
    data: Mapping[str, Sequence[Pair]], out: Path, base: str | Path | None = None, folds: int = 5, source: str = ""
) -> dict[str, Any]:
    """Train one head per mechanism, write the model folder, and estimate by folds of seeker posts.

    The work is in ``bot.evaluation.epitome_calibrate`` (reply and rationale-taught sentence models).
    """
    from bot.evaluation.epitome_calibrate import calibrate_epitome as run

    return run(data, out, base, folds, source)


def _meta(
    kind: str,
    source: str,
    examples: int,
    heads: Mapping[str, Head],
    folds: int,
    estimate: dict[str, Any] | None,
    started: float,
) -> dict[str, Any]:
    return {
        "calibrated_on": kind,
        "source": source,
        "examples": examples,
        "heads": {k: h.model.labels for k, h in heads.items()},
        "seed": SEED,
        "cv_folds": folds if estimate else 0,
        "cv_estimate": estimate,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
