"""Run the scorer over human-coded data and measure agreement: AnnoMI behaviours and EPITOME levels."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.evaluation import mapping
from bot.evaluation.annomi import BEHAVIOURS, Session, has_subtypes
from bot.evaluation.epitome import LEVELS, Pair
from bot.evaluation.metrics import accuracy, auc, confusion, macro_f1, per_class_f1
from bot.scoring.scorer import Scorer, TurnScore
from bot.scoring.summary import QUALITY_KEY, summarise_session

log = logging.getLogger(__name__)


@dataclass
class SessionRun:
    """The scorer's verdicts on one transcript's therapist turns, in order."""

    session: Session
    scores: list[TurnScore] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The product's own session summary (as in the report) over the scored turns."""
        turns = [{"index": i, "text": "", "score": s.to_dict()} for i, s in enumerate(self.scores)]
        return summarise_session(turns)


def score_session(scorer: Scorer, session: Session) -> SessionRun:
    """Score each therapist utterance with the client's previous utterance as its context."""
    run = SessionRun(session)
    context: str | None = None
    started = time.perf_counter()
    for utt in session.utterances:
        if utt.speaker != "therapist":
            context = utt.text
            continue
        run.scores.append(scorer.score(utt.text, context=context))
    run.seconds = time.perf_counter() - started
    return run


def annomi_report(runs: Sequence[SessionRun]) -> dict[str, Any]:
    """Behaviour F1s, confusion matrix, subtype F1s, session AUC and speed over scored sessions."""
    gold: list[str] = []
    pred: list[str] = []
    refl_gold: list[str] = []
    refl_pred: list[str] = []
    q_gold: list[str] = []
    q_pred: list[str] = []
    for run in runs:
        for utt, score in zip(run.session.therapist, run.scores, strict=True):
            if utt.behaviour not in BEHAVIOURS:
                continue
            gold.append(utt.behaviour)
            pred.append(mapping.behaviour(score))
            if utt.behaviour == "reflection" and utt.reflection:
                refl_gold.append(utt.reflection)
                refl_pred.append(mapping.reflection_subtype(score) or "none")
            if utt.behaviour == "question" and utt.question:
                q_gold.append(utt.question)
                q_pred.append(mapping.question_subtype(score) or "none")
    labels = list(BEHAVIOURS)
    subtypes = has_subtypes([r.session for r in runs])
    quality = [(r.summary()["miti"].get(QUALITY_KEY), r.session.quality) for r in runs if r.session.quality]
    scored = [(q if q is not None else 0.0, gold_q == "high") for q, gold_q in quality]
    session_auc = auc([s for s, _ in scored], [y for _, y in scored])
    seconds = sum(r.seconds for r in runs)
    return {
        "utterances": len(gold),
        "sessions": len(runs),
        "macro_f1": round(macro_f1(gold, pred, labels), 4),
        "accuracy": round(accuracy(gold, pred), 4),
        "per_class_f1": per_class_f1(gold, pred, labels),
        "confusion": {"labels": labels, "rows_gold_columns_predicted": confusion(gold, pred, labels)},
        "reflection_subtype_f1": round(macro_f1(refl_gold, refl_pred, ["simple", "complex"]), 4)
        if subtypes and refl_gold
        else None,
        "question_subtype_f1": round(macro_f1(q_gold, q_pred, ["open", "closed"]), 4) if subtypes and q_gold else None,
        "session_auc": round(session_auc, 4) if session_auc is not None else None,
        "session_score": QUALITY_KEY,
        "utterances_per_s": round(len(gold) / seconds, 1) if seconds else None,
    }


def evaluate_annomi(scorer: Scorer, sessions: Sequence[Session]) -> dict[str, Any]:
    """Score every session and report agreement with the human codes."""
    return annomi_report([score_session(scorer, s) for s in sessions])


def epitome_predictions(scorer: Scorer, pairs: Sequence[Pair], key: str) -> list[int]:
    """The scorer's level for one mechanism on each response, with the seeker post as context."""
    return [mapping.epitome_levels(scorer.score(p.response, context=p.seeker))[key] for p in pairs]


def epitome_report(gold: Mapping[str, Sequence[int]], pred: Mapping[str, Sequence[int]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in gold:
        g, p = list(gold[key]), list(pred[key])
        out[f"{key}_macro_f1"] = round(macro_f1(g, p, list(LEVELS)), 4)
        out[f"{key}_accuracy"] = round(accuracy(g, p), 4)
        out[f"{key}_per_level_f1"] = per_class_f1(g, p, list(LEVELS))
        out[f"{key}_pairs"] = len(g)
    return out


def evaluate_epitome(scorer: Scorer, data: Mapping[str, Sequence[Pair]]) -> dict[str, Any]:
    """Accuracy and macro-F1 of each mechanism's 0/1/2 level."""
    started = time.perf_counter()
    pred = {key: epitome_predictions(scorer, pairs, key) for key, pairs in data.items()}
    seconds = time.perf_counter() - started
    report = epitome_report({k: [p.level for p in v] for k, v in data.items()}, pred)
    total = sum(len(v) for v in data.values())
    report["responses_per_s"] = round(total / seconds, 1) if seconds else None
    return report
