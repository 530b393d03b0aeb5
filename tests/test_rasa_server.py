"""Our Rasa launcher's speed fix must keep Rasa's validation of action-server responses intact."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHECK = textwrap.dedent(
    """
    from jsonschema import ValidationError
    from bot.rasa_server import install
    from rasa.core.actions.action import RemoteAction

    install()
    action = RemoteAction("action_patient_turn", None)
    assert action._validate_action_result({"events": [], "responses": [{"custom": {"type": "system"}}]})
    for bad in ({"events": "not a list"}, {"events": [{"no": "event name"}]}):
        try:
            action._validate_action_result(bad)
        except ValidationError as err:
            assert "Failed to validate Action server response" in err.message
        else:
            raise SystemExit(f"accepted {bad!r}")
    print("ok")
    """
)


def test_patched_validator_still_rejects_bad_responses() -> None:
    # In a child process: importing Rasa pulls in TensorFlow, which the test process keeps out.
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")
