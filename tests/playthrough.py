"""Play scripted trainee turns through the real scorer and engine, as the product does, for scenario tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.rubrics import evaluate
from bot.scenarios import Engine, Scenario, StepResult, TurnInput
from bot.scoring import Scorer


@dataclass
class Playthrough:
    scenario: Scenario
    steps: list[StepResult] = field(default_factory=list)
    turns: list[dict[str, Any]] = field(default_factory=list)  # scored trainee turns, shaped as the store keeps them

    @property
    def final(self) -> Any:
        return self.steps[-1].state

    @property
    def pools(self) -> list[str]:
        return [s.pool for s in self.steps]

    def marks(self, mark: str) -> int:
        """How many patient lines carried a rubric mark (change_talk, withdrawal, agency, ...)."""
        return sum(1 for s in self.steps if mark in s.marks)

    def value(self, name: str) -> float:
        return float(self.final.values[name])

    def mean_total(self) -> float:
        """Mean per-turn score summed over the three dimensions (n/a counts as 0): the 'score gap' measure."""
        totals = [sum((d["score"] or 0) for d in t["score"]["dimensions"].values()) for t in self.turns]
        return sum(totals) / len(totals) if totals else 0.0

    def rubric(self) -> dict[str, Any]:
        return evaluate(self.scenario, self.turns, self.final.to_dict())

    def item(self, key: str) -> Any:
        return next(i["value"] for i in self.rubric()["items"] if i["key"] == key)


def play(
    scorer: Scorer,
    scenario: Scenario,
    lines: list[str],
    seed: int = 3,
    difficulty: str = "gentle",
    persona: str | None = None,
) -> Playthrough:
    """Each line is scored against the patient's last line, then moves the patient, exactly as practice.take_turn."""
    engine = Engine(scenario, difficulty, persona)
    result = engine.start(seed)
    out = Playthrough(engine.scenario, [result])
    index = 1
    for text in lines:
        if result.state.ended:
            break
        score = scorer.score(
            text,
            context=result.state.last_line,
            previous_acts=result.state.acts_seen,
            extra_jargon=scenario.jargon,
        )
        out.turns.append({"index": index, "text": text, "score": score.to_dict()})
        result = engine.step(result.state, TurnInput(frozenset(score.act_names), frozenset(score.cue_names), text))
        out.steps.append(result)
        index += 2
    return out
