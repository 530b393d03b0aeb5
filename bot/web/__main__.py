"""Run the web app: ``python -m bot.web`` (``rapport run`` starts it next to Rasa and the action server)."""

from bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["web", *__import__("sys").argv[1:]]))
