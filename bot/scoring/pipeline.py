"""spaCy pipeline pieces: a registered rule-matcher factory and the blank English pipeline around it.

The statistical part is spaCy's own ``textcat`` (bag-of-words, exclusive classes), trained by
``bot.scoring.train`` on the project's NLU examples; the rule part is ``rapport_cues``, a PhraseMatcher over
the lexicon in ``resources/cues.yml``. Both live in one spaCy pipeline so a model folder is self-contained.
"""

from functools import lru_cache
from pathlib import Path
from typing import Any

import spacy
import yaml
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

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


TEXTCAT_MODEL = {
    "@architectures": "spacy.TextCatBOW.v2",
    "exclusive_classes": True,
    "ngram_size": 2,
    "no_output_layer": False,
}


def blank_pipeline(with_textcat: bool = False) -> Language:
    """A blank English pipeline: tokenizer, sentencizer, cue matcher (and an untrained textcat)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("rapport_cues")
    if with_textcat:
        nlp.add_pipe("textcat", config={"model": TEXTCAT_MODEL, "threshold": 0.0})
    return nlp
