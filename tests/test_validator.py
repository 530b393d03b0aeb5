"""`rapport scenario validate`: one broken file per rule, each reported with its line and a fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.scenarios import Engine, TurnInput
from bot.scenarios.model import ScenarioError, load_scenario, validate_file
from bot.scenarios.template import render_template

TEMPLATE, _ = render_template("Validator case")

# (rule, text to replace in the template, replacement, words the problem must contain, severity)
# The problem must point at the line where the replacement lands.
CASES = [
    ("unknown theme", "theme: difficult-news", "theme: gossip", "theme 'gossip'", "error"),
    ("bad id", "id: validator-case", "id: Validator Case", "lower-case", "error"),
    ("initial out of range", "trust: {initial: 0.4,", "trust: {initial: 1.4,", "outside", "error"),
    (
        "min not below max",
        "distress: {initial: 0.5, min: 0.0, max: 1.0",
        "distress: {initial: 0.5, min: 1.0, max: 0.0",
        "not below max",
        "error",
    ),
    ("good direction", "good: low,", "good: sideways,", "good 'sideways'", "error"),
    (
        "effect on an undeclared variable",
        "open_question: {trust: 0.04}",
        "open_question: {happiness: 0.04}",
        "'happiness' is not declared",
        "error",
    ),
    (
        "unknown effect key",
        "premature_reassurance: {trust: -0.1}",
        "false_cheer: {trust: -0.1}",
        "'false_cheer' is not an act",
        "error",
    ),
    (
        "effect is not a number",
        "confront_blame: {trust: -0.2,",
        "confront_blame: {trust: lots,",
        "'lots' is not a number",
        "error",
    ),
    (
        "unknown condition key",
        "when: {state: {trust: {max: 0.3}}}",
        "when: {mood: sad}",
        "unknown condition 'mood'",
        "error",
    ),
    (
        "unknown act in a condition",
        "acts_any: [nurse_name, nurse_explore, complex_reflection]",
        "acts_any: [nurse_name, hug]",
        "unknown act 'hug'",
        "error",
    ),
    ("unknown event", "events_any: [off_topic]", "events_any: [small_talk]", "unknown event 'small_talk'", "error"),
    ("unknown flag", "flags: {concern_revealed: true}", "flags: {cried: true}", "unknown flag 'cried'", "error"),
    (
        "flag value not boolean",
        "flags: {concern_revealed: true}",
        "flags: {concern_revealed: maybe}",
        "not true or false",
        "error",
    ),
    (
        "undeclared variable in a condition",
        "state: {trust: {max: 0.3}}",
        "state: {calm: {max: 0.3}}",
        "'calm' is not declared",
        "error",
    ),
    ("unknown mark", "marks: [confrontation]", "marks: [sulking]", "unknown mark 'sulking'", "error"),
    ("pool without lines", '      - "Fine."', "      []", "at least one line", "error"),
    ("lines not a list", '    lines:\n      - "Fine."', "    lines: Fine", "must be a list", "error"),
    ("duplicate pool id", "  - id: guarded", "  - id: feels_heard", "'feels_heard' is used twice", "error"),
    (
        "missing guard pool",
        "    when: {events_any: [off_topic]}",
        "    when: {acts_any: [greet_introduce]}",
        "off-topic",
        "error",
    ),
    (
        "concern without reveal_when",
        "    reveal_when: {acts_any: [nurse_explore, open_question], discussed: [family], "
        "state: {trust: {min: 0.6}}}\n",
        "",
        "no reveal_when",
        "error",
    ),
    ("no good ending", "    good: true", "    good: false", "no ending is marked good", "error"),
    ("ending without outcome", '    outcome: "The patient leaves"\n', "", "no outcome", "error"),
    (
        "debrief without turning points",
        '  turning_points:\n    - moment: "The moment the conversation can go either way"\n'
        '      expert: "What an expert does there, and why"\n',
        "",
        "no turning_points",
        "error",
    ),
    (
        "turning point without the expert move",
        '      expert: "What an expert does there, and why"\n',
        "",
        "a moment and what an expert does",
        "error",
    ),
    ("difficulty scale", "hard: {effect_scale: 0.75,", "hard: {effect_scale: 0,", "above 0", "error"),
    ("unknown rubric", "# rubric: spikes", "rubric: vibes", "rubric 'vibes'", "error"),
    (
        "unknown topic in a condition",
        "when: {state: {trust: {max: 0.3}}}",
        "when: {topics_any: [weather]}",
        "unknown topic 'weather'",
        "error",
    ),
    ("persona without label", "# personas:", "personas:\n  calm: {summary: quiet}\n#", "no label", "error"),
    ("attachment needs two personas", "theme: difficult-news", "theme: attachment", "fewer than two", "error"),
    ("unknown top-level key", "version: 1", "version: 1\ncolour: blue", "unknown key 'colour'", "warning"),
    (
        "coaching in role",
        '"Fine."',
        '"Fine. You should have asked about my family first."',
        "coaching or scoring",
        "warning",
    ),
    (
        "missing hard level",
        "  hard: {effect_scale: 0.75, threshold_shift: 0.1}",
        "",
        "gentle and a hard level",
        "warning",
    ),
    (
        "no pool that always answers",
        '    when: {state: {trust: {max: 0.3}}}\n    marks: [withdrawal]\n    lines:\n      - "Fine."\n  - id: default',
        '    when: {acts_any: [greet_introduce]}\n    lines:\n      - "Fine."\n'
        "  - id: default\n    when: {acts_any: [team_talk]}",
        "can answer every turn",
        "warning",
    ),
    (
        "the always-answering pool presupposes something in every line",
        '      - "I\'m not sure what you want me to say."\n',
        "",
        "can answer every turn",
        "warning",
    ),
    (
        "an ending claims a plan nobody discussed",
        "acts_any: [summarise, seek_collaboration], discussed: [plan],",
        "acts_any: [summarise, seek_collaboration],",
        "does not require anything to have been discussed",
        "warning",
    ),
    (
        "a concern earned by points alone",
        "reveal_when: {acts_any: [nurse_explore, open_question], discussed: [family], ",
        "reveal_when: {acts_any: [nurse_explore, open_question], ",
        "can come out on points alone",
        "warning",
    ),
    (
        "a learning goal gives a concern away",
        '  - "What the trainee should practise, in plain words."',
        '  - "Find the hidden worry the patient has never said."',
        "gives away the hidden concern 'hidden_worry'",
        "warning",
    ),
    (
        "a line that can never be said",
        '      - "Fine."',
        '      - {say: "Fine.", needs: {state: {trust: {min: 0.5}}}}',
        "can ever be said",
        "error",
    ),
    ("an unknown key in a line", '      - "Fine."', '      - {say: "Fine.", mood: low}', "unknown key 'mood'", "error"),
    (
        "an unknown pool in last_pools",
        "when: {state: {trust: {max: 0.3}}}",
        "when: {last_pools: [nowhere], state: {trust: {max: 0.3}}}",
        "unknown pool 'nowhere'",
        "error",
    ),
    (
        "an unknown topic in discussed",
        "when: {state: {trust: {max: 0.3}}}",
        "when: {discussed: [weather], state: {trust: {max: 0.3}}}",
        "unknown topic 'weather'",
        "error",
    ),
    (
        "asked is not a boolean",
        "when: {state: {trust: {max: 0.3}}}",
        "when: {asked: often}",
        "not true or false",
        "error",
    ),
    (
        "an answered flag for a cue nobody raises",
        "flags: {concern_revealed: true}",
        "flags: {answered:shrug: true}",
        "unknown flag 'answered:shrug'",
        "error",
    ),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "case.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_template_is_a_usable_scenario(tmp_path: Path) -> None:
    scenario, problems = validate_file(_write(tmp_path, TEMPLATE))
    assert scenario is not None
    assert [p.severity for p in problems] == ["warning"]  # only: too few lines for real use
    assert "distinct patient lines" in problems[0].message
    engine = Engine(scenario, "gentle")
    result = engine.step(engine.start(1).state, TurnInput(frozenset({"nurse_name"}), text="You sound worried."))
    assert result.pool == "feels_heard"


@pytest.mark.parametrize("rule,old,new,expect,severity", CASES, ids=[c[0] for c in CASES])
def test_each_rule_is_reported_with_its_line_and_a_fix(
    tmp_path: Path, rule: str, old: str, new: str, expect: str, severity: str
) -> None:
    assert old in TEMPLATE, f"the template no longer contains {old!r}"
    text = TEMPLATE.replace(old, new, 1)
    _, problems = validate_file(_write(tmp_path, text))
    found = [p for p in problems if expect in p.message]
    assert found, f"{rule}: expected a problem mentioning {expect!r}, got {[str(p) for p in problems]}"
    problem = found[0]
    assert problem.severity == severity
    assert problem.fix and problem.line, str(problem)
    if severity == "error":
        with pytest.raises(ScenarioError):
            load_scenario(tmp_path / "case.yml")
    anchor = (new or old).strip().splitlines()[0] if new.strip() else None
    if anchor and not anchor.startswith("#"):
        lines = text.splitlines()
        hit = [i + 1 for i, line in enumerate(lines) if anchor.split(":")[0].strip() in line]
        assert problem.line in range(min(hit) - 8, max(hit) + 8), (rule, problem.line, hit)


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    text = TEMPLATE.replace('title: "Validator case"', 'title: "Validator case', 1)
    _, problems = validate_file(_write(tmp_path, text))
    assert len(problems) == 1 and "not valid YAML" in problems[0].message
    assert problems[0].line is not None and problems[0].line >= 5


@pytest.mark.parametrize("text", ["- just\n- a list\n", "", "42\n"])
def test_a_file_that_is_not_a_mapping_is_one_clear_error(tmp_path: Path, text: str) -> None:
    _, problems = validate_file(_write(tmp_path, text))
    assert [p.severity for p in problems] == ["error"]
    assert "mapping" in problems[0].message


def test_missing_required_keys_are_all_listed(tmp_path: Path) -> None:
    _, problems = validate_file(_write(tmp_path, "id: bare\ntitle: Bare\n"))
    missing = {p.message for p in problems if p.message.startswith("missing required key")}
    assert {
        f"missing required key '{k}'" for k in ("theme", "setting", "patient", "state", "replies", "endings")
    } <= missing


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = TEMPLATE.replace("theme: difficult-news", "theme: gossip").replace("marks: [confrontation]", "marks: [sulk]")
    _, problems = validate_file(_write(tmp_path, text))
    messages = " ".join(p.message for p in problems)
    assert "gossip" in messages and "sulk" in messages


def test_validate_command_exit_codes_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path, TEMPLATE)
    assert main(["scenario", "validate", str(good)]) == 0
    assert "OK (validator-case" in capsys.readouterr().out
    bad = tmp_path / "bad.yml"
    bad.write_text(TEMPLATE.replace("theme: difficult-news", "theme: gossip"), encoding="utf-8")
    assert main(["scenario", "validate", str(bad)]) == 1
    out = capsys.readouterr().out
    line = next(i + 1 for i, t in enumerate(bad.read_text().splitlines()) if t.startswith("theme:"))
    assert f"bad.yml:{line}: error:" in out and "Fix: use one of" in out
    assert main(["scenario", "validate", str(tmp_path / "absent.yml")]) == 1
    assert "cannot read the file" in capsys.readouterr().out


def test_new_writes_a_template_that_validates_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scenario", "new", "Ward round: angry son", "--theme", "rupture-repair", "--dir", str(tmp_path)]) == 0
    path = tmp_path / "ward-round-angry-son.yml"
    scenario = load_scenario(path)
    assert scenario.theme == "rupture-repair" and scenario.rubric == "rupture"
    assert main(["scenario", "new", "Ward round: angry son", "--dir", str(tmp_path)]) == 1
    assert main(["scenario", "new", "!!!", "--dir", str(tmp_path)]) == 2
    assert main(["scenario", "new", "x", "--theme", "gossip", "--dir", str(tmp_path)]) == 2
    assert main(["scenario", "new", "Two minds", "--theme", "attachment", "--dir", str(tmp_path)]) == 0
    assert load_scenario(tmp_path / "two-minds.yml").persona_ids == ["anxious", "avoidant"]
    capsys.readouterr()


def test_list_json_has_one_object_per_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.scenarios import library

    assert main(["scenario", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert {r["id"] for r in rows} == set(library())
    for row in rows:
        assert {"id", "title", "theme", "difficulties", "personas"} <= set(row)
        assert row["difficulties"] and row["personas"]
