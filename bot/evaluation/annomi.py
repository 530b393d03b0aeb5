"""Read AnnoMI-format CSV files (the "full" file with subtypes or the "simple" one) into sessions.

One row is one utterance. The full file repeats some utterances once per annotator; we keep one annotation
per (transcript_id, utterance_id): the majority main behaviour (ties go to the lowest annotator id), with the
subtypes of the first annotator who gave it. That is how the authors built the simple file from the full one.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

BEHAVIOURS = ("reflection", "question", "therapist_input", "other")
_NA = {"", "n/a", "na", "nan", "none"}
REQUIRED = ("transcript_id", "utterance_id", "interlocutor", "utterance_text")


@dataclass(frozen=True)
class Utterance:
    """One coded utterance; therapist rows carry the behaviour codes, client rows the talk type."""

    transcript_id: str
    utterance_id: int
    speaker: str  # "therapist" or "client"
    text: str
    behaviour: str | None = None
    reflection: str | None = None  # "simple" or "complex" (full file only)
    question: str | None = None  # "open" or "closed" (full file only)
    inputs: tuple[str, ...] = ()  # therapist-input subtypes (full file only)
    talk_type: str | None = None  # client: change, neutral or sustain


@dataclass
class Session:
    """One transcript in utterance order, with its session-level quality code."""

    transcript_id: str
    quality: str | None  # "high" or "low"
    utterances: list[Utterance] = field(default_factory=list)

    @property
    def therapist(self) -> list[Utterance]:
        return [u for u in self.utterances if u.speaker == "therapist"]


def _value(row: dict[str, str], key: str) -> str | None:
    raw = (row.get(key) or "").strip()
    return None if raw.lower() in _NA else raw


def _subtypes(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    parts = [p.strip() for p in raw.replace(";", ",").replace("|", ",").split(",")]
    return tuple(p for p in parts if p and p.lower() not in _NA)


def _annotator(row: dict[str, str]) -> int:
    raw = _value(row, "annotator_id")
    try:
        return int(float(raw)) if raw is not None else 0
    except ValueError:
        return 0


def _pick(rows: Sequence[dict[str, str]]) -> dict[str, str]:
    """The majority annotation of one utterance; ties go to the lowest annotator id."""
    if len(rows) == 1:
        return rows[0]
    ordered = sorted(rows, key=_annotator)
    key = "main_therapist_behaviour" if _value(ordered[0], "interlocutor") == "therapist" else "client_talk_type"
    votes = Counter(_value(r, key) for r in ordered)
    top = max(votes.values())
    winner = next(_value(r, key) for r in ordered if votes[_value(r, key)] == top)
    return next(r for r in ordered if _value(r, key) == winner)


def _utterance(row: dict[str, str]) -> Utterance:
    speaker = (_value(row, "interlocutor") or "").lower()
    therapist = speaker == "therapist"
    return Utterance(
        transcript_id=str(row["transcript_id"]).strip(),
        utterance_id=int(float(row["utterance_id"])),
        speaker=speaker,
        text=(row.get("utterance_text") or "").strip(),
        behaviour=_value(row, "main_therapist_behaviour") if therapist else None,
        reflection=_value(row, "reflection_subtype") if therapist else None,
        question=_value(row, "question_subtype") if therapist else None,
        inputs=_subtypes(_value(row, "therapist_input_subtype")) if therapist else (),
        talk_type=None if therapist else _value(row, "client_talk_type"),
    )


def sessions_from_rows(rows: Iterable[dict[str, str]]) -> list[Session]:
    """Group rows into sessions, one annotation per utterance, ordered by transcript and utterance id."""
    grouped: dict[tuple[str, int], list[dict[str, str]]] = defaultdict(list)
    quality: dict[str, str | None] = {}
    for row in rows:
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise ValueError(f"not an AnnoMI file: missing column(s) {', '.join(missing)}")
        tid = str(row["transcript_id"]).strip()
        grouped[(tid, int(float(row["utterance_id"])))].append(row)
        quality.setdefault(tid, _value(row, "mi_quality"))
    repeats = sum(1 for rs in grouped.values() if len(rs) > 1)
    if repeats:
        log.info("%d utterances coded more than once: keeping the majority annotation of each", repeats)
    sessions: dict[str, Session] = {}
    for (tid, _), rs in sorted(grouped.items(), key=lambda kv: (_sort_key(kv[0][0]), kv[0][1])):
        sessions.setdefault(tid, Session(tid, quality[tid])).utterances.append(_utterance(_pick(rs)))
    return list(sessions.values())


def _sort_key(transcript_id: str) -> tuple[int, str]:
    return (int(transcript_id), "") if transcript_id.isdigit() else (1 << 62, transcript_id)


def read_annomi(path: str | Path) -> list[Session]:
    """Sessions from an AnnoMI CSV (full or simple format)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        sessions = sessions_from_rows(csv.DictReader(handle))
    log.info("read %d sessions from %s", len(sessions), path)
    return sessions


def has_subtypes(sessions: Sequence[Session]) -> bool:
    """Whether the file coded reflection and question subtypes (the full format)."""
    return any(u.reflection or u.question for s in sessions for u in s.therapist)
