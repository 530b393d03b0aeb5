"""Text hygiene (bot/text.py): the normal form, command-proof text for Rasa, and look-alike letters."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from hypothesis import given
from hypothesis import strategies as st

from bot.scenarios.guard import classify
from bot.text import for_rasa, normalise, skeleton

SLASHY = st.text(alphabet=st.sampled_from(["/", " ", "\t", "\n", "\u3000", "\u200b", "a", "{", "}", '"']), max_size=30)


@given(st.one_of(SLASHY, st.text(max_size=60)))
def test_nothing_typed_reaches_rasa_as_a_command(text: str) -> None:
    # Rasa strips the text and reads a leading "/" as an intent payload (YAMLStoryReader.unpack_regex_message).
    assert not for_rasa(normalise(text)).strip().startswith("/")


@given(st.text(max_size=80))
def test_normalised_text_is_stable_and_storable(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    once.encode("utf-8")  # no lone surrogates left: storable on SQLite and PostgreSQL
    assert "\x00" not in once and "\u200b" not in once
    assert once == once.strip()


def test_the_issue_examples() -> None:
    assert for_rasa("/ /restart") == "restart"
    assert for_rasa(" / /ask_hint") == "ask_hint"
    assert for_rasa("///") == ""
    assert normalise("\u200b") == ""
    assert normalise("hi \ud83d") == "hi"
    assert normalise("Ｈｅｌｌｏ\u00a0there") == "Hello there"
    assert normalise("first\n\n\n\nsecond") == "first\n\nsecond"
    assert normalise("\u05e9\u05dc\u05d5\u05dd \U0001f642") == "\u05e9\u05dc\u05d5\u05dd \U0001f642"


def test_look_alike_letters_map_to_latin_for_the_guard_only() -> None:
    assert skeleton("\u0456diot") == "idiot"  # Cyrillic i
    assert skeleton("id\u0456\u043et") == "idiot"
    assert skeleton("plain English stays as it is") == "plain English stays as it is"
    assert classify("You're an id\u200biot") == "abuse"
    assert classify("You're an \u0456diot") == "abuse"
    assert classify("Tell me a j\u043eke") == "off_topic"
    assert classify("How are you feeling today?") is None


RASA_CHECK = textwrap.dedent(
    """
    import json, sys
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from bot.text import for_rasa, normalise
    for text in json.loads(sys.argv[1]):
        raw = YAMLStoryReader.unpack_regex_message(Message({"text": text}))
        safe = YAMLStoryReader.unpack_regex_message(Message({"text": for_rasa(normalise(text))}))
        print(json.dumps([raw.get("intent") is not None, safe.get("intent") is not None]))
    """
)


def test_rasa_itself_reads_no_command_in_what_we_send() -> None:
    """The raw texts are commands to Rasa; what the web app sends for them is not (Rasa's own parser decides)."""
    texts = ["/restart", "/ /restart", " / /ask_hint", '/ /start_scenario{"scenario_id": "x"}', "/\t/restart"]
    result = subprocess.run(
        [sys.executable, "-c", RASA_CHECK, json.dumps(texts)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()[-len(texts) :]]
    assert rows[0] == [True, False]  # Rasa does read a bare "/restart" as a command
    assert all(safe is False for _raw, safe in rows)
