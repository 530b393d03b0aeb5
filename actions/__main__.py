"""Start the action server on 127.0.0.1 only (``python -m actions``): the web app is the one door."""

from __future__ import annotations

import os

from bot.runtime import configure_logging, skip_tensorflow_probe


def main() -> None:
    skip_tensorflow_probe()
    configure_logging()
    os.environ.setdefault("SANIC_HOST", "127.0.0.1")
    from rasa_sdk.endpoint import run

    from bot.scenarios.guard import load_language_models
    from bot.scoring import default_scorer

    default_scorer()  # load the models before the first trainee waits for them
    load_language_models()
    run("actions", port=int(os.environ.get("RAPPORT_ACTIONS_PORT", "5055")))


if __name__ == "__main__":
    main()
