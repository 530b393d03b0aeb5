"""spaCy pipeline pieces: registered factories for the rules and the statistical models, and the pipeline.

- ``rapport_cues``: a PhraseMatcher over the lexicon in ``resources/cues.yml`` (cues and act phrases).
- ``rapport_acts``: the sentence act classifier, a linear model over word and character n-grams
  (``bot.scoring.linear``), trained by ``bot.scoring.train`` on the project's NLU examples.
- ``rapport_codes``: optional reply-level models trained by ``rapport calibrate`` on an institution's coded
  data (AnnoMI or EPITOME format). Each head predicts one code per reply from the reply, the line before it
  and the acts found; its ``acts`` table says which acts each code means in the product.
All live in one spaCy pipeline so a model folder is self-contained. Model folders from before ``rapport_acts``
(with spaCy's ``textcat``) still load.
"""

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import spacy
import yaml
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from bot.scoring.linear import Features, LinearModel, extract, split_sentences

# No `from __future__ import annotations` here: spaCy validates factory signatures at run time.
RESOURCES = Path(__file__).parent / "resources"
DEFAULT_LEXICON = RESOURCES / "cues.yml"
SPANS_KEY = "rapport_cues"


@lru_cache(maxsize=8)
def load_lexicon(path: str = str(DEFAULT_LEXICON)) -> dict[str, Any]:
    """Read the cue lexicon once per process: it is consulted on every turn."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return {
        "cues": {k: [str(p) for p in v] for k, v in (data.get("cues") or {}).items()},
        "acts": {k: [str(p) for p in v] for k, v in (data.get("acts") or {}).items()},
        "emotions": {k: [str(p) for p in v] for k, v in (data.get("emotions") or {}).items()},
        "emotion_priority": [str(f) for f in data.get("emotion_priority") or []],
    }


class CueMatcher:
    """Marks lexical cues and high-precision act phrases as labelled spans in ``doc.spans``.

    Labels are ``cue:<name>`` or ``act:<name>``; overlapping matches are all kept because one phrase can be
    both a hedge and part of naming an emotion.
    """

    def __init__(self, nlp: Language, name: str, lexicon: str) -> None:
        self.name = name
        self.lexicon_path = lexicon or str(DEFAULT_LEXICON)
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        lex = load_lexicon(self.lexicon_path)
        for kind in ("cues", "acts"):
            prefix = "cue" if kind == "cues" else "act"
            for key, phrases in lex[kind].items():
                patterns = [nlp.make_doc(p) for p in phrases]
                self.matcher.add(f"{prefix}:{key}", patterns)

    def __call__(self, doc: Doc) -> Doc:
        spans = [Span(doc, start, end, label=match_id) for match_id, start, end in self.matcher(doc)]
        doc.spans[SPANS_KEY] = spans
        return doc


@Language.factory("rapport_cues", default_config={"lexicon": ""})
def make_cue_matcher(nlp: Language, name: str, lexicon: str) -> CueMatcher:
    return CueMatcher(nlp, name, lexicon)


class ActModel:
    """Sentence act classifier; ``threshold`` is the probability below which its top act is not trusted."""

    def __init__(self, name: str, threshold: float) -> None:
        self.name = name
        self.threshold = threshold
        self.model: LinearModel | None = None

    def __call__(self, doc: Doc) -> Doc:
        doc.user_data[self.name] = [self.predict(s.text) for s in doc.sents] if self.model else []
        return doc

    def predict(self, text: str) -> tuple[str, float]:
        """The most likely act of one sentence and its probability."""
        if self.model is None:
            raise ValueError("the act model is not trained")
        return self.model.predict(extract(text, self.model.config))

    def ranked(self, text: str, k: int = 2) -> list[tuple[str, float]]:
        """The ``k`` most likely acts of one sentence with their probabilities, best first."""
        if self.model is None:
            raise ValueError("the act model is not trained")
        return list(self._ranked(text, k))

    @lru_cache(maxsize=8192)  # noqa: B019 - one model per process; short replies ("Okay.", "Go on.") recur
    def _ranked(self, text: str, k: int) -> tuple[tuple[str, float], ...]:
        assert self.model is not None
        proba = self.model.proba(extract(text, self.model.config))
        order = np.argsort(-proba)[:k]
        return tuple((self.model.labels[int(i)], float(proba[int(i)])) for i in order)

    def to_disk(self, path: Path, exclude: tuple[str, ...] = ()) -> None:
        if self.model is not None:
            self.model.save(Path(path))

    def from_disk(self, path: Path, exclude: tuple[str, ...] = ()) -> "ActModel":
        self.model = LinearModel.load(Path(path))
        self._ranked.cache_clear()  # predictions of an earlier model must not be served for this one
        return self


@Language.factory("rapport_acts", default_config={"threshold": 0.18})
def make_act_model(nlp: Language, name: str, threshold: float) -> ActModel:
    return ActModel(name, threshold)


class Head:
    """One calibrated code: its model, the acts each label means in the product, and an optional gate.

    A gated head (e.g. the reflection subtype) is only consulted when the gating head gave the gating label.
    ``replaces_model_acts``: the sentence classifier's acts are dropped in favour of this head's verdict
    (rule acts always stay). ``sentences`` (optional) scores each sentence of the reply; each label's strongest
    sentence is blended into the reply model's probabilities with weight ``pool`` (the ``null`` label, e.g.
    EPITOME level 0, gets what no sentence claims).
    """

    def __init__(
        self,
        model: LinearModel,
        acts: dict[str, list[str]],
        replaces_model_acts: bool = False,
        gate: tuple[str, str] | None = None,
        sentences: LinearModel | None = None,
        pool: float = 0.0,
        null: str = "0",
    ) -> None:
        self.model = model
        self.acts = acts
        self.replaces_model_acts = replaces_model_acts
        self.gate = gate
        self.sentences = sentences
        self.pool = pool
        self.null = null

    @property
    def pooled(self) -> bool:
        return self.sentences is not None and self.pool > 0

    def spec(self) -> dict[str, Any]:
        spec = {"acts": self.acts, "replaces_model_acts": self.replaces_model_acts, "gate": self.gate}
        return {**spec, "pool": self.pool, "null": self.null} if self.sentences is not None else spec

    def predict(self, feats: Features, sentence_feats: Sequence[Features] = ()) -> str:
        if not self.pooled or not sentence_feats:
            return self.model.predict(feats)[0]
        return self.model.labels[int(np.argmax(self.proba(feats, sentence_feats)))]

    def proba(self, feats: Features, sentence_feats: Sequence[Features] = ()) -> np.ndarray:
        """The reply model's probabilities, blended with the sentence-pooled ones when the head has them."""
        reply = self.model.proba(feats)
        if not self.pooled or not sentence_feats:
            return reply
        return (1.0 - self.pool) * reply + self.pool * self.sentence_proba(sentence_feats)

    def sentence_proba(self, sentence_feats: Sequence[Features]) -> np.ndarray:
        """Per label (in the reply model's order) its strongest sentence; the null label what none claims."""
        assert self.sentences is not None
        labels = self.model.labels
        column = [labels.index(lab) for lab in self.sentences.labels]
        rows = np.zeros((len(sentence_feats), len(labels)))
        for i, feats in enumerate(sentence_feats):
            rows[i, column] = self.sentences.proba(feats)
        out = rows.max(axis=0)
        if self.null in labels:
            null = labels.index(self.null)
            out[null] = 1.0 - float(np.delete(rows, null, axis=1).sum(axis=1).max())
        return out


class CodeModel:
    """Reply-level heads trained on an institution's coded data (``rapport calibrate``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.heads: dict[str, Head] = {}
        self.source = ""

    def __call__(self, doc: Doc) -> Doc:
        return doc

    def predict(self, text: str, context: str | None, acts: Sequence[str]) -> dict[str, str]:
        """One label per head for a whole reply; features are shared when the heads' configs agree."""
        cache: dict[object, Features] = {}
        sentence_cache: dict[object, list[Features]] = {}
        out: dict[str, str] = {}
        for key, head in self.heads.items():
            if head.gate is not None and out.get(head.gate[0]) != head.gate[1]:
                continue
            cfg = head.model.config
            if cfg not in cache:
                cache[cfg] = extract(text, cfg, context=context, acts=acts)
            out[key] = head.predict(cache[cfg], self._sentence_features(head, text, context, sentence_cache))
        return out

    @staticmethod
    def _sentence_features(
        head: Head, text: str, context: str | None, cache: dict[object, list[Features]]
    ) -> list[Features]:
        if not head.pooled or head.sentences is None:
            return []
        cfg = head.sentences.config
        if cfg not in cache:
            cache[cfg] = [extract(s, cfg, context=context) for s in split_sentences(text)]
        return cache[cfg]

    def to_disk(self, path: Path, exclude: tuple[str, ...] = ()) -> None:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "source": self.source,
            "heads": {k: h.spec() for k, h in self.heads.items()},  # the gate too: subtype heads stay gated
        }
        (folder / "heads.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        for key, head in self.heads.items():
            head.model.save(folder, key)
            if head.sentences is not None:
                head.sentences.save(folder, f"{key}.sentences")

    def from_disk(self, path: Path, exclude: tuple[str, ...] = ()) -> "CodeModel":
        folder = Path(path)
        meta = json.loads((folder / "heads.json").read_text(encoding="utf-8"))
        self.source = meta.get("source", "")
        self.heads = {
            key: Head(
                LinearModel.load(folder, key),
                spec["acts"],
                bool(spec.get("replaces_model_acts")),
                (str(spec["gate"][0]), str(spec["gate"][1])) if spec.get("gate") else None,
                LinearModel.load(folder, f"{key}.sentences") if "pool" in spec else None,
                float(spec.get("pool", 0.0)),
                str(spec.get("null", "0")),
            )
            for key, spec in meta["heads"].items()
        }
        return self


@Language.factory("rapport_codes", default_config={})
def make_code_model(nlp: Language, name: str) -> CodeModel:
    return CodeModel(name)


TEXTCAT_MODEL = {
    "@architectures": "spacy.TextCatBOW.v2",
    "exclusive_classes": True,
    "ngram_size": 2,
    "no_output_layer": False,
}


def blank_pipeline(with_textcat: bool = False, with_acts: bool = False) -> Language:
    """A blank English pipeline: tokenizer, sentencizer, cue matcher (and an empty act model or textcat)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("rapport_cues")
    if with_textcat:
        nlp.add_pipe("textcat", config={"model": TEXTCAT_MODEL, "threshold": 0.0})
    if with_acts:
        nlp.add_pipe("rapport_acts")
    return nlp
