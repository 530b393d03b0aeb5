"""Read the three EPITOME files (emotional reactions, interpretations, explorations) from a folder.

Each row is a (seeker post, response) pair rated 0 (none), 1 (weak) or 2 (strong) for one mechanism, with
``|``-separated rationale spans. Files are found by name: ``*emotional-reactions*.csv``,
``*interpretations*.csv`` and ``*explorations*.csv``.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MECHANISMS = {"er": "emotional-reactions", "ip": "interpretations", "ex": "explorations"}
LEVELS = (0, 1, 2)


@dataclass(frozen=True)
class Pair:
    """One rated response: the seeker's post is the context the scorer takes."""

    seeker_id: str
    response_id: str
    seeker: str
    response: str
    level: int
    rationales: tuple[str, ...] = ()


def find_files(folder: str | Path) -> dict[str, Path]:
    """The file of each mechanism in ``folder``; raises when one is missing or ambiguous."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"not a folder: {root}")
    found: dict[str, Path] = {}
    for key, stem in MECHANISMS.items():
        matches = sorted(p for p in root.glob("*.csv") if stem in p.name.lower())
        if len(matches) != 1:
            raise FileNotFoundError(f"expected one *{stem}*.csv in {root}, found {len(matches)}")
        found[key] = matches[0]
    return found


def read_pairs(path: str | Path) -> list[Pair]:
    """Pairs from one EPITOME CSV (columns sp_id, rp_id, seeker_post, response_post, level, rationales)."""
    pairs: list[Pair] = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            missing = [k for k in ("seeker_post", "response_post", "level") if k not in row]
            if missing:
                raise ValueError(f"not an EPITOME file: missing column(s) {', '.join(missing)}")
            spans = tuple(s.strip() for s in (row.get("rationales") or "").split("|") if s.strip())
            pairs.append(
                Pair(
                    seeker_id=(row.get("sp_id") or "").strip(),
                    response_id=(row.get("rp_id") or "").strip(),
                    seeker=row["seeker_post"] or "",
                    response=row["response_post"] or "",
                    level=int(float(row["level"])),
                    rationales=spans,
                )
            )
    log.info("read %d pairs from %s", len(pairs), path)
    return pairs


def read_epitome(folder: str | Path) -> dict[str, list[Pair]]:
    """All three mechanisms, keyed ``er``, ``ip`` and ``ex``."""
    return {key: read_pairs(path) for key, path in find_files(folder).items()}
