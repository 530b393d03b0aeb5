"""Summarise Rasa's NLU cross-validation output (``make nlu-report``): per-intent F1 and the averages."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def load_report(folder: Path) -> dict[str, Any]:
    path = folder / "intent_report.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `rasa test nlu --cross-validation --out {folder}` first")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def format_report(report: dict[str, Any]) -> str:
    rows = [(name, v) for name, v in report.items() if isinstance(v, dict) and "f1-score" in v]
    intents = sorted(
        (r for r in rows if r[0] not in ("macro avg", "weighted avg", "micro avg")), key=lambda r: r[1]["f1-score"]
    )
    lines = [f"{'intent':<28} {'F1':>6} {'precision':>10} {'recall':>8} {'support':>8}"]
    for name, v in intents:
        lines.append(f"{name:<28} {v['f1-score']:>6.3f} {v['precision']:>10.3f} {v['recall']:>8.3f} {v['support']:>8}")
    for avg in ("macro avg", "weighted avg"):
        if avg in report:
            lines.append(f"{avg:<28} {report[avg]['f1-score']:>6.3f}")
    if "accuracy" in report:
        lines.append(f"{'accuracy':<28} {report['accuracy']:>6.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    folder = Path(args[0] if args else "results/nlu")
    try:
        report = load_report(folder)
    except FileNotFoundError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    sys.stdout.write(format_report(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
