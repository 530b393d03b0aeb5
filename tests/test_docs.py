"""The docs state the scorer's levels; this keeps the table in docs/scoring.md equal to the code."""

from __future__ import annotations

import re
from pathlib import Path

from bot.scoring.taxonomy import ACTS

DOC = Path(__file__).resolve().parents[1] / "docs" / "scoring.md"


def test_levels_table_matches_the_taxonomy() -> None:
    rows = re.findall(r"^\| `(\w+)` \| [^|]+ \| ([^|]+) \| ([^|]+) \| ([^|]+) \|", DOC.read_text(), re.M)
    assert {name for name, *_ in rows} == set(ACTS)
    for name, *cells in rows:
        stated = {
            dim: int(c.strip())
            for dim, c in zip(("empathy", "collaboration", "shared_decision"), cells, strict=False)
            if c.strip() != "·"
        }
        assert stated == ACTS[name].levels, name
