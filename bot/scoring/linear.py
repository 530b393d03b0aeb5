"""A fast linear text classifier: word and character n-grams plus context features, scored with numpy.

Features are strings in named blocks (``w`` words, ``c`` characters, ``x`` context words, ``d`` dense
features such as lengths and overlaps). Text blocks are TF-IDF weighted (sublinear counts, smoothed idf) and
L2-normalised per block, as scikit-learn's ``TfidfVectorizer`` does; dense features are used as they are.
Scoring looks features up in a vocabulary and sums weight rows, so one sentence costs tens of microseconds.
Training uses scikit-learn's logistic regression (imported only when training); it is deterministic.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[?!]")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
# Small function words that carry no content, for the overlap between a reply and the line before it.
_STOP_WORDS = """a an and are as at be but by do for from had has have he her his i if in is it its just like me my
of on or our she so than that the their them then there they this to um uh was we were what when which who will
with yeah you your okay ok oh mm hmm right well really"""
_STOP = frozenset(_STOP_WORDS.split())
_CONTINUATION = ("-", "\u2014", "\u2013")
BLOCKS = ("w", "c", "x", "d")


@dataclass(frozen=True)
class FeatureConfig:
    """Which features to extract; saved with the model so training and scoring always agree."""

    char_min: int = 2
    char_max: int = 5
    context: bool = False  # previous patient/client line: its words and its overlap with the reply
    context_scale: float = 0.5
    dense: bool = True  # length, question marks, position, continuation, acts found by the rules
    word_trigrams: bool = False  # word 3-grams of the reply as well as 1- and 2-grams
    context_bigrams: bool = False  # word 2-grams of the previous line as well as its words (needs ``context``)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _bucket(value: float, edges: Sequence[float]) -> int:
    return next((i for i, edge in enumerate(edges) if value <= edge), len(edges))


@lru_cache(maxsize=65536)
def _char_grams(word: str, lo: int, hi: int) -> tuple[str, ...]:
    """Character n-grams of one word padded with spaces (scikit-learn's ``char_wb``), cached: words repeat."""
    padded = f" {word} "
    size = len(padded)
    return tuple("c" + padded[i : i + n] for n in range(lo, min(hi, size) + 1) for i in range(size - n + 1))


@dataclass(frozen=True)
class Features:
    """Text features (present or not; blocks ``w``, ``c``, ``x``) and dense features with values (``d``)."""

    terms: frozenset[str]
    dense: dict[str, float]


def extract(
    text: str,
    cfg: FeatureConfig,
    context: str | None = None,
    acts: Iterable[str] = (),
    position: int | None = None,
) -> Features:
    """The features of one sentence or reply, given the line before it, the acts found and the position."""
    low = text.lower()
    toks = tokens(low)
    grams = ["w" + t for t in toks]
    grams += ["w" + a + " " + b for a, b in zip(["<s>", *toks], [*toks, "</s>"], strict=True)]
    if cfg.word_trigrams:
        grams += _ngrams("w", toks, 3)
    words = _WORD.findall(low)
    for word in words:
        grams += _char_grams(word, cfg.char_min, cfg.char_max)
    dense: dict[str, float] = {}
    if cfg.dense:
        stripped = text.strip()
        dense["dlen" + str(_bucket(len(words), (1, 2, 3, 5, 8, 12, 20, 35, 60)))] = 1.0
        dense["dq"] = float(stripped.endswith("?"))
        dense["dqn"] = min(stripped.count("?"), 3) / 3
        dense["dcont"] = float(stripped.startswith(_CONTINUATION))
        dense["dcut"] = float(stripped.endswith(_CONTINUATION))
        for act in acts:
            dense["da:" + act] = 1.0
        if position is not None:
            dense["dpos" + str(_bucket(position, (0, 1, 3, 6, 10, 20, 40)))] = 1.0
    if cfg.context:
        ctx = (context or "").lower()
        ctx_words = _WORD.findall(ctx)
        grams += ["x" + w for w in ctx_words]
        if cfg.context_bigrams:
            grams += _ngrams("x", tokens(ctx), 2)
        if cfg.dense:
            mine = {w for w in words if w not in _STOP}
            theirs = {w for w in ctx_words if w not in _STOP}
            overlap = len(mine & theirs) / len(mine) if mine else 0.0
            dense["dov"] = overlap
            dense["dov" + str(_bucket(overlap, (0.0, 0.1, 0.25, 0.5)))] = 1.0
            dense["dctxq"] = float(ctx.strip().endswith("?"))
            dense["dctxlen" + str(_bucket(len(ctx_words), (0, 2, 5, 12, 30)))] = 1.0
    return Features(frozenset(grams), {k: v for k, v in dense.items() if v})


def _ngrams(block: str, toks: Sequence[str], n: int) -> list[str]:
    """Word ``n``-grams with sentence boundary marks, as features of ``block``."""
    padded = ["<s>", *toks, "</s>"]
    return [block + " ".join(padded[i : i + n]) for i in range(len(padded) - n + 1)]


@dataclass
class LinearModel:
    """Multinomial logistic regression over the features above; ``offsets`` shift the class scores."""

    labels: list[str]
    vocab: dict[str, int]
    idf: np.ndarray
    weights: np.ndarray  # (features, classes)
    bias: np.ndarray  # (classes,)
    config: FeatureConfig = field(default_factory=FeatureConfig)
    offsets: np.ndarray | None = None

    def __post_init__(self) -> None:
        self._blocks = block_ids(sorted(self.vocab, key=self.vocab.__getitem__))

    def vector(self, feats: Features) -> tuple[np.ndarray, np.ndarray]:
        """Indices and values of the known features, weighted and normalised per block."""
        return _vectorise(feats, self.vocab, self.idf, self._blocks, self.config)

    def scores(self, feats: Features) -> np.ndarray:
        idx, vals = self.vector(feats)
        out = self.bias + (vals @ self.weights[idx] if len(idx) else 0.0)
        return out + self.offsets if self.offsets is not None else out

    def proba(self, feats: Features) -> np.ndarray:
        z = self.scores(feats)
        e = np.exp(z - z.max())
        return e / e.sum()

    def predict(self, feats: Features) -> tuple[str, float]:
        p = self.proba(feats)
        best = int(np.argmax(p))
        return self.labels[best], float(p[best])

    # -- persistence ----------------------------------------------------------------------------------------
    def save(self, folder: Path, name: str = "model") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        arrays = {"idf": self.idf, "weights": self.weights, "bias": self.bias}
        if self.offsets is not None:
            arrays["offsets"] = self.offsets
        np.savez_compressed(folder / f"{name}.npz", **arrays)
        meta = {"labels": self.labels, "config": self.config.to_dict(), "features": terms}
        (folder / f"{name}.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, name: str = "model") -> LinearModel:
        meta = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        with np.load(folder / f"{name}.npz") as arrays:
            offsets = arrays["offsets"] if "offsets" in arrays.files else None
            return cls(
                labels=list(meta["labels"]),
                vocab={term: i for i, term in enumerate(meta["features"])},
                idf=arrays["idf"],
                weights=arrays["weights"],
                bias=arrays["bias"],
                config=FeatureConfig(**meta["config"]),
                offsets=offsets,
            )


_BLOCK_ID = {"w": 0, "c": 1, "x": 2, "d": 3}


def block_ids(terms: Iterable[str]) -> np.ndarray:
    return np.array([_BLOCK_ID[t[0]] for t in terms], dtype=np.int64)


def _vectorise(
    feats: Features, vocab: Mapping[str, int], idf: np.ndarray, blocks: np.ndarray, cfg: FeatureConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Known features as (indices, values): binary TF-IDF, L2-normalised per text block; dense as given."""
    get = vocab.get
    ids = [i for i in map(get, feats.terms) if i is not None]
    idx = np.array(ids, dtype=np.int64)
    weight = idf[idx]
    blk = blocks[idx]
    sq = np.bincount(blk, weights=weight * weight, minlength=3)[:3]
    scale = np.array([1.0, 1.0, cfg.context_scale])
    norm = np.divide(scale, np.sqrt(sq), out=np.zeros(3), where=sq > 0)
    vals = weight * norm[blk]
    dense = [(get(name), value) for name, value in feats.dense.items()]
    dense = [(i, v) for i, v in dense if i is not None]
    if dense:
        idx = np.concatenate([idx, np.array([i for i, _ in dense], dtype=np.int64)])
        vals = np.concatenate([vals, np.array([v for _, v in dense])])
    return idx, vals


def fit(
    samples: Sequence[Features],
    labels: Sequence[str],
    config: FeatureConfig,
    c: float = 3.0,
    min_df: int = 2,
    class_weight: str | None = "balanced",
    label_order: Sequence[str] | None = None,
) -> LinearModel:
    """Fit a model on feature dictionaries made by :func:`extract` with the same ``config``."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    df: Counter[str] = Counter()
    for feats in samples:
        df.update(feats.terms)
        df.update(feats.dense)
    keep = sorted(t for t, n in df.items() if n >= min_df or t[0] == "d")
    vocab = {t: i for i, t in enumerate(keep)}
    n = len(samples)
    idf = np.array([1.0 if t[0] == "d" else math.log((1 + n) / (1 + df[t])) + 1.0 for t in keep])
    blocks = block_ids(keep)
    indptr = [0]
    indices: list[np.ndarray] = []
    data: list[np.ndarray] = []
    for feats in samples:
        idx, vals = _vectorise(feats, vocab, idf, blocks, config)
        indices.append(idx)
        data.append(vals)
        indptr.append(indptr[-1] + len(idx))
    matrix = csr_matrix(
        (np.concatenate(data) if data else [], np.concatenate(indices) if indices else [], indptr),
        shape=(n, len(keep)),
    )
    order = list(label_order) if label_order else sorted(set(labels))
    present = [lab for lab in order if lab in set(labels)]
    clf = LogisticRegression(C=c, max_iter=3000, class_weight=class_weight)
    clf.fit(matrix, list(labels))
    classes = [str(x) for x in clf.classes_]
    if len(classes) == 2:
        coef = np.vstack([np.zeros(matrix.shape[1]), clf.coef_[0]])
        intercept = np.array([0.0, clf.intercept_[0]])
    else:
        coef, intercept = clf.coef_, clf.intercept_
    column = {lab: i for i, lab in enumerate(classes)}
    weights = np.stack([coef[column[lab]] for lab in present], axis=1).astype(np.float64)
    bias = np.array([intercept[column[lab]] for lab in present], dtype=np.float64)
    return LinearModel(labels=present, vocab=vocab, idf=idf, weights=weights, bias=bias, config=config)


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def split_sentences(text: str) -> list[str]:
    """Sentences of a reply for sentence-level models: runs up to . ! ? or a line break (the whole text if none)."""
    found = [s.strip() for s in _SENTENCE.findall(text) if len(s.strip()) > 1]
    return found or [text]
