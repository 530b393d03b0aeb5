"""``rapport eval`` and ``rapport calibrate``: argparse wiring; ``bot/cli.py`` calls :func:`add_commands`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("rapport")


def _out(text: str = "") -> None:
    """The command's own answer goes to stdout; diagnostics go to logging (stderr)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _scorer(model: str | None) -> Any:
    from bot.runtime import skip_tensorflow_probe

    skip_tensorflow_probe()
    from bot.scoring import Scorer

    return Scorer(model)


def _table(rows: list[tuple[str, Any]]) -> None:
    for name, value in rows:
        _out(f"{name:<28} {value}")


def _show_annomi(report: dict[str, Any]) -> None:
    _table(
        [
            ("therapist utterances", report["utterances"]),
            ("sessions", report["sessions"]),
            ("behaviour macro-F1", report["macro_f1"]),
            ("behaviour accuracy", report["accuracy"]),
            *[(f"  F1 {k}", v) for k, v in report["per_class_f1"].items()],
            ("reflection simple/complex F1", report["reflection_subtype_f1"]),
            ("question open/closed F1", report["question_subtype_f1"]),
            (f"session AUC ({report['session_score']})", report["session_auc"]),
            ("utterances per second", report["utterances_per_s"]),
        ]
    )
    labels = report["confusion"]["labels"]
    _out("confusion (rows gold, columns predicted): " + ", ".join(labels))
    for label, row in zip(labels, report["confusion"]["rows_gold_columns_predicted"], strict=True):
        _out(f"  {label:<16} " + " ".join(f"{n:>5}" for n in row))


def _show_epitome(report: dict[str, Any]) -> None:
    for key, name in (("er", "emotional reactions"), ("ip", "interpretations"), ("ex", "explorations")):
        if f"{key}_macro_f1" in report:
            per = ", ".join(f"{lvl}: {f1}" for lvl, f1 in report[f"{key}_per_level_f1"].items())
            _out(
                f"{name:<20} macro-F1 {report[f'{key}_macro_f1']:.3f}  accuracy {report[f'{key}_accuracy']:.3f}"
                f"  (F1 by level {per}; {report[f'{key}_pairs']} pairs)"
            )
    if report.get("responses_per_s"):
        _out(f"responses per second {report['responses_per_s']}")


def _evaluate(
    args: argparse.Namespace,
    run: Callable[[Any], dict[str, Any]],
    show: Callable[[dict[str, Any]], None],
    json_last: bool = False,
) -> int:
    """Load the scorer, run one evaluation, print it (or only one JSON line with --json; ``json_last``: the
    table, then the JSON line); bad input is a message, not a crash."""
    try:
        report = run(_scorer(args.model))
    except (FileNotFoundError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    if not args.json:
        show(report)
    if args.json or json_last:
        _out(json.dumps(report))
    return 0


def cmd_eval_annomi(args: argparse.Namespace) -> int:
    from bot.evaluation.annomi import read_annomi
    from bot.evaluation.evaluate import evaluate_annomi

    return _evaluate(args, lambda scorer: evaluate_annomi(scorer, read_annomi(args.file)), _show_annomi)


def cmd_eval_epitome(args: argparse.Namespace) -> int:
    from bot.evaluation.epitome import read_epitome
    from bot.evaluation.evaluate import evaluate_epitome

    return _evaluate(args, lambda scorer: evaluate_epitome(scorer, read_epitome(args.dir)), _show_epitome)


def _show_session_figure(report: dict[str, Any]) -> None:
    nested, shipped = report["nested"], report["shipped"]
    _out(f"sessions {report['sessions']} ({report['high']} high, {report['low']} low quality)")
    _out(f"scorer {report['scorer']['model']} (training data {report['scorer']['fingerprint']})")
    _out(f"{'candidate':<28} {'inner AUC, all sessions':>24} {'apparent AUC':>13}")
    for name in report["candidates"]:
        _out(f"{name:<28} {shipped['inner_auc'][name]!s:>24} {report['apparent_auc'].get(name, '')!s:>13}")
    _out(
        f"nested CV, {nested['folds']} folds x {nested['repeats']} repeats by transcript (seed {nested['seed']}):"
        f" fold AUC mean {nested['fold_auc_mean']} sd {nested['fold_auc_sd']}"
        f" (min {nested['fold_auc_min']}, max {nested['fold_auc_max']});"
        f" pooled AUC {nested['pooled_auc_mean']} (by repeat {nested['pooled_auc_by_repeat']})"
    )
    _out("chosen on the outer training folds: " + ", ".join(f"{k} x{v}" for k, v in nested["choices"].items()))
    _out("outer test-fold AUC (figure chosen on its training folds):")
    for r in range(nested["repeats"]):
        rows = [row for row in nested["per_fold"] if row["repeat"] == r]
        _out(f"  repeat {r}: " + ", ".join(f"{row['auc']} ({row['chosen']})" for row in rows))
    _out(
        f"shipped figure (chosen on all sessions): {shipped['name']}: {shipped['description']}"
        f" (inner AUC {shipped['inner_auc'][shipped['name']]}; runner-up {shipped['runner_up']})"
    )
    _out(f"the report's {report['product_figure']} is {'the same' if shipped['matches_product'] else 'different'}")


def cmd_eval_session_figure(args: argparse.Namespace) -> int:
    """Choose the report's session figure by nested cross-validation by transcript on an AnnoMI CSV."""
    from bot.evaluation.annomi import read_annomi
    from bot.evaluation.session_figure import scorer_identity, session_counts, session_figure_report

    def run(scorer: Any) -> dict[str, Any]:
        counts = session_counts(scorer, read_annomi(args.file))
        if len({c.high for c in counts}) < 2:
            raise ValueError(f"{args.file}: needs sessions of both qualities (mi_quality high and low)")
        return {"scorer": scorer_identity(scorer), **session_figure_report(counts, args.folds, args.repeats, args.seed)}

    return _evaluate(args, run, _show_session_figure, json_last=True)


def _show_coded(report: dict[str, Any]) -> None:
    _out(f"items: {report['items']}")
    _out(f"{'act':<28} {'P':>6} {'R':>6} {'F1':>6} {'n':>5}")
    for act, row in sorted(report["acts"].items()):
        _out(f"{act:<28} {row['precision']:>6} {row['recall']:>6} {row['f1']:>6} {row['support']:>5}")
    _out(f"act macro-F1 {report['act_macro_f1']}")
    for dim, row in report["dimensions"].items():
        _out(f"{dim:<16} exact {row['exact']}  within 1 {row['within_1']}")
    for act, rule in report.get("rule_precision", {}).items():
        _out(f"rule {act:<28} precision {rule['precision']:.3f}  fired {rule['fired']}")
    false_harms = report["penalised_for_a_harmful_act_not_coded"]
    _out(f"replies penalised for a harmful act the coders did not find: {false_harms}")


def cmd_eval_coded(args: argparse.Namespace) -> int:
    """The scorer on the coded-replies benchmark's test part (or --part dev / all)."""
    from bot.evaluation.coded import BENCHMARK_DIR, evaluate_coded, read_benchmark

    def run(scorer: Any) -> dict[str, Any]:
        items = read_benchmark(BENCHMARK_DIR, Path(args.file) if args.file else None)
        chosen = [item for item in items if args.part == "all" or item["part"] == args.part]
        return {"part": args.part, **evaluate_coded(scorer, chosen)}

    return _evaluate(args, run, _show_coded, json_last=True)


def cmd_eval_agreement(args: argparse.Namespace) -> int:
    """Two coders' files: agreement per act and per dimension (Cohen's kappa, Gwet's AC1)."""
    from bot.evaluation.coded import agreement, read_jsonl

    try:
        report = agreement(read_jsonl(args.first), read_jsonl(args.second))
    except (FileNotFoundError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    if not args.json:
        _out(f"items coded by both: {report['items']}; identical act sets: {report['exact_act_sets']}")
        _out(f"{'act':<28} {'n A':>5} {'n B':>5} {'kappa':>7} {'AC1':>7}")
        for act, row in sorted(report["acts"].items()):
            _out(f"{act:<28} {row['n_first']:>5} {row['n_second']:>5} {row['kappa']!s:>7} {row['ac1']!s:>7}")
        _out(f"{'acts, macro mean':<40} {report['acts_macro']['kappa']!s:>7} {report['acts_macro']['ac1']!s:>7}")
        for dim, row in report["dimensions"].items():
            _out(f"{dim:<16} exact {row['exact']}  within 1 {row['within_1']}  kappa {row['kappa']}  AC1 {row['ac1']}")
    _out(json.dumps(report))
    return 0


def _calibrate(
    args: argparse.Namespace, run: Callable[[], dict[str, Any]], show: Callable[[dict[str, Any]], None]
) -> int:
    try:
        meta = run()
    except (FileNotFoundError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    _out(f"Calibrated model written to {args.out} ({meta['examples']} examples, {meta['train_seconds']} s).")
    _out(f"Use it with RAPPORT_SCORER_MODEL={args.out} or --model {args.out}.")
    if meta["cv_estimate"]:
        _out(f"Cross-validated estimate ({meta['cv_folds']} folds by conversation):")
        show(meta["cv_estimate"])
        _out(json.dumps(meta["cv_estimate"]))
    return 0


def cmd_calibrate_annomi(args: argparse.Namespace) -> int:
    from bot.evaluation.annomi import read_annomi
    from bot.evaluation.calibrate import calibrate_annomi

    def run() -> dict[str, Any]:
        _scorer(args.base)  # fails early and clearly when there is no base model
        return calibrate_annomi(read_annomi(args.file), Path(args.out), args.base, args.folds, str(args.file))

    return _calibrate(args, run, _show_annomi)


def cmd_calibrate_epitome(args: argparse.Namespace) -> int:
    from bot.evaluation.calibrate import calibrate_epitome
    from bot.evaluation.epitome import read_epitome

    def run() -> dict[str, Any]:
        _scorer(args.base)
        return calibrate_epitome(read_epitome(args.dir), Path(args.out), args.base, args.folds, str(args.dir))

    return _calibrate(args, run, _show_epitome)


def add_commands(sub: Any) -> None:
    """Add ``eval`` and ``calibrate`` to the ``rapport`` command's subparsers."""
    model_help = "scorer model folder (default: models/scorer or RAPPORT_SCORER_MODEL)"
    ev = sub.add_parser("eval", help="measure the scorer against human-coded data (AnnoMI, EPITOME)")
    ev_sub = ev.add_subparsers(dest="eval_command", required=True)
    annomi = ev_sub.add_parser("annomi", help="AnnoMI-format CSV: therapist behaviours and session quality")
    annomi.add_argument("file", help="AnnoMI CSV (full or simple format)")
    annomi.add_argument("--model", help=model_help)
    annomi.add_argument("--json", action="store_true", help="print the figures as one JSON object (last line)")
    annomi.set_defaults(func=cmd_eval_annomi)
    epitome = ev_sub.add_parser("epitome", help="EPITOME folder: empathy mechanisms, levels 0-2")
    epitome.add_argument("dir", help="folder with *emotional-reactions*, *interpretations*, *explorations* CSVs")
    epitome.add_argument("--model", help=model_help)
    epitome.add_argument("--json", action="store_true", help="print the figures as one JSON object (last line)")
    epitome.set_defaults(func=cmd_eval_epitome)
    coded = ev_sub.add_parser("coded", help="the coded-replies benchmark: acts, dimension scores, false harms")
    coded.add_argument("file", nargs="?", help="gold codes (default: benchmarks/coded-replies/gold.jsonl)")
    coded.add_argument("--part", choices=("test", "dev", "all"), default="test", help="which part (default: test)")
    coded.add_argument("--model", help=model_help)
    coded.add_argument("--json", action="store_true", help="print only the JSON object (always the last line)")
    coded.set_defaults(func=cmd_eval_coded)
    figure = ev_sub.add_parser(
        "session-figure", help="choose the report's session figure by nested cross-validation on AnnoMI"
    )
    figure.add_argument("file", nargs="?", default="../shared/eval/AnnoMI-full-dev.csv", help="AnnoMI CSV")
    figure.add_argument("--folds", type=int, default=5, help="outer folds by transcript (default 5)")
    figure.add_argument("--repeats", type=int, default=10, help="outer repeats with different seeds (default 10)")
    figure.add_argument("--seed", type=int, default=13, help="seed of the fold splits (default 13)")
    figure.add_argument("--model", help=model_help)
    figure.add_argument("--json", action="store_true", help="print only the JSON object (always the last line)")
    figure.set_defaults(func=cmd_eval_session_figure)
    agree = ev_sub.add_parser("agreement", help="two coders' codes of the coded-replies benchmark: kappa and AC1")
    agree.add_argument("first", help="the first coder's JSON lines")
    agree.add_argument("second", help="the second coder's JSON lines")
    agree.add_argument("--json", action="store_true", help="print only the JSON object")
    agree.set_defaults(func=cmd_eval_agreement)

    cal = sub.add_parser("calibrate", help="train the scorer's statistical part on your own coded data")
    cal_sub = cal.add_subparsers(dest="calibrate_command", required=True)
    for name, target, what, func in (
        ("annomi", "file", "AnnoMI CSV (full or simple format)", cmd_calibrate_annomi),
        ("epitome", "dir", "folder with the three EPITOME CSVs", cmd_calibrate_epitome),
    ):
        parser = cal_sub.add_parser(name, help=f"calibrate on an {what}")
        parser.add_argument(target, help=what)
        parser.add_argument("--out", required=True, help="model folder to write")
        parser.add_argument("--base", help="model folder to start from (default: the shipped models/scorer)")
        parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (0 or 1: none)")
        parser.set_defaults(func=func)
