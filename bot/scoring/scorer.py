"""Turn-level scoring: which acts and cues a trainee reply contains, and what they earn in context.

A reply is split into sentences; each sentence gets the classifier's act (if it is confident) plus any act
phrase the rule matcher finds in scope (not negated, quoted, reported or hypothetical). A question always
carries its form (open or closed), as MITI codes it. The dimensions are then set by level, as the
coded-replies manual does (benchmarks/coded-replies/CODING.md, section 2), in the conversation's context
(:class:`ScoringContext`): the patient's last line and its emotion, what the trainee already asked, whether a
decision is in play and which moves misfit this persona. Everything is deterministic for a given model folder.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import spacy
from spacy.language import Language
from spacy.tokens import Span

from bot.scoring import pipeline as _pipeline  # registers the rapport_cues factory
from bot.scoring.feedback import choose_tip
from bot.scoring.linear import _STOP, _WORD, split_sentences
from bot.scoring.taxonomy import ACTS, ANNOMI_BEHAVIOUR, DIMENSIONS, JARGON_CAP, MAX_SCORE, NO_ACT, label

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "scorer"
MODEL_THRESHOLD = 0.18  # below this the classifier's top act (of 27) is not trusted on its own
_OPEN_START = re.compile(
    r"(?:^\W*(?:(?:so|and|but|okay|ok|well|now|right|then),?\s+)*|,\s*(?:and\s+|so\s+)?)"
    r"(what|whats|what's|wat|wot|how|hows|how's|why|whys|which|where|wheres|when|who|whos|tell me|describe|in what|"
    r"could you tell|can you tell|"
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
ECHO_WORDS = 12  # an echo is short: one sentence of at most this many words, in the patient's terms


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


@dataclass(frozen=True)
class ScoringContext:
    """What the scorer needs to know about the conversation so far; built by the caller, never by the scorer.

    - ``patient_line``: the patient's last line (the empathic opportunity), or None at the start.
    - ``emotion``: its emotion family (fear, sadness, anger, shame, shock, overwhelm) if the caller knows it;
      None means "read it from ``patient_line``".
    - ``previous_replies`` / ``previous_acts``: the trainee's earlier replies and acts in this conversation
      (a question asked again earns nothing the second time).
    - ``decision_in_play``: a treatment or care choice is open (three-talk / OPTION-5 then apply).
    - ``misfit_acts``: acts that work against this persona's needs (e.g. pressing an avoidant patient about
      feelings): on the turn they happen they cap empathy and collaboration at 1 (CODING.md 4.17).
    - ``jargon``: the scenario's own technical terms, counted as jargon cues.
    - ``tips``: the scenario's expert moves, offered as tips (see ``bot.scoring.feedback``).
    """

    patient_line: str | None = None
    emotion: str | None = None
    previous_replies: tuple[str, ...] = ()
    previous_acts: tuple[str, ...] = ()
    decision_in_play: bool = False
    misfit_acts: frozenset[str] = frozenset()
    jargon: tuple[str, ...] = ()
    tips: tuple[dict[str, Any], ...] = ()


# Harmful acts a rule may only mark when the phrase is in scope, and the classifier only when it is sure.
HARMFUL_ACTS = frozenset(
    {
        "advise_without_permission",
        "persuade_warn",
        "confront_blame",
        "premature_reassurance",
        "rescue_take_over",
        "direct_command",
        "dismiss",
        "decide_for_patient",
        "abuse",
    }
)
RUNNER_UP_THRESHOLD = 0.15  # when an unsure harmful guess is set aside, the runner-up act counts above this
SECOND_THRESHOLD = (
    0.3  # a sentence often does two things (names a feeling and asks): the runner-up act counts above this
)
NEGATED_HARM_THRESHOLD = 0.7  # a negated sentence is read as a harm only when the classifier is this sure
_NEGATED = re.compile(r"\b(?:not|never|no)\b|n't\b|\b(?:dont|wont|cant|isnt|arent|didnt|doesnt)\b", re.I)
# Harms a negation usually undoes ("I won't decide for you"); blame, dismissing and abuse are often negative in form.
_NEGATABLE = frozenset(
    {"decide_for_patient", "rescue_take_over", "direct_command", "advise_without_permission", "persuade_warn"}
)
CONFLICT_THRESHOLD = 0.5  # the probability the classifier needs to add an act beside a rule's
HARM_THRESHOLD = 0.45  # the classifier's probability a harmful act needs: a false penalty costs trust
_NEGATORS = frozenset({"not", "n't", "no", "never", "nothing", "nobody", "without", "hardly", "nor", "neither"})
_REPORTING = frozenset({"said", "says", "told", "tells", "telling", "saying", "heard", "reckons", "thinks", "thought"})
_HYPOTHETICAL = re.compile(r"^\W*(?:if|what if|suppose|imagine|say)\b", re.I)
# Tag, rhetorical and accusing question endings carry no question code (CODING.md 4.6).
_TAG_QUESTION = re.compile(
    r",\s*(?:didn't|don't|doesn't|isn't|aren't|wasn't|weren't|won't|wouldn't|can't|couldn't|haven't|hasn't|"
    r"right|eh|ok|okay|yeah)\s*(?:you|it|they|he|she|we|i|there|that)?\s*\?$",
    re.I,
)
# Interjections said with a question mark ("Seriously?", "Really?") ask nothing (CODING.md 4.6).
_RHETORICAL = re.compile(
    r"^\W*(?:seriously|really|honestly|are you serious|you what|eh|huh|come on|is that right|oh yeah|"
    r"can't or won't|what did you expect|what else did you expect|how hard can it be)\W*$"
    r"|^\W*(?:(?:well|so|and|but|honestly|seriously|for god's sake),?\s+)*(?:didn't|weren't|don't|haven't|can't|"
    r"won't|aren't|wasn't|couldn't|shouldn't) you\b",
    re.I,
)
# A question that asks leave to ask a wh-question is open: "Can I ask what's making you think that?"
_EMBEDDED_OPEN = re.compile(
    r"\b(?:can|could|may) i (?:ask|check|just check|hear)\b.*\b(?:what|how|why|which|where|when|who)\b|"
    r"\b(?:do|would) you (?:think|say|imagine)\b.*\b(?:what|how|why|which)\b|"
    r"^\W*if\b[^?]*\b(?:what|how|why|which)\b|\b(?:how|what) do you think\b",
    re.I,
)
# Open requests without a question word are open questions (CODING.md, section 1 rules).
_OPEN_REQUEST = re.compile(
    r"^\W*(?:(?:so|and|okay|ok|well),?\s+)?(?:could|can|would|will) you (?:tell|say|describe|give|talk|walk|explain|"
    r"share|help me)|^\W*(?:(?:so|and|okay|ok|well),?\s+)?(?:tell me|talk me through|walk me through|describe|"
    r"say more|i'd (?:like|love) to hear|i would (?:like|love) to hear|i'm (?:curious|wondering) (?:about|what|how))",
    re.I,
)
_MINIMAL = re.compile(
    r"^\W*(?:mm+|mm-?hmm+|mhm+|uh-huh|hmm+|go on|carry on|keep going|i'?m listening|and then|"
    r"and\??|go ahead|yes,? go on|right,? go on|ok,? go on)\W*(?:i'?m listening|go on)?\W*$",
    re.I,
)
_ACCEPTANCE = re.compile(
    r"^\W*(?:that'?s (?:fair|fine|ok|okay|alright|all right|understandable|reasonable)|fair enough|no problem|"
    r"no worries|of course|sure thing|noted|understood)\W*$",
    re.I,
)
# A statement of the other person's inner experience in their terms ("You're concerned that...", "So you feel
# you've let them down"): the shape of a reflection (MITI 4.2.1). Only verbs and states of experience count,
# so "You need a scan" or "You're not fine" do not.
_EXPERIENCE = re.compile(
    r"^\W*(?:(?:so|and|okay|ok|right|yeah|mm-hmm|mhm|well|um|uh|and so|it sounds like|sounds like|it seems like|"
    r"seems like|it feels like|i hear that|i'm hearing that|what i'm hearing is),?\s+)*"
    r"(?:you|part of you|some of you|a part of you)(?:'re| are|'ve| have|'ve been| have been|'d| would| were| was)?"
    r"\s+(?:(?:really|kind of|kinda|sort of|pretty|quite|also|still|just|actually|a little|a bit|feeling|been|"
    r"getting|starting to|beginning to|not|definitely|very)\s+)*"
    r"(?:feel|feels|feeling|felt|think|thinking|thought|want|wanting|wanted|wish|wishing|worried|worry|worrying|"
    r"concerned|wondering|wonder|believe|hope|hoping|sense|sensing|miss|missing|find|finding|love|hate|"
    r"care|afraid|scared|frightened|frustrated|angry|upset|sad|tired|exhausted|fed up|unsure|not sure|torn|"
    r"struggling|enjoy|enjoying|value|prefer|noticed|noticing|realise|realize|realised|realized|mean|meaning|"
    r"saying|told me|telling me|feel like|don't want|don't like|"
    r"don't know|had enough|ready|proud|embarrassed|ashamed|guilty|"
    r"lonely|alone|stuck|overwhelmed|confused|curious|interested|determined|committed|willing|"
    r"managing|coping|going through|dealing|carrying|juggling|describing|talking about)\b",
    re.I,
)


# Negating the patient's harsh word about themselves reassures ("You're not a bad mother.", "You mustn't blame
# yourself."): support, never blame (CODING.md section 1, negation and scope).
_REASSURING_NEGATION = re.compile(
    r"(?:\bnot\b|n't\b|\bnever\b)(?:\s+\S+){0,4}?\s+(?:a\s+)?(?:bad|lazy|stupid|weak|useless|"
    r"failure|burden|to blame|blame yourself|your fault|selfish|pathetic|idiot|terrible|awful|hopeless|mad|crazy)\b",
    re.I,
)
_ABOUT_YOU = re.compile(r"\b(?:you're|you are|you were|you aren't|yourself|your fault|ur)\b", re.I)


def _reassures(sentence: str) -> bool:
    """Denying a harsh word the patient used of themselves, about them, with no put-down beside it."""
    return (
        _REASSURING_NEGATION.search(sentence) is not None
        and _ABOUT_YOU.search(sentence) is not None
        and not sentence.endswith("?")
        and _PUT_DOWN.search(sentence) is None
    )


# A bare "I understand" is the perfunctory empathy of CODING.md's level 1, not an acknowledgement.
_PERFUNCTORY = re.compile(r"^\W*(?:ok(?:ay)?,?\s+)?(?:i understand|i know|i see|i get it|i hear you)\W*$", re.I)


# Rule acts whose phrase must open the sentence: "I'm afraid..." prepares news; "..., I'm afraid" apologises.
_OPENING_ONLY = frozenset({"warning_shot"})
# Orders (CODING.md 4.5, MISC "direct"): a bare imperative, or "you must / have to / need to / 'd better", with
# no hedge. Inviting imperatives ("go on", "tell me", "take your time") and "let's" are not orders.
_LEAD = r"^\W*(?:(?:well|so|ok|okay|right|now|then|just|please|honestly|look|listen|yes|no|and|but),?\s+)*"
_IMPERATIVE = re.compile(
    _LEAD + r"(?:stop|quit|cut|take|go|get|eat|drink|walk|keep|call|ring|ignore|avoid|drop|put|use|start|give|book|"
    r"write|bring|come|read|sleep|rest|leave|switch|throw|lose|swap|pack|ditch|bin|delete|block|tell|do|be|"
    r"stay|sit|lie|wear|check|limit|make|move|join|buy|sign|finish|pull|grow|man|toughen|snap|calm)\b"
    r"|" + _LEAD + r"(?:don'?t|do not|never|no more)\s+\w+",
    re.I,
)
_NOT_AN_ORDER = re.compile(
    _LEAD + r"(?:go on|go ahead|take your time|take a seat|take a moment|tell me|take me through|keep going|"
    r"carry on|come in|come and|sit down,? please|have a seat|don'?t (?:worry|hesitate|rush|apologi[sz]e|be sorry|"
    r"feel)|never mind|be honest with me|get in touch|give me a (?:moment|second|minute)|do you|do tell|"
    r"make yourself|check (?:in|with me)|stop me|feel free|don'?t get me started|(?:do|would|can|could|will) u\b|"
    r"leave (?:it|this|that|everything)? ?(?:all )?(?:to|with|w) me|"
    r"give (?:me|it to me|them to me|to me|it time)|ring me|call me|come (?:back )?and see me|come on|"
    r"(?:get a grip|grow up|pull yourself together|man up|chin up|snap out of it|get over it|cheer up)|"
    r"don'?t (?:be (?:so|dumb|stupid|silly|daft|an idiot|ridiculous|soft)|come crying|think about it))",
    re.I,
)
_COMMITMENT = re.compile(r"\b(?:i'll|i will|ill|i'm going to|i am going to|let me)\b", re.I)
# Put-downs aimed at a feeling (CODING.md 4.5): dismissing, not a command.
_PUT_DOWN = re.compile(
    r"(?:^|[,;]\s*|\bbut\s+(?:you need to\s+)?|\byou need to\s+)\W*"
    r"(?:(?:well|so|ok|okay|right|now|just|please|honestly|look|listen|come on),?\s+)*"
    r"(?:get a grip|pull yourself together|man up|chin up|snap out of it|get over it|cheer up|"
    r"stop (?:being so|catastrophi[sz]ing|moaning|whinging|overthinking)|"
    r"don'?t be (?:so )?(?:soft|silly|daft|dramatic))",
    re.I,
)
# The patient asked what to do: advice and instructions in answer are information (CODING.md 4.4).
_ASKED_FOR_ADVICE = re.compile(
    r"\b(?:should i|shall i|can i|could i|what should|what do i|how do i|what would you do|what would you have|"
    r"what do you (?:suggest|recommend|think i should)|do i need|do i have to|give it (?:me|to me) straight|"
    r"what's the plan|what is the plan|any tips|what can i do|is it ok(?:ay)? (?:if|to))\b",
    re.I,
)
_PROHIBITION = re.compile(_LEAD + r"(?:don'?t|do not|never|no more|no)\b", re.I)
_MUST = re.compile(
    r"\byou(?:'ve| have)? (?:must|have to|need to|'d better|had better|got to|gotta)\b(?! (?:be|have been|feel|find|"
    r"wonder|think|know)\b)",
    re.I,
)
_HEDGE = re.compile(
    r"\b(?:try|maybe|perhaps|could|might|if you (?:like|want|can)|when you can|or something|i'd|i would)\b", re.I
)


def _is_order(sentence: str) -> bool:
    """A bare command with no hedge, not a question, not reported or hypothetical (CODING.md 4.5)."""
    if sentence.rstrip().endswith("?") or _HYPOTHETICAL.search(sentence) or _HEDGE.search(sentence):
        return False
    if _NOT_AN_ORDER.search(sentence) or _COMMITMENT.search(sentence):
        return False
    return bool(_IMPERATIVE.search(sentence) or _MUST.search(sentence))


# A question asked before counts as repeated when this share of its content words were in an earlier question.
REPEAT_SHARE = 0.75
# Empathic moves of the ECCS "substantive" kind: two of them in different sentences make level 4.
_SUBSTANTIVE = frozenset(
    {"nurse_name", "nurse_understand", "nurse_respect", "nurse_explore", "complex_reflection", "affirm_strength"}
)
_EMPATHY_IF_EMOTION = frozenset({"direct_command", "minimal_encourager", "self_disclosure"})
# A short acknowledgement ("I'm so sorry.", "You're not alone.") is level 2, whatever act it is (CODING.md 4.10).
SHORT_ACKNOWLEDGEMENT = 5
_SDM_TALK = frozenset({"option_talk", "team_talk", "decision_talk"})
_CAPPING = {dim: {a.name for a in ACTS.values() if a.levels.get(dim, 4) <= 1} for dim in DIMENSIONS}


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
        lexicon = _pipeline.load_lexicon()
        # One pattern per emotion family, compiled once: it is matched against every patient line.
        self._emotions = {family: _phrases(words) for family, words in lexicon["emotions"].items() if words}
        self._emotion_order = list(lexicon.get("emotion_priority") or self._emotions)
        feeling_words = [w for words in lexicon["emotions"].values() for w in words if w.isalpha()]
        self._small_talk = _phrases(lexicon["cues"].get("small_talk") or ["football"])
        self._feelings = _phrases([*(lexicon["cues"].get("emotion_word") or []), *feeling_words, "feel", "feeling"])

    # -- analysis -------------------------------------------------------------------------------------------
    def analyse(self, text: str) -> tuple[list[Detection], list[Detection]]:
        """Sentence acts and cues of a reply, with character offsets into ``text``."""
        acts, cues, _ = self._analyse(text)
        return acts, cues

    def _analyse(self, text: str) -> tuple[list[Detection], list[Detection], list[str]]:
        doc = self.nlp.make_doc(normalise(text))
        doc = self._cues(self._sentencizer(doc))
        sents = list(doc.sents)
        predictions: list[tuple[str, float] | None] = [None] * len(sents)
        seconds: list[tuple[str, float] | None] = [None] * len(sents)
        threshold = MODEL_THRESHOLD
        if self._acts is not None and self._acts.model is not None:
            threshold = self._acts.threshold
            ranked = [self._acts.ranked(s.text) for s in sents]
            predictions = [r[0] for r in ranked]
            seconds = [r[1] if len(r) > 1 else None for r in ranked]
        elif self._textcat is not None and sents:
            sent_docs = [s.as_doc() for s in sents]
            for i, sdoc in enumerate(self._textcat.pipe(sent_docs)):
                if sdoc.cats:
                    predictions[i] = max(sdoc.cats.items(), key=lambda kv: kv[1])
        acts: list[Detection] = []
        cues: list[Detection] = []
        rule_spans = list(doc.spans[_pipeline.SPANS_KEY])
        for i, sent in enumerate(sents):
            sent_text = sent.text.strip()
            start = sent.start_char + (len(sent.text) - len(sent.text.lstrip()))
            whole = Detection("", start, start + len(sent_text), sent_text, "model", i)
            found: dict[str, Detection] = {}
            for span in rule_spans:
                if span.start < sent.start or span.end > sent.end:
                    continue
                kind, name = span.label_.split(":", 1)
                det = Detection(name, span.start_char, span.end_char, span.text, "rule", i)
                if kind == "cue":
                    cues.append(det)
                elif _in_scope(span, sent) and (name not in _OPENING_ONLY or span.start - sent.start <= 2):
                    found.setdefault(name, det)
            pred = predictions[i]
            if _MINIMAL.match(sent_text):
                found = {"minimal_encourager": _whole("minimal_encourager", whole, "rule")}
            elif _ACCEPTANCE.match(sent_text) or _BACKCHANNEL.match(sent_text):
                found = {}
            elif pred is not None and pred[0] != NO_ACT and pred[0] in ACTS and pred[0] not in found:
                if _trusted(pred, threshold, found, sent_text):
                    found[pred[0]] = _whole(pred[0], whole, "model")
                second = seconds[i]
                if second and _second_counts(second, threshold, found, sent_text):
                    found[second[0]] = _whole(second[0], whole, "model")
            if (
                _REASSURING_NEGATION.search(sent_text)
                and not sent_text.endswith("?")
                and not _PUT_DOWN.search(sent_text)
            ):
                found = {k: v for k, v in found.items() if k not in {"confront_blame", "abuse", "dismiss"}}
                found.setdefault("nurse_support", _whole("nurse_support", whole, "rule"))
            if _PUT_DOWN.search(sent_text):
                found.setdefault("dismiss", _whole("dismiss", whole, "rule"))
            elif _is_order(sent_text) and not found.keys() & {"advise_without_permission", "premature_reassurance"}:
                found.setdefault("direct_command", _whole("direct_command", whole, "rule"))
                found.pop("give_information", None)
            if _EXPERIENCE.search(sent_text) and not sent_text.endswith("?") and _DIRECTIVE.search(sent_text) is None:
                if not found.keys() - HARMFUL_ACTS - {"give_information"} or _unsure_harm(pred, found):
                    found = {k: v for k, v in found.items() if k not in HARMFUL_ACTS or v.source == "rule"}
                    found.pop("give_information", None)
                    found.setdefault("simple_reflection", _whole("simple_reflection", whole, "rule"))
            elif not found and pred is not None and _set_aside(pred) and seconds[i] is not None:
                runner = seconds[i]
                assert runner is not None
                if runner[0] in ACTS and runner[0] not in HARMFUL_ACTS and runner[1] >= RUNNER_UP_THRESHOLD:
                    found[runner[0]] = _whole(runner[0], whole, "model")
            if not found and any(c.name == "bad_news" and c.sentence == i for c in cues):
                # A plain statement of the news is information even when the classifier hesitates.
                found["give_information"] = _whole("give_information", whole, "rule")
            _question_form(sent_text, whole, found)
            _reflection_form(found, whole, self._feelings)
            acts.extend(found.values())
        return acts, _dedupe(cues), [s.text.strip() for s in sents]

    def emotion_in(self, patient_line: str | None) -> str | None:
        """The emotion family most present in the patient's line (ties go to the lexicon's priority order),
        or None when there is no emotional cue. Families follow the NURSE emotion cues: fear, sadness, anger,
        shame, shock and overwhelm."""
        if not patient_line:
            return None
        low = normalise(patient_line).lower()
        counts = {family: len(pattern.findall(low)) for family, pattern in self._emotions.items()}
        best = max(counts.values(), default=0)
        if best == 0:
            return None
        return next(f for f in self._emotion_order if counts.get(f) == best)

    # -- scoring --------------------------------------------------------------------------------------------
    def score(
        self,
        text: str,
        context: ScoringContext | str | None = None,
        previous_acts: Iterable[str] = (),
        extra_jargon: Sequence[str] = (),
        nlu_intent: tuple[str, float] | None = None,
    ) -> TurnScore:
        """Score one trainee reply in its conversation.

        ``context`` is a :class:`ScoringContext`, or (older callers) just the patient's previous line, with
        ``previous_acts`` and ``extra_jargon`` beside it. ``nlu_intent`` (Rasa's whole-message intent and
        confidence) is used only when neither the classifier nor the rules found any act, so Rasa and the scorer
        never contradict each other. Returns a :class:`TurnScore`: acts and cues with character offsets into
        ``text``, each dimension 0-4 or None (not applicable) with its evidence, and one tip.
        """
        ctx = _as_context(context, previous_acts, extra_jargon)
        acts, cues, sentences = self._analyse(text)
        norm = normalise(text)
        cues.extend(_extra_jargon(norm, ctx.jargon, {(c.start, c.end) for c in cues}))
        if not acts and _nlu_counts(nlu_intent, norm):
            assert nlu_intent is not None
            acts.append(Detection(nlu_intent[0], 0, len(norm.rstrip()), norm.rstrip(), "nlu", 0))
        if ctx.patient_line:
            acts = _echo(norm, normalise(ctx.patient_line), acts)
            acts = _said_back(acts, normalise(ctx.patient_line), self._feelings)
            if _ASKED_FOR_ADVICE.search(normalise(ctx.patient_line)):
                acts = _requested(acts)
        codes: dict[str, str] = {}
        if self._codes is not None and self._codes.heads:
            codes = self._codes.predict(norm, ctx.patient_line, [a.name for a in acts])
            acts = self._apply_codes(norm, codes, acts)
        emotion = ctx.emotion or self.emotion_in(ctx.patient_line)
        repeated = _repeated_questions(acts, ctx.previous_replies)
        turn = _Turn(acts, cues, emotion, ctx, repeated, norm, sentences, self._small_talk)
        dims = {
            "empathy": _empathy(turn),
            "collaboration": _collaboration(turn),
            "shared_decision": _shared_decision(turn),
        }
        names = {a.name for a in acts}
        tip = choose_tip(
            names,
            {c.name for c in cues},
            emotion,
            ctx.previous_acts,
            tips=ctx.tips,
            patient_line=ctx.patient_line,
            decision_in_play=ctx.decision_in_play,
            misfit_acts=ctx.misfit_acts,
            repeated=bool(repeated),
            dims=dims,
        )
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


def _as_context(
    context: ScoringContext | str | None, previous_acts: Iterable[str], jargon: Sequence[str]
) -> ScoringContext:
    if isinstance(context, ScoringContext):
        return context
    return ScoringContext(patient_line=context, previous_acts=tuple(previous_acts), jargon=tuple(jargon))


def _whole(name: str, whole: Detection, source: str) -> Detection:
    return Detection(name, whole.start, whole.end, whole.text, source, whole.sentence)


NO_ACT_THRESHOLD = 0.5  # "no act" is believed only when the classifier is this sure of it


def _set_aside(pred: tuple[str, float]) -> bool:
    """A top guess the scorer does not act on: an unsure harm, or an unsure "no act"."""
    return pred[0] in HARMFUL_ACTS or (pred[0] == NO_ACT and pred[1] < NO_ACT_THRESHOLD)


def _second_counts(second: tuple[str, float], threshold: float, found: dict[str, Detection], sentence: str) -> bool:
    """The classifier's runner-up counts too when it is likely and harmless: a sentence often does two things."""
    name, p = second
    return (
        name in ACTS
        and name not in found
        and name not in HARMFUL_ACTS
        and p >= SECOND_THRESHOLD
        and _trusted(second, threshold, found, sentence)
    )


def _nlu_counts(nlu_intent: tuple[str, float] | None, text: str) -> bool:
    """Rasa's whole-message intent fills in for an uncoded reply, never with a harm and never for a bare
    acknowledgement."""
    if not nlu_intent or nlu_intent[0] not in ACTS or nlu_intent[1] < 0.5 or nlu_intent[0] in HARMFUL_ACTS:
        return False
    return not (_MINIMAL.match(text) or _ACCEPTANCE.match(text) or _BACKCHANNEL.match(text))


def _trusted(pred: tuple[str, float], threshold: float, found: dict[str, Detection], sentence: str) -> bool:
    """Whether the classifier's top act stands: confident enough, and sure when it would cost points or
    contradict what a precise rule found in the same sentence."""
    name, p = pred
    if p < threshold:
        return False
    if found and p < CONFLICT_THRESHOLD:
        return False  # a precise rule already read this sentence; only a sure classifier adds to it
    if name in HARMFUL_ACTS:
        if p < HARM_THRESHOLD or any(n not in HARMFUL_ACTS for n in found):
            return False
        if p < NEGATED_HARM_THRESHOLD and _NEGATED.search(sentence) and name in _NEGATABLE:
            return False  # "I'm not going to ask you to stop", "You don't have to hear it all now"
        if _HYPOTHETICAL.search(sentence) and sentence.rstrip().endswith("?"):
            return False
    return True


def _unsure_harm(pred: tuple[str, float] | None, found: dict[str, Detection]) -> bool:
    """The classifier's harmful act is a guess a reflection's shape overrules (below p = 0.6)."""
    return (
        pred is not None
        and pred[0] in HARMFUL_ACTS
        and pred[1] < 0.6
        and not any(d.source == "rule" for d in found.values())
    )


def _in_scope(span: Span, sent: Span) -> bool:
    """A rule phrase counts only when the speaker says it: not negated just before it ("it isn't your own
    fault"), not inside quotation marks, not reported ("she said you should have...") and not a hypothetical
    question ("if I said you'll be fine, would you believe me?")."""
    doc = span.doc
    before = doc[max(sent.start, span.start - 3) : span.start]
    if any(t.lower_ in _NEGATORS for t in before):
        return False
    lead = doc[sent.start : span.start]
    if sum(t.text in {'"', "'"} and t.is_quote for t in lead) % 2 == 1:
        return False
    if any(t.lower_ in _REPORTING for t in lead):
        return False
    return not (_HYPOTHETICAL.search(sent.text) and sent.text.rstrip().endswith("?"))


def _question_form(sent_text: str, whole: Detection, found: dict[str, Detection]) -> None:
    """A question or open request always carries its form, open or closed (CODING.md 4.6), beside what it
    does; tag and rhetorical questions carry none. A statement in the other person's terms said with a rising
    voice ("So you're not sure yet?") is a reflection, as MITI codes it."""
    is_question = sent_text.endswith("?") or _OPEN_REQUEST.search(sent_text) is not None
    for form in _QUESTION_ACTS:
        if form in found and found[form].source == "model":
            del found[form]
    if not is_question or _TAG_QUESTION.search(sent_text) or _RHETORICAL.match(sent_text):
        return
    if any(n in HARMFUL_ACTS for n in found) and not _OPEN_START.search(sent_text):
        return
    opens = _OPEN_START.search(sent_text) or _OPEN_REQUEST.search(sent_text) or _EMBEDDED_OPEN.search(sent_text)
    kind = "open_question" if opens else "closed_question"
    asked = any(n in ACTS and ACTS[n].question for n in found)
    if kind == "closed_question" and not asked and _is_reflection_shape(sent_text):
        found["simple_reflection"] = _whole("simple_reflection", whole, "rule")
        return
    for name in [n for n in found if n in ACTS and ACTS[n].reflection and not ACTS[n].question]:
        if found[name].source == "model" and name not in {"nurse_name", "nurse_understand"}:
            del found[name]  # a question is not a statement of the patient's experience
    found.setdefault(kind, _whole(kind, whole, "rule"))


def _reflection_form(found: dict[str, Detection], whole: Detection, feelings: re.Pattern[str]) -> None:
    """Naming a feeling is also a reflection (CODING.md 4.7): complex here; :func:`_said_back` makes it simple
    when the patient had already named that feeling."""
    named = "nurse_name" in found and not {"simple_reflection", "complex_reflection"} & set(found)
    if named and feelings.search(whole.text.lower()) and not whole.text.rstrip().endswith("?"):
        found["complex_reflection"] = _whole("complex_reflection", whole, "rule")


def _said_back(acts: list[Detection], client_line: str, feelings: re.Pattern[str]) -> list[Detection]:
    """A named feeling the patient had put into words themselves is a simple reflection (CODING.md 4.7), and a
    question made of the patient's own words ("dead weight??") is an echo, not a question (4.6)."""
    theirs = set(feelings.findall(client_line.lower()))
    out = []
    for det in acts:
        if det.name == "complex_reflection" and det.source == "rule" and theirs:
            det = replace(det, name="simple_reflection")
        if det.name in _QUESTION_ACTS and det.source == "rule":
            mine = _content_words(det.text)
            if len(mine) >= 2 and mine <= _content_words(client_line) and len(det.text.split()) <= 6:
                det = replace(det, name="simple_reflection")
        out.append(det)
    names: set[str] = set()
    return [d for d in out if not (d.name in names or names.add(d.name))]  # type: ignore[func-returns-value]


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


def _echo(reply: str, client_line: str, acts: list[Detection]) -> list[Detection]:
    """A reply that mostly says the patient's own words back is a simple reflection, whatever those words
    are: an echo of "I've had enough" is not blame (CODING.md, section 1, echoes). Harmful acts the
    classifier guessed for the echoed words are dropped."""
    if reply.strip().endswith("?") and not _is_reflection_shape(reply.strip()):
        return acts
    body = reply.strip()
    if len(body.split()) > ECHO_WORDS or len(split_sentences(body)) > 1 or _FIRST_PERSON.search(body):
        return acts
    if _DIRECTIVE.search(body) or _SUGGESTION.search(body):
        return acts
    mine = _content_words(reply)
    if len(mine) < 2 or len(mine & _content_words(client_line)) < ECHO_SHARE * len(mine):
        return acts
    if _negates(reply) and not _negates(client_line):
        return acts  # "You're not taking up my time" answers the words; it does not say them back
    kept = [a for a in acts if not (a.name in HARMFUL_ACTS and a.source != "rule")]
    if any(ANNOMI_BEHAVIOUR.get(a.name, "other") != "other" for a in kept):
        return kept
    body = reply.strip()
    start = len(reply) - len(reply.lstrip())
    return [*kept, Detection("simple_reflection", start, start + len(body), body, "rule", 0)]


def _requested(acts: list[Detection]) -> list[Detection]:
    """Advice and instructions the patient asked for are information (CODING.md 4.4); a prohibition given in
    answer to "can I still...?" stays an order."""
    out: list[Detection] = []
    for det in acts:
        advice = det.name == "advise_without_permission"
        order = det.name == "direct_command" and not _PROHIBITION.search(det.text)
        out.append(replace(det, name="give_information") if advice or order else det)
    names: set[str] = set()
    return [d for d in out if not (d.name in names or names.add(d.name))]  # type: ignore[func-returns-value]


def _negates(text: str) -> bool:
    return any(
        w in _NEGATORS or w.endswith("n't") or w.endswith("nt") and w in _TEXT_NEGATORS for w in text.lower().split()
    )


_TEXT_NEGATORS = frozenset({"dont", "wont", "cant", "wouldnt", "isnt", "arent", "wasnt", "didnt", "doesnt", "havent"})


def _repeated_questions(acts: Sequence[Detection], previous_replies: Sequence[str]) -> list[Detection]:
    """Questions of this reply already asked in an earlier reply: three or more content words, most of them
    (REPEAT_SHARE) in one earlier sentence. Asking again earns nothing (CODING.md 4.14). Earlier replies may
    come without punctuation (the engine keeps them normalised), then the whole reply is compared."""
    earlier = [
        _content_words(sentence)
        for reply in previous_replies
        for sentence in re.split(r"(?<=[.?!])\s+", normalise(reply))
    ]
    earlier = [e for e in earlier if e]
    repeated = []
    for det in acts:
        if det.name not in ACTS or not ACTS[det.name].question:
            continue
        words = _content_words(det.text)
        if len(words) >= 3 and any(len(words & e) >= REPEAT_SHARE * len(words) for e in earlier):
            repeated.append(det)
    return repeated


@dataclass
class _Turn:
    acts: list[Detection]
    cues: list[Detection]
    emotion: str | None
    ctx: ScoringContext
    repeated: list[Detection]
    text: str
    sentences: list[str] = field(default_factory=list)
    small_talk: re.Pattern[str] = re.compile(r"(?!x)x")  # the lexicon's small-talk phrases

    def sentence_of(self, det: Detection) -> str:
        return self.sentences[det.sentence] if 0 <= det.sentence < len(self.sentences) else det.text

    def words_in_sentence(self, det: Detection) -> int:
        if 0 <= det.sentence < len(self.sentences):
            return len(self.sentences[det.sentence].split())
        return len(det.text.split())

    @property
    def counted(self) -> list[Detection]:
        """Acts that count for points: a repeated question earns nothing."""
        again = {(d.name, d.start) for d in self.repeated}
        return [a for a in self.acts if a.name in ACTS and (a.name, a.start) not in again]

    @property
    def names(self) -> set[str]:
        return {a.name for a in self.acts}

    def misfits(self) -> list[Detection]:
        return [a for a in self.acts if a.name in self.ctx.misfit_acts]


def _evidence(dets: Iterable[Detection], effect: str) -> list[Evidence]:
    out: list[Evidence] = []
    seen: set[str] = set()
    for det in dets:
        if det.name not in seen:
            seen.add(det.name)
            out.append(Evidence(det.start, det.end, det.text, label(det.name), effect))
    return out


def _level(dim: str, acts: Iterable[Detection], harmful: bool) -> list[tuple[int, Detection]]:
    return [
        (ACTS[a.name].levels[dim], a)
        for a in acts
        if a.name in ACTS and dim in ACTS[a.name].levels and (a.name in _CAPPING[dim]) == harmful
    ]


def _empathy(turn: _Turn) -> Dimension:
    """Empathy by the ECCS/NURSE levels of CODING.md section 2 and rules 4.9-4.11, 4.16, 4.17."""
    caps = _level("empathy", turn.acts, harmful=True)
    gains = _level("empathy", turn.counted, harmful=False)
    if turn.emotion is None:
        # With no feeling in the patient's line, an order or a minimal encourager says nothing about empathy;
        # blame, abuse, dismissing, reassuring too soon and rescuing still do (CODING.md 4.10).
        caps = [(v, d) for v, d in caps if d.name not in _EMPATHY_IF_EMOTION]
        gains = [(v, d) for v, d in gains if d.name not in _EMPATHY_IF_EMOTION]
    minus = [d for _, d in caps] + turn.misfits()
    jargon = [c for c in turn.cues if c.name == "jargon"]
    if not caps and not gains and turn.emotion is None:
        return Dimension(None, MAX_SCORE, False, _NOT_APPLICABLE["empathy"], [])
    if caps and min(v for v, _ in caps) == 0:
        return Dimension(0, MAX_SCORE, True, _reason([], minus), _evidence(minus, "-"))
    gains = [(_acknowledged(turn, v, d), d) for v, d in gains]
    gains = [(1 if _PERFUNCTORY.match(turn.sentence_of(d)) else v, d) for v, d in gains]
    score = max((v for v, _ in gains), default=0)
    substantive = {d.sentence for v, d in gains if v >= 3 and d.name in _SUBSTANTIVE}
    kinds = {d.name for v, d in gains if v >= 3 and d.name in _SUBSTANTIVE}
    if len(substantive) >= 2 and len(kinds) >= 2:
        score = 4
    elif score == 3 and "nurse_support" in {d.name for _, d in gains} and len(kinds) == 1:
        score = 3
    plus = [d for v, d in gains if v >= 2]
    if not gains:
        score = _unanswered(turn)
    if caps:
        score = min(score, 1) if gains else 1
    if turn.misfits():
        score = min(score, 1)
    if jargon and turn.emotion is not None:
        score = min(score, JARGON_CAP)
        minus += jargon
    reason = _reason(plus, minus) if gains or minus else f"The patient's {turn.emotion} was left unanswered."
    return Dimension(score, MAX_SCORE, True, reason, _evidence(plus, "+") + _evidence(minus, "-"))


def _acknowledged(turn: _Turn, level: int, det: Detection) -> int:
    """A short statement is an acknowledgement (level 2) whatever act it is: "I'm so sorry." (CODING.md 4.10)."""
    short = turn.words_in_sentence(det) <= SHORT_ACKNOWLEDGEMENT and not ACTS[det.name].question
    return min(level, 2) if short else level


# The patient asked for the facts: a question, or a plea to be told ("Please just say it.").
_ASKED = re.compile(
    r"\?|\b(?:tell me|just say it|say it|give it (?:to )?me straight|be (?:honest|straight) with me|i'm listening)\b",
    re.I,
)


def _unanswered(turn: _Turn) -> int:
    """An emotion with no empathic move: 0, except a bare acceptance (1, rule 4.11) and an honest factual answer
    to a worried question (1, rule 4.9)."""
    if not turn.acts:
        return 1 if len(turn.text.split()) <= 4 else 0
    asked = _ASKED.search(turn.ctx.patient_line or "") is not None
    informs = turn.names & {"give_information", "check_understanding"}
    if (
        asked
        and informs
        and turn.emotion in {"fear", "shock", "overwhelm"}
        and not any(c.name == "jargon" for c in turn.cues)
    ):
        return 1
    return 0


def _collaboration(turn: _Turn) -> Dimension:
    """Collaboration by MITI partnership levels (CODING.md section 2, rules 4.12-4.15, 4.17): an act that
    commands, blames, abuses or decides for the patient sets 0 even beside good moves; unasked advice,
    persuading, dismissing, rescuing, reassuring too soon, a repeated question or a misfit move sets 1."""
    caps = _level("collaboration", turn.acts, harmful=True)
    gains = _level("collaboration", turn.counted, harmful=False)
    minus = [d for _, d in caps] + turn.repeated + turn.misfits()
    if not turn.acts or turn.names <= {"greet_introduce"}:
        if turn.names or not turn.text.strip():
            return Dimension(None, MAX_SCORE, False, _NOT_APPLICABLE["collaboration"], [])
        return Dimension(2, MAX_SCORE, True, "Neutral: nothing in this turn shares or takes power.", [])
    score = min(v for v, _ in caps) if caps else max((v for v, _ in gains), default=2)
    chat = _small_talk_started(turn)
    if turn.repeated or turn.misfits() or chat:
        score = min(score, 1)
        minus += chat
    plus = [d for v, d in gains if v >= 3]
    return Dimension(score, MAX_SCORE, True, _reason(plus, minus), _evidence(plus, "+") + _evidence(minus, "-"))


# The patient's own line puts a choice on the table ("I can't decide about the surgery"): three-talk applies.
_DECISION_LINE = re.compile(
    r"\b(?:decide|decision|deciding|choose|choice|whether (?:to|i should)|should i (?:have|take|go|start|stop)|"
    r"which (?:one|option|treatment)|can't make up my mind|option|options)\b",
    re.I,
)


def _small_talk_started(turn: _Turn) -> list[Detection]:
    """Small talk the clinician starts steps around the patient's agenda (CODING.md 4.13): collaboration 1.
    Answering small talk the patient began is friendly, not off topic."""
    chat = [c for c in turn.cues if c.name == "small_talk"]
    if not chat or turn.small_talk.search((turn.ctx.patient_line or "").lower()):
        return []
    return chat


def _shared_decision(turn: _Turn) -> Dimension:
    """Shared decision by three-talk / OPTION-5 levels (CODING.md section 2, rules 4.1-4.4): null unless a
    decision is in play or the reply opens or settles one; deciding for the patient is 0, option, team or
    decision talk 3, two of them together 4."""
    names = {a.name for a in turn.counted}
    talk = [a for a in turn.counted if a.name in _SDM_TALK]
    decided = [a for a in turn.acts if a.name == "decide_for_patient"]
    in_play = turn.ctx.decision_in_play or bool(_DECISION_LINE.search(turn.ctx.patient_line or ""))
    if not in_play and not talk and not decided:
        return Dimension(None, MAX_SCORE, False, _NOT_APPLICABLE["shared_decision"], [])
    minus: list[Detection] = list(decided)
    if decided or (in_play and "direct_command" in turn.names):
        minus += [a for a in turn.acts if a.name == "direct_command"]
        score = 0
    elif in_play and turn.names & {"advise_without_permission", "persuade_warn", "rescue_take_over", "dismiss"}:
        minus += [
            a
            for a in turn.acts
            if a.name in {"advise_without_permission", "persuade_warn", "rescue_take_over", "dismiss"}
        ]
        score = 1
    elif len({a.name for a in talk}) >= 2 or (talk and "emphasise_autonomy" in names):
        score = 4
    elif talk or (in_play and "emphasise_autonomy" in names):
        score = 3
    else:
        score = 2
    plus = [
        a
        for a in turn.counted
        if a.name in _SDM_TALK | {"emphasise_autonomy", "give_information", "check_understanding"}
    ]
    plus = plus if in_play or talk else []
    return Dimension(score, MAX_SCORE, True, _reason(plus, minus), _evidence(plus, "+") + _evidence(minus, "-"))


_NOT_APPLICABLE = {
    "empathy": "No emotional cue to answer and no empathic move in this turn.",
    "collaboration": "A greeting only: nothing yet to share or take power over.",
    "shared_decision": "No decision in play in this turn.",
}


def _reason(plus: Sequence[Detection], minus: Sequence[Detection]) -> str:
    good = sorted({label(d.name).lower() for d in plus})
    bad = sorted({label(d.name).lower() for d in minus})
    parts = []
    if good:
        parts.append("earned by " + ", ".join(good))
    if bad:
        parts.append("lost to " + ", ".join(bad))
    return ("; ".join(parts) or "neutral").capitalize() + "."


_DEFAULT: Scorer | None = None


def default_scorer() -> Scorer:
    """The process-wide scorer, loaded on first use (never at import time)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Scorer()
    return _DEFAULT
