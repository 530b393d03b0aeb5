"""The scorer: a pure library (spaCy only) that turns a trainee reply into acts, cues and scores."""

from bot.scoring.scorer import Scorer, TurnScore, default_scorer
from bot.scoring.summary import summarise_session

__all__ = ["Scorer", "TurnScore", "default_scorer", "summarise_session"]
