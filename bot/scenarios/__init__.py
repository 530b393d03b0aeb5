"""Scenario engine: scenario files and the simulated patient that plays them."""

from bot.scenarios.engine import Engine, PatientState, StepResult, TurnInput
from bot.scenarios.model import Scenario, ScenarioError, get_scenario, library, load_scenario

__all__ = [
    "Engine",
    "PatientState",
    "StepResult",
    "TurnInput",
    "Scenario",
    "ScenarioError",
    "get_scenario",
    "library",
    "load_scenario",
]
