"""Train the scorer's act classifier on NLU examples written for this project.

The examples live in Rasa NLU YAML (``data/nlu``) so the Rasa intents and the scorer share one taxonomy;
this module reads that YAML itself and never imports Rasa. The classifier is ``rapport_acts``: logistic
regression over word and character n-grams (``bot.scoring.linear``), which is deterministic, so the same data
gives the same model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import spacy
import yaml

from bot.scoring import linear
from bot.scoring.pipeline import ActModel, blank_pipeline
from bot.scoring.taxonomy import CLINICAL_ACTS, NO_ACT

# What the classifier learns: every clinical act, and sentences with none of them (hard negatives).
TRAINING_LABELS: tuple[str, ...] = (*CLINICAL_ACTS, NO_ACT)

log = logging.getLogger(__name__)
_ENTITY = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def read_nlu_examples(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(text, intent) pairs from Rasa NLU YAML files, entity markup stripped."""
    pairs: list[tuple[str, str]] = []
    for path in sorted(paths):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            intent = block.get("intent")
            if not intent:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    pairs.append((_ENTITY.sub(r"\1", line[2:].strip()), intent))
    return pairs


def nlu_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.rglob("*.yml") if p.is_file())


def data_fingerprint(files: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    digest.update(Path(linear.__file__).read_bytes())
    return digest.hexdigest()[:16]


# The sentence classifier's settings: no context features, because the NLU examples are single replies.
ACT_FEATURES = linear.FeatureConfig(context=False, dense=False)
ACT_C = 10.0
# Features seen in only one example are dropped: they rarely generalise and they slow every prediction.
ACT_MIN_DF = 2


def train_act_model(
    pairs: Sequence[tuple[str, str]],
    labels: Sequence[str] = TRAINING_LABELS,
    epochs: int = 12,
    seed: int = 13,
) -> spacy.language.Language:
    """Fit the act classifier on the given pairs; pairs whose label is not in ``labels`` are ignored.

    ``epochs`` and ``seed`` are kept for the command line: the solver is deterministic and runs to convergence.
    """
    wanted = set(labels)
    kept = [(text, intent) for text, intent in pairs if intent in wanted]
    if not kept:
        raise ValueError("no training examples for the scorer's act labels")
    feats = [linear.extract(text, ACT_FEATURES) for text, _ in kept]
    model = linear.fit(
        feats, [intent for _, intent in kept], ACT_FEATURES, c=ACT_C, min_df=ACT_MIN_DF, label_order=labels
    )
    nlp = blank_pipeline(with_acts=True)
    component = nlp.get_pipe("rapport_acts")
    assert isinstance(component, ActModel)
    component.model = model
    log.info("act classifier: %d examples, %d features", len(kept), len(model.vocab))
    return nlp


def train_from_dir(
    data_dirs: Path | Sequence[Path],
    out_dir: Path,
    epochs: int = 12,
    seed: int = 13,
    extra: Sequence[tuple[str, str]] = (),
    extra_files: Sequence[Path] = (),
) -> dict[str, object]:
    """Train on every NLU YAML file under the folders, plus ``extra`` (text, act) pairs read from
    ``extra_files`` by the caller, and write a model folder; returns its metadata."""
    folders = [data_dirs] if isinstance(data_dirs, Path) else list(data_dirs)
    files = [f for folder in folders for f in nlu_files(folder)]
    pairs = read_nlu_examples(files) + list(extra)
    started = time.perf_counter()
    nlp = train_act_model(pairs, epochs=epochs, seed=seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir)
    meta = {
        "fingerprint": data_fingerprint([*files, *extra_files]),
        "examples": sum(1 for _, intent in pairs if intent in TRAINING_LABELS),
        "labels": list(TRAINING_LABELS),
        "classifier": "rapport_acts (logistic regression, word 1-2-grams + char 2-5-grams)",
        "seed": seed,
        "train_seconds": round(time.perf_counter() - started, 2),
        "source": [str(f) for f in [*folders, *extra_files]],
    }
    (out_dir / "rapport_meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return meta


def cross_validate(
    pairs: Sequence[tuple[str, str]], folds: int = 5, epochs: int = 12, seed: int = 13
) -> dict[str, Any]:
    """Folds stratified by act: the classifier alone (top act) and the whole scorer (act among those found)."""
    from bot.scoring.scorer import Scorer

    rng = random.Random(seed)
    by_act: dict[str, list[tuple[str, str]]] = {}
    for pair in pairs:
        if pair[1] in TRAINING_LABELS:
            by_act.setdefault(pair[1], []).append(pair)
    fold_of: list[list[tuple[str, str]]] = [[] for _ in range(folds)]
    for items in by_act.values():
        items = sorted(items)
        rng.shuffle(items)
        for i, pair in enumerate(items):
            fold_of[i % folds].append(pair)
    gold: list[str] = []
    top: list[str] = []
    found_hits = 0
    for k in range(folds):
        train = [p for j, f in enumerate(fold_of) if j != k for p in f]
        nlp = train_act_model(train, epochs=epochs, seed=seed)
        scorer = Scorer(nlp=nlp)
        classifier = nlp.get_pipe("rapport_acts")
        assert isinstance(classifier, ActModel)
        for text, act in fold_of[k]:
            gold.append(act)
            top.append(classifier.predict(text)[0])
            found_hits += act in scorer.score(text).act_names
    return {
        "folds": folds,
        "examples": len(gold),
        "classifier_macro_f1": round(_macro_f1(gold, top), 3),
        "classifier_accuracy": round(sum(g == t for g, t in zip(gold, top, strict=False)) / len(gold), 3),
        "scorer_act_recall": round(found_hits / len(gold), 3),
        "per_act_f1": {a: round(_f1(gold, top, a), 3) for a in TRAINING_LABELS},
    }


def _f1(gold: Sequence[str], pred: Sequence[str], label: str) -> float:
    tp = sum(g == p == label for g, p in zip(gold, pred, strict=False))
    fp = sum(p == label and g != label for g, p in zip(gold, pred, strict=False))
    fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=False))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def _macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    labels = sorted(set(gold))
    return sum(_f1(gold, pred, label) for label in labels) / len(labels)
