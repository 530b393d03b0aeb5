"""The ``rapport`` command: run the product, score a reply, train the scorer, list scenarios."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.evaluation.cli import add_commands as add_evaluation_commands
from bot.runtime import configure_logging, skip_tensorflow_probe

log = logging.getLogger("rapport")
ROOT = Path(__file__).resolve().parents[1]


def _out(text: str = "") -> None:
    """The command's own answer goes to stdout; diagnostics go to logging (stderr)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def cmd_run(args: argparse.Namespace) -> int:
    from bot.services import InstanceBusy, Ports, Services
    from bot.store import database_url

    model = Path(args.model)
    if not model.exists():
        log.error("No Rasa model at %s. Run `make train` first (make run does this for you).", model)
        return 2
    ports = Ports(web=args.port, rasa=args.rasa_port, actions=args.actions_port)
    services = Services(model, database_url(), ports)
    stopping = False

    def _stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    started = time.monotonic()
    _out(f"Starting Rasa, the action server and the web app (logs in {services.log_dir}) ...")
    try:
        services.start()
    except InstanceBusy as exc:
        log.error("%s", exc)
        return 2
    except RuntimeError as exc:
        log.error("%s", exc)
        return 1
    _out(f"Rapport is ready in {time.monotonic() - started:.0f} s: open http://localhost:{ports.web}")
    _out("Press Ctrl-C to stop.")
    try:
        while not stopping:  # the services supervise themselves: a child that dies is restarted
            time.sleep(0.5)
    finally:
        _out("Stopping ...")
        services.stop()
        _out("Stopped.")
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    skip_tensorflow_probe()
    from bot.web.app import create_app

    port = int(os.environ.get("RAPPORT_WEB_PORT", args.port))
    os.environ["RAPPORT_WEB_PORT"] = str(port)  # names this instance: it frees only its own guards at start
    app = create_app(name="rapport_web")
    app.run(host=args.host, port=port, access_log=False, motd=False, workers=1)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    skip_tensorflow_probe()
    from bot.scoring import Scorer

    text = args.text
    if not text or not text.strip():
        log.error('Nothing to score: give the reply as text, e.g. rapport score "How are you feeling?"')
        return 2
    try:
        scorer = Scorer(args.model)
    except FileNotFoundError as exc:
        log.error("%s", exc)
        return 2
    result = scorer.score(text, context=args.context).to_dict()
    if args.json:
        _out(json.dumps(result))
        return 0
    for act in result["acts"]:
        _out(f'act  {act["label"]:<30} "{act["text"]}" ({act["source"]})')
    for cue in result["cues"]:
        _out(f'cue  {cue["label"]:<30} "{cue["text"]}"')
    for name, dim in result["dimensions"].items():
        value = "n/a" if dim["score"] is None else f"{dim['score']}/{dim['max']}"
        _out(f"{name:<16} {value:<5} {dim['reason']}")
    _out(f"tip  {result['tip']['text']}")
    _out(f"try  {result['tip']['alternative']}")
    return 0


# The scorer's training data: the Rasa NLU examples and the broader act examples written for the scorer.
DEFAULT_SCORER_DATA = (str(ROOT / "data" / "nlu"), str(ROOT / "training" / "acts"))


def _benchmark_pairs(args: argparse.Namespace) -> tuple[list[tuple[str, str]], list[Path]]:
    """The coded-replies benchmark's development part as training pairs (never its test part)."""
    if args.no_benchmark:
        return [], []
    from bot.evaluation.coded import BENCHMARK_DIR, read_benchmark, training_pairs

    items = [item for item in read_benchmark() if item["part"] == "dev"]
    files = sorted(BENCHMARK_DIR.glob("items-*.jsonl")) + [BENCHMARK_DIR / "gold.jsonl"]
    return training_pairs(items), files


def cmd_train_scorer(args: argparse.Namespace) -> int:
    skip_tensorflow_probe()
    from bot.scoring.train import cross_validate, nlu_files, read_nlu_examples, train_from_dir

    if args.cv:
        files = [f for folder in args.data or DEFAULT_SCORER_DATA for f in nlu_files(Path(folder))]
        result = cross_validate(read_nlu_examples(files) + _benchmark_pairs(args)[0], folds=args.cv, epochs=args.epochs)
        for act, f1 in sorted(result.pop("per_act_f1").items(), key=lambda kv: kv[1]):
            _out(f"{act:<28} F1 {f1:.3f}")
        _out(json.dumps(result))
        return 0
    folders = [Path(f) for f in args.data or DEFAULT_SCORER_DATA]
    extra, extra_files = _benchmark_pairs(args)
    meta = train_from_dir(folders, Path(args.out), args.epochs, args.seed, extra=extra, extra_files=extra_files)
    _out(f"Scorer trained on {meta['examples']} examples in {meta['train_seconds']} s -> {args.out}")
    return 0


def cmd_scenario_list(args: argparse.Namespace) -> int:
    from bot.scenarios import library

    for scenario in library().values():
        item = scenario.listing()
        _out(json.dumps(item) if args.json else f"{item['id']:<24} {item['theme']:<16} {item['title']}")
    return 0


def cmd_scenario_validate(args: argparse.Namespace) -> int:
    from bot.scenarios.model import validate_file

    status = 0
    for path in args.files:
        scenario, problems = validate_file(path)
        errors = [p for p in problems if p.severity == "error"]
        for problem in problems:
            _out(f"{path}:{problem.line or '?'}: {problem.severity}: {problem.describe()}")
        if errors or scenario is None:
            _out(f"{path}: {len(errors)} error(s), {len(problems) - len(errors)} warning(s): not usable yet")
            status = 1
        else:
            counts = ", ".join(
                f"{scenario_line_count(scenario.for_persona(p))} patient lines"
                + (f" as {p}" if scenario.personas else "")
                for p in scenario.persona_ids
            )
            _out(f"{path}: OK ({scenario.id}, {counts}, {len(problems)} warning(s))")
    return status


def scenario_line_count(scenario: Any) -> int:
    pools = [scenario.opening, *scenario.replies, *(e.pool for e in scenario.endings)]
    lines = {ln for p in pools for ln in p.lines} | {ln for c in scenario.concerns for ln in c.lines}
    return len(lines)


def cmd_scenario_new(args: argparse.Namespace) -> int:
    from bot.scenarios.template import render_template

    try:
        text, slug = render_template(args.name, args.theme)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    out = Path(args.dir) / f"{slug}.yml"
    if out.exists() and not args.force:
        log.error("%s already exists; choose another name or pass --force to overwrite it.", out)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    _out(f"Wrote {out}. Edit it, then run: rapport scenario validate {out}")
    _out(f"To use it without retraining, set RAPPORT_SCENARIO_DIRS={out.parent.resolve()}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.bench import run_benchmark

    return run_benchmark(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rapport", description="Practise difficult clinical conversations.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start Rasa, the action server and the web app")
    run.add_argument("--port", type=int, default=8000, help="the web app's port (the one to open)")
    run.add_argument("--rasa-port", type=int, default=5005)
    run.add_argument("--actions-port", type=int, default=5055)
    run.add_argument("--model", default=str(ROOT / "models" / "rapport.tar.gz"))
    run.set_defaults(func=cmd_run)

    web = sub.add_parser("web", help="run only the web app (Rasa must be running)")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8000)
    web.set_defaults(func=cmd_web)

    score = sub.add_parser("score", help="score one trainee reply")
    score.add_argument("text")
    score.add_argument("--context", help="the patient's previous line")
    score.add_argument("--model", help="scorer model folder (default: models/scorer or RAPPORT_SCORER_MODEL)")
    score.add_argument("--json", action="store_true", help="print one JSON object")
    score.set_defaults(func=cmd_score)

    train = sub.add_parser("train-scorer", help="train the scorer on NLU examples")
    train.add_argument(
        "--data",
        action="append",
        help="folder of NLU YAML examples (repeatable; default: data/nlu and training/acts)",
    )
    train.add_argument("--out", default=str(ROOT / "models" / "scorer"))
    train.add_argument("--epochs", type=int, default=12)
    train.add_argument("--seed", type=int, default=13)
    train.add_argument("--cv", type=int, default=0, metavar="FOLDS", help="cross-validate instead of training")
    train.add_argument(
        "--no-benchmark",
        action="store_true",
        help="do not add the coded-replies benchmark's development part to the training data",
    )
    train.set_defaults(func=cmd_train_scorer)

    bench = sub.add_parser("bench", help="latency, throughput and memory benchmark (prints a table and JSON)")
    bench.add_argument("--turns", type=int, default=8, help="trainee turns per conversation")
    bench.add_argument("--conversations", type=int, default=6, help="conversations per trainee")
    bench.add_argument("--skip-stock", action="store_true", help="do not measure the stock rasa init assistant")
    bench.set_defaults(func=cmd_bench)

    scenario = sub.add_parser("scenario", help="scenario tools")
    scen_sub = scenario.add_subparsers(dest="scenario_command", required=True)
    listing = scen_sub.add_parser("list", help="list the scenarios")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(func=cmd_scenario_list)
    validate = scen_sub.add_parser("validate", help="check scenario files; every problem with its line and a fix")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.set_defaults(func=cmd_scenario_validate)
    new = scen_sub.add_parser("new", help="write a commented scenario template to start from")
    new.add_argument("name", help="a short name, e.g. 'chest pain news'")
    new.add_argument("--theme", default="difficult-news", help="one of the six themes")
    new.add_argument("--dir", default=".", help="folder to write NAME.yml into")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    new.set_defaults(func=cmd_scenario_new)
    add_evaluation_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    skip_tensorflow_probe()  # only the Rasa server needs TensorFlow, and it runs in its own process
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
