"""Turn-level scoring: which acts and cues a trainee reply contains, and what they earn.

A reply is split into sentences; each sentence gets the classifier's act (if it is confident) plus any act
phrase the rule matcher finds. The previous patient line supplies the empathic opportunity: an emotional cue
that the reply does not answer costs empathy. Everything is deterministic for a given model folder.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import spacy
from spacy.language import Language

from bot.scoring import pipeline as _pipeline  # registers the rapport_cues factory
from bot.scoring.feedback import choose_tip
from bot.scoring.linear import _STOP, _WORD
from bot.scoring.taxonomy import ACTS, ANNOMI_BEHAVIOUR, BASE, CUE_WEIGHTS, DIMENSIONS, EMPATHIC_ACTS, MAX_SCORE, label

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "scorer"
MODEL_THRESHOLD = 0.18  # below this the classifier's top act (of 27) is not trusted on its own
_OPEN_START = re.compile(
    r"^\s*(what|how|why|which|where|when|who|tell me|describe|in what|could you tell|can you tell|"
    r"would you tell|can you say|could you say|help me understand)\b",
    re.I,
)
_QUESTION_ACTS = {"open_question", "closed_question"}
# A statement about the other person's experience, in their terms: the shape of a reflection (MITI).
_REFLECTION_START = re.compile(
    r"^\W*(?:(?:so|and|okay|ok|right|yeah|mm-hmm|mhm|sure|well|hmm),?\s+)*"
    r"(?:(?:it\s+)?(?:sounds|seems|looks|feels)\s+(?:like|as if|as though)|you(?:'re|'ve|'d|'ll)?\b|your\b|"
    r"part of you|on the one hand|for you\b)",
    re.I,
)
# Acts the classifier often guesses, unsure, for a reflection: the reflection's shape wins below p = 0.5 (a
# statement merely about "you" does not overrule blame, which is addressed to "you" by nature).
_UNSURE_OVERRIDDEN = frozenset(
    {
        "confront_blame",
        "premature_reassurance",
        "nurse_respect",
        "affirm_strength",
        "nurse_support",
        "emphasise_autonomy",
    }
)
_DIRECTIVE = re.compile(r"\b(?:should|shouldn't|must|need to|needs to|have to|has to|ought to|got to|gotta)\b", re.I)
# Suggestions ("you could try", "make sure"): telling the other person what to do, not reflecting (MITI: advise).
_SUGGESTION = re.compile(
    r"\b(?:you|we) (?:could|might|may want)\b|\byou can (?!'t|not)|\bmake sure\b|\btry (?:to|and)\b|"
    r"\b(?:suggest|recommend|advise)\b|\bwhy don't you\b|\bit'?s important\b|\bit would be (?:good|best|helpful)\b",
    re.I,
)
# Whose experience a statement is about: the other person's (second person) or the speaker's own (first).
_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself|you're|you've|you'd|you'll)\b", re.I)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|we|we're|we've|we'll|our|us|let's)\b", re.I)
# Backchannels and acknowledgements ("Okay.", "Mm-hmm, right."): MITI codes no behaviour in them.
_BACKCHANNEL = re.compile(
    r"^\W*(?:(?:yes|yeah|yep|yup|no|nope|okay|ok|right|all right|alright|mm-hmm|mm|hmm|mhm|uh-huh|uh|um|so|and|"
    r"but|well|sure|great|good|fine|cool|oh|ah|wow|exactly|absolutely|definitely|totally|indeed|really|i see|"
    r"gotcha|got it|thank you|thanks|perfect|excellent|fantastic|nice|awesome|true|of course)\W*)+$",
    re.I,
)
# A reply that mostly repeats the client's own words (at least this share of its content words) repeats them
# back: a simple reflection in MITI, when nothing else in it is a question, a reflection or telling.
ECHO_SHARE = 0.5


@dataclass
class Evidence:
    start: int
    end: int
    text: str
    label: str
    effect: str  # "+" earned points, "-" cost points


@dataclass
class Dimension:
    score: int | None
    max: int
    applicable: bool
    reason: str
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Detection:
    name: str  # act or cue name
    start: int
    end: int
    text: str
    source: str  # model, rule or nlu
    sentence: int


@dataclass
class TurnScore:
    acts: list[Detection]
    cues: list[Detection]
    dimensions: dict[str, Dimension]
    tip: dict[str, str]
    emotion: str | None  # emotion family read in the previous patient line
    codes: dict[str, str] = field(default_factory=dict)  # calibrated model's codes (rapport calibrate)

    @property
    def act_names(self) -> set[str]:
        return {a.name for a in self.acts}

    @property
    def cue_names(self) -> set[str]:
        return {c.name for c in self.cues}

    def total(self) -> int:
        return sum(d.score or 0 for d in self.dimensions.values())

    def to_dict(self) -> dict[str, Any]:
        acts = [{"act": a.name, "label": label(a.name), **_span(a)} for a in self.acts]
        cues = [{"cue": c.name, "label": label(c.name), **_span(c)} for c in self.cues]
        dims = {name: asdict(dim) for name, dim in self.dimensions.items()}
        out = {"acts": acts, "cues": cues, "dimensions": dims, "tip": self.tip, "emotion": self.emotion}
        if self.codes:
            out["codes"] = dict(self.codes)
        return out


def _span(d: Detection) -> dict[str, Any]:
    return {"start": d.start, "end": d.end, "text": d.text, "source": d.source, "sentence": d.sentence}


_QUOTES = str.maketrans("\u2019\u2018\u201c\u201d", "''\"\"")


def normalise(text: str) -> str:
    """Curly quotes to straight ones, character for character, so offsets stay valid."""
    return text.translate(_QUOTES)


class Scorer:
    """Loads the pipeline once and scores replies; safe to share within a process."""

    def __init__(
        self, model_dir: str | Path | None = None, use_model: bool = True, nlp: Language | None = None
    ) -> None:
        self.model_dir: Path | None = None
        self.nlp: Language
        if nlp is not None:
            self.nlp = nlp
        elif use_model:
            self.model_dir = Path(model_dir or os.environ.get("RAPPORT_SCORER_MODEL") or DEFAULT_MODEL_DIR)
            if not (self.model_dir / "config.cfg").exists():
                raise FileNotFoundError(
                    f"No scorer model at {self.model_dir}. Train it with `make train` "
                    "(or `rapport train-scorer`), or point RAPPORT_SCORER_MODEL at a model folder."
                )
            self.nlp = spacy.load(self.model_dir)
        else:
            self.nlp = _pipeline.blank_pipeline()
        names = self.nlp.pipe_names
        self._textcat = self.nlp.get_pipe("textcat") if "textcat" in names else None  # model folders before 0.2
        self._acts = _component(self.nlp, "rapport_acts", _pipeline.ActModel)
        self._codes = _component(self.nlp, "rapport_codes", _pipeline.CodeModel)
        self._sentencizer = self.nlp.get_pipe("sentencizer")
        self._cues = self.nlp.get_pipe("rapport_cues")
        # One pattern per emotion family, compiled once: it is matched against every patient line.
        self._emotions = {
            family: _phrases(words) for family, words in _pipeline.load_lexicon()["emotions"].items() if words
        }

    # -- analysis -------------------------------------------------------------------------------------------
    def analyse(self, text: str) -> tuple[list[Detection], list[Detection]]:
        """Sentence acts and cues of a reply, with character offsets into ``text``."""
        doc = self.nlp.make_doc(normalise(text))
        doc = self._cues(self._sentencizer(doc))
        sents = list(doc.sents)
        predictions: list[tuple[str, float] | None] = [None] * len(sents)
        threshold = MODEL_THRESHOLD
        if self._acts is not None and self._acts.model is not None:
            threshold = self._acts.threshold
            predictions = [self._acts.predict(s.text) for s in sents]
        elif self._textcat is not None and sents:
            sent_docs = [s.as_doc() for s in sents]
            for i, sdoc in enumerate(self._textcat.pipe(sent_docs)):
                if sdoc.cats:
                    best = max(sdoc.cats.items(), key=lambda kv: kv[1])
                    predictions[i] = best
        acts: list[Detection] = []
        cues: list[Detection] = []
        rule_spans = list(doc.spans[_pipeline.SPANS_KEY])
        for i, sent in enumerate(sents):
            found: dict[str, Detection] = {}
            for span in rule_spans:
                if span.start < sent.start or span.end > sent.end:
                    continue
                kind, name = span.label_.split(":", 1)
                det = Detection(name, span.start_char, span.end_char, span.text, "rule", i)
                if kind == "act":
                    found.setdefault(name, det)
                else:
                    cues.append(det)
            sent_text = sent.text.strip()
            start = sent.start_char + (len(sent.text) - len(sent.text.lstrip()))
            whole = Detection("", start, start + len(sent_text), sent_text, "model", i)
            pred = predictions[i]
            overridden = pred is not None and pred[0] in _UNSURE_OVERRIDDEN and pred[1] < 0.5
            about = _is_about_client(sent_text) and pred is not None and pred[0] != "confront_blame"
            overridden = overridden and (_is_reflection_shape(sent_text) or about)
            trusted = pred is not None and pred[1] >= threshold and not _BACKCHANNEL.match(sent_text)
            if pred and trusted and pred[0] not in found and not overridden:
                found[pred[0]] = Detection(pred[0], whole.start, whole.end, whole.text, "model", i)
            if not found and any(c.name == "bad_news" and c.sentence == i for c in cues):
                # A plain statement of the news is information even when the classifier hesitates.
                found["give_information"] = Detection("give_information", whole.start, whole.end, whole.text, "rule", i)
            if not found and not sent_text.endswith("?"):
                shape = _statement_shape(sent_text)
                if shape:
                    found[shape] = Detection(shape, whole.start, whole.end, sent_text, "rule", i)
            self._question_shape(sent_text, whole, found)
            acts.extend(found.values())
        return acts, _dedupe(cues)

    @staticmethod
    def _question_shape(sent_text: str, whole: Detection, found: dict[str, Detection]) -> None:
        """A sentence ending in '?' is a question; its wording decides open or closed (MITI).

        A statement in the other person's terms said with a rising voice ("So you're not sure yet?") is a
        reflection, as MITI codes it, unless something in it was already found to be a question.
        """
        if not sent_text.endswith("?"):
            return
        kind = "open_question" if _OPEN_START.search(sent_text) else "closed_question"
        asked = any(n in ACTS and ACTS[n].question for n in found)
        if kind == "closed_question" and not asked and _is_reflection_shape(sent_text):
            found.setdefault(
                "simple_reflection",
                Detection("simple_reflection", whole.start, whole.end, whole.text, "rule", whole.sentence),
            )
            return
        other = ({"open_question", "closed_question"} - {kind}).pop()
        if other in found and found[other].source == "model":
            del found[other]
        question_like = any(ACTS[n].question for n in found if n in ACTS and n not in _QUESTION_ACTS)
        if kind not in found and not question_like:
            found[kind] = Detection(kind, whole.start, whole.end, whole.text, "rule", whole.sentence)

    def emotion_in(self, patient_line: str | None) -> str | None:
        """The strongest emotion family in the patient's line, or None when there is no emotional cue."""
        if not patient_line:
            return None
        low = normalise(patient_line).lower()
        return next((family for family, pattern in self._emotions.items() if pattern.search(low)), None)

    # -- scoring --------------------------------------------------------------------------------------------
    def score(
        self,
        text: str,
        context: str | None = None,
        previous_acts: Iterable[str] = (),
        extra_jargon: Sequence[str] = (),
        nlu_intent: tuple[str, float] | None = None,
    ) -> TurnScore:
        """Score one trainee reply given the patient's previous line and the trainee's earlier acts.

        ``nlu_intent`` (Rasa's whole-message intent and confidence) is used only when neither the
        classifier nor the rules found any act, so Rasa and the scorer never contradict each other.
        """
        acts, cues = self.analyse(text)
        norm = normalise(text)
        cues.extend(_extra_jargon(norm, extra_jargon, {(c.start, c.end) for c in cues}))
        if not acts and nlu_intent and nlu_intent[0] in ACTS and nlu_intent[1] >= 0.5:
            acts.append(Detection(nlu_intent[0], 0, len(norm.rstrip()), norm.rstrip(), "nlu", 0))
        if context and _is_echo(norm, normalise(context), acts):
            body = norm.strip()
            start = len(norm) - len(norm.lstrip())
            acts.append(Detection("simple_reflection", start, start + len(body), body, "rule", 0))
        codes: dict[str, str] = {}
        if self._codes is not None and self._codes.heads:
            codes = self._codes.predict(norm, context, [a.name for a in acts])
            acts = self._apply_codes(norm, codes, acts)
        emotion = self.emotion_in(context)
        names = {a.name for a in acts}
        dims = {dim: _dimension(dim, acts, cues, emotion) for dim in DIMENSIONS}
        tip = choose_tip(names, {c.name for c in cues}, emotion, set(previous_acts))
        return TurnScore(acts=acts, cues=cues, dimensions=dims, tip=tip, emotion=emotion, codes=codes)

    def _apply_codes(self, text: str, codes: dict[str, str], acts: list[Detection]) -> list[Detection]:
        """Acts that the calibrated codes mean, on the whole reply; they replace the classifier's if asked."""
        assert self._codes is not None
        heads = {k: h for k, h in self._codes.heads.items() if k in codes}
        if any(h.replaces_model_acts for h in heads.values()):
            acts = [a for a in acts if a.source != "model"]
        body = text.strip()
        start = len(text) - len(text.lstrip())
        have = {a.name for a in acts}
        for key, head in heads.items():
            for name in head.acts.get(codes[key], []):
                if name in ACTS and name not in have:
                    have.add(name)
                    acts.append(Detection(name, start, start + len(body), body, "model", 0))
        return acts


def _is_reflection_shape(sentence: str) -> bool:
    """A sentence of at least four words framed in the other person's terms, not a directive or suggestion."""
    return (
        len(sentence.split()) >= 4
        and _REFLECTION_START.search(sentence) is not None
        and _DIRECTIVE.search(sentence) is None
        and _SUGGESTION.search(sentence) is None
    )


def _is_about_client(sentence: str) -> bool:
    """A statement of at least four words about the other person and not the speaker, that tells them nothing
    to do: what a reflection is about, wherever its subject comes in the sentence."""
    return (
        not sentence.endswith("?")
        and len(sentence.split()) >= 4
        and _SECOND_PERSON.search(sentence) is not None
        and _FIRST_PERSON.search(sentence) is None
        and _DIRECTIVE.search(sentence) is None
        and _SUGGESTION.search(sentence) is None
    )


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _is_echo(reply: str, client_line: str, acts: Sequence[Detection]) -> bool:
    """A statement whose content words (two or more) mostly come from the client's line, with no question,
    reflection or telling found in it (only acts that MI coders file under "other")."""
    if reply.strip().endswith("?") or any(ANNOMI_BEHAVIOUR.get(a.name, "other") != "other" for a in acts):
        return False
    mine = _content_words(reply)
    return len(mine) >= 2 and len(mine & _content_words(client_line)) >= ECHO_SHARE * len(mine)


def _statement_shape(sentence: str) -> str | None:
    """A statement the classifier left uncoded: a reflection by its framing or its subject (the other person),
    or information by its length."""
    if _is_reflection_shape(sentence) or _is_about_client(sentence):
        return "simple_reflection"
    if len(sentence.split()) >= 8 and _DIRECTIVE.search(sentence) is None:
        return "give_information"
    return None


_T = TypeVar("_T")


def _component(nlp: Language, name: str, kind: type[_T]) -> _T | None:
    """The pipeline's component of that name, if it has one of that kind."""
    pipe = nlp.get_pipe(name) if name in nlp.pipe_names else None
    return pipe if isinstance(pipe, kind) else None


def _dedupe(cues: list[Detection]) -> list[Detection]:
    """One detection per cue and place: a match inside a longer match of the same cue is dropped."""
    out: list[Detection] = []
    for cue in sorted(cues, key=lambda c: (c.start, -(c.end - c.start))):
        if not any(o.name == cue.name and o.start <= cue.start and cue.end <= o.end for o in out):
            out.append(cue)
    return out


def _phrases(words: Sequence[str]) -> re.Pattern[str]:
    """Any of the phrases as whole words (not inside a longer word), lower case."""
    return re.compile(r"(?<![a-z])(?:" + "|".join(re.escape(w.lower()) for w in words) + r")(?![a-z])")


def _extra_jargon(text: str, terms: Sequence[str], taken: set[tuple[int, int]]) -> list[Detection]:
    if not terms:
        return []
    found = []
    for m in _phrases(terms).finditer(text.lower()):
        if (m.start(), m.end()) not in taken:
            found.append(Detection("jargon", m.start(), m.end(), text[m.start() : m.end()], "rule", -1))
    return found


def _dimension(dim: str, acts: list[Detection], cues: list[Detection], emotion: str | None) -> Dimension:
    """Base score plus each distinct act's and cue's weight, clamped to 0-4, with the evidence kept."""
    evidence: list[Evidence] = []
    total = 0
    counted: set[str] = set()
    for det in acts:
        weight = ACTS[det.name].weights.get(dim, 0) if det.name in ACTS else 0
        if weight and det.name not in counted:
            counted.add(det.name)
            total += weight
            evidence.append(Evidence(det.start, det.end, det.text, label(det.name), "+" if weight > 0 else "-"))
    for det in cues:
        weight = CUE_WEIGHTS.get(det.name, {}).get(dim, 0)
        if weight and det.name not in counted:
            counted.add(det.name)
            total += weight
            evidence.append(Evidence(det.start, det.end, det.text, label(det.name), "-"))
    empathic = any(det.name in EMPATHIC_ACTS for det in acts)
    if dim == "empathy" and emotion and not empathic:
        return Dimension(0, MAX_SCORE, True, f"The patient's {emotion} was left unanswered.", evidence)
    applicable = bool(counted) or (dim == "empathy" and emotion is not None)
    if not applicable:
        return Dimension(None, MAX_SCORE, False, _NOT_APPLICABLE[dim], [])
    score = max(0, min(MAX_SCORE, BASE[dim] + total))
    return Dimension(score, MAX_SCORE, True, _reason(evidence), evidence)


_NOT_APPLICABLE = {
    "empathy": "No emotional cue to answer and no empathic move in this turn.",
    "collaboration": "Nothing in this turn shares or takes power.",
    "shared_decision": "No decision in play in this turn.",
}


def _reason(evidence: list[Evidence]) -> str:
    plus = sorted({e.label for e in evidence if e.effect == "+"})
    minus = sorted({e.label for e in evidence if e.effect == "-"})
    parts = []
    if plus:
        parts.append("earned by " + ", ".join(p.lower() for p in plus))
    if minus:
        parts.append("lost to " + ", ".join(m.lower() for m in minus))
    return ("; ".join(parts) or "neutral").capitalize() + "."


_DEFAULT: Scorer | None = None


def default_scorer() -> Scorer:
    """The process-wide scorer, loaded on first use (never at import time)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Scorer()
    return _DEFAULT
