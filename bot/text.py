"""Text hygiene for everything a person types into Rapport: one normal form, commands never smuggled to Rasa,
and a look-alike-proof form for the rules that must not be dodged.

- ``normalise`` is applied to every text field before it is checked or stored: Unicode NFKC (so full-width
  and other compatibility forms become their plain letters), then lone surrogates, control characters and
  invisible format characters (zero-width space, joiners, direction marks, BOM) are removed and runs of
  spaces collapsed. Newlines are kept. A message that is empty after this was empty to the reader too.
- ``for_rasa`` is what the web app sends to Rasa: Rasa reads a message whose stripped text starts with ``/``
  as an intent payload (``/restart``), so leading slashes and whitespace are peeled off until none is left.
- ``skeleton`` maps letters from other scripts that look like Latin letters (Cyrillic ``і``, Greek ``ο``)
  to those letters, after Unicode's confusables data (UTS #39, through ``confusable_homoglyphs``), so a
  look-alike cannot slip past the guard's word rules. It is for matching only, never for storage.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co"}
_KEEP = {"\n", "\t"}
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalise(text: str) -> str:
    """The canonical form of typed text (see the module docstring); ``str`` in, ``str`` out, never raises."""
    # Lone surrogates cannot be NFKC-normalised safely or encoded as UTF-8: drop them first.
    text = "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)
    text = unicodedata.normalize("NFKC", text)
    kept = "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in _DROP_CATEGORIES)
    lines = [_SPACES.sub(" ", line).strip() for line in kept.replace("\t", " ").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def for_rasa(text: str) -> str:
    """The text as Rasa may see it: never a ``/intent`` payload, however many slashes and spaces lead it.

    Returns ``""`` when nothing but slashes and whitespace was typed.
    """
    out = text.strip()
    while out.startswith("/"):
        out = out.lstrip("/").strip()
    return out


@lru_cache(maxsize=1)
def _lookalikes() -> dict[str, str]:
    from confusable_homoglyphs.confusables import confusables_data

    table: dict[str, str] = {}
    for target, entries in confusables_data.items():
        if not (target.isascii() and target.isalnum()):
            continue
        for entry in entries:
            char = entry.get("c", "")
            if len(char) != 1 or char.isascii():
                continue
            # A lower-case look-alike maps to a lower-case letter where the data offers one (і -> i, not l).
            if char not in table or (char.islower() and target.islower() and not table[char].islower()):
                table[char] = target
    return table


def skeleton(text: str) -> str:
    """``text`` with look-alike letters of other scripts replaced by the Latin letters they imitate."""
    table = _lookalikes()
    return "".join(table.get(ch, ch) for ch in text)
