"""Process-level settings shared by the entry points (never run at library import time)."""

from __future__ import annotations

import logging
import os
import sys


def skip_tensorflow_probe() -> None:
    """Stop thinc (under spaCy) from importing TensorFlow just to see whether it is there.

    Only the Rasa server needs TensorFlow; in the action server, the web app and the CLI the probe costs
    about two seconds and several hundred megabytes. Call before spaCy is imported, from entry points only.
    """
    if "tensorflow" not in sys.modules:
        sys.modules["tensorflow"] = None  # type: ignore[assignment]


def configure_logging() -> None:
    level = os.environ.get("RAPPORT_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
