"""`rapport scenario new`: a commented scenario file that already loads, so authors edit rather than start blank."""

from __future__ import annotations

import re
from string import Template

from bot.scenarios.model import MARKS, THEME_RUBRIC, THEMES

_TEMPLATE = Template("""\
# A Rapport scenario. Every key is explained in docs/scenarios.md; `rapport scenario validate FILE` checks
# the file and names the line of every problem. Write the patient's lines yourself, in their own voice.
id: $id                       # lower-case letters, digits and hyphens; unique across the library
version: 1
title: "$title"
theme: $theme                 # one of: $themes
# rubric: $rubric             # the report's instrument; the theme picks one, so you rarely need this
summary: "One sentence a trainee reads on the scenario card."
setting: >-
  Where and when the conversation happens, who the trainee is, and what the notes say. The trainee sees this.
patient:
  name: "Sam Example"
  age: 50
  summary: "Who the patient is, in two sentences the trainee can see."
learning_goals:
  - "What the trainee should practise, in plain words."
difficulties:                 # effect_scale: how fast good moves help (bad moves hurt by 1/scale);
  gentle: {effect_scale: 1.25, threshold_shift: -0.1}   # threshold_shift: added to every `min` that unlocks a
  hard: {effect_scale: 0.75, threshold_shift: 0.1}      # disclosure or a good ending
state:                        # bounded variables; `good` says which direction helps the conversation
  trust: {initial: 0.4, min: 0.0, max: 1.0, good: high, description: "How far the patient trusts the trainee"}
  distress: {initial: 0.5, min: 0.0, max: 1.0, good: low, description: "How upset the patient is"}
topics:                       # optional: words that matter in this scenario; use in topics_any and topic:<name>
  family: ["wife", "husband", "children", "family"]
  plan: ["plan", "next step", "next steps", "what happens next"]
effects:                      # how each act (docs/acts.md), cue:<cue>, event:<event> or topic:<topic> moves state
  # Why: say why on a comment line above every effect; educators review the reasoning, not just the numbers.
  open_question: {trust: 0.04}
  # Why: naming the emotion lowers arousal and builds trust (NURSE).
  nurse_name: {trust: 0.1, distress: -0.08}
  # Why: exploring invites the story underneath (NURSE explore).
  nurse_explore: {trust: 0.08, distress: -0.04}
  # Why: reassurance before the worry is understood sounds false.
  premature_reassurance: {trust: -0.1}
  # Why: blame ruptures the alliance.
  confront_blame: {trust: -0.2, distress: 0.1}
  # Why: an emotion passed over tells the patient it is unwelcome.
  event:unanswered_emotion: {trust: -0.06, distress: 0.04}
  # Why: abuse from a clinician is a rupture in itself.
  event:abuse: {trust: -0.25, distress: 0.1}
  # Why: talking about the family shows interest in the person, not only the illness.
  topic:family: {trust: 0.03}
concerns:                     # hidden: revealed only when the condition holds; the report says what was missed
  - id: hidden_worry
    summary: "What the patient has not said, in one sentence for the educator."
    # earned by its own trigger (here: the family has come up), never by trust points alone
    reveal_when: {acts_any: [nurse_explore, open_question], discussed: [family], state: {trust: {min: 0.6}}}
    lines:
      - "The thing I haven't said is..."
opening:
  lines:
    - "The patient's first words."
replies:                      # checked top to bottom: the first pool whose `when` holds answers
  # In-role answers to input that is not a clinical move; the app adds its own notice for the trainee.
  - id: puzzled_by_manipulation
    when: {events_any: [manipulation]}
    lines:
      - "Sorry, I don't follow. What's that got to do with me?"
  - id: hurt_by_abuse
    when: {events_any: [abuse]}
    emotional: true
    marks: [confrontation]    # marks feed the rubric: $marks
    lines:
      - "There's no need to speak to me like that."
  - id: off_topic_redirect
    when: {events_any: [off_topic]}
    lines:
      - "I'm not here to chat about that. Can we talk about why I came?"
  - id: feels_heard
    when: {acts_any: [nurse_name, nurse_explore, complex_reflection]}
    emotional: true
    lines:
      - "Yes. That's exactly it."
  - id: guarded
    when: {state: {trust: {max: 0.3}}}
    marks: [withdrawal]
    lines:
      - "Fine."
  - id: default                 # no `when` and one line that presupposes nothing: it can always answer
    lines:
      - "I'm not sure what you want me to say."
      # a line may say what it presupposes; it is never said unless that holds (here: the plan has come up)
      - {say: "So what was the plan again?", needs: {discussed: [plan]}}
endings:                      # the first ending whose `when` holds closes the conversation
  - id: plan_agreed
    outcome: "The patient agrees a plan"
    outcome_parts:              # added to the outcome only when their needs hold: it says what really happened
      - {text: "the family is part of it", needs: {flags: {"concern:hidden_worry": true}}}
    good: true
    when: {flags: {concern_revealed: true}, acts_any: [summarise, seek_collaboration], discussed: [plan],
           state: {trust: {min: 0.6}}}
    lines:
      - "OK. I can do that. Thank you."
  - id: leaves
    outcome: "The patient leaves"
    good: false
    when: {state: {trust: {max: 0.05}}}
    marks: [withdrawal]
    lines:
      - "I think I'll go now."
$personas
debrief:
  teaching_points:
    - "What an expert would want the trainee to take away."
  turning_points:
    - moment: "The moment the conversation can go either way"
      expert: "What an expert does there, and why"
  sources:
    - "The published instrument or paper the scenario rests on."
""")

_NO_PERSONAS = """\
# personas:                   # optional: one presentation, several ways of being the patient
#   anxious:
#     label: Anxious
#     summary: "Seeks reassurance"
#     state: {distress: {initial: 0.7}}
#     fit: {helps: [nurse_support], hurts: [give_information]}
"""
_PERSONAS = """\
personas:                     # the attachment rubric compares how the same moves suit each persona
  anxious:
    label: "Anxious"
    summary: "Seeks reassurance and escalates when unheard."
    state: {distress: {initial: 0.7}}
    fit: {helps: [nurse_name, nurse_support, summarise], hurts: [give_information, closed_question]}
  avoidant:
    label: "Avoidant"
    summary: "Minimises, deflects and withdraws when pushed."
    state: {distress: {initial: 0.3}}
    fit: {helps: [seek_collaboration, emphasise_autonomy], hurts: [nurse_explore, persuade_warn]}
"""


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def render_template(name: str, theme: str = "difficult-news") -> tuple[str, str]:
    """The template text for a new scenario and its id; ValueError for an unusable name or theme."""
    slug = slugify(name)
    if not slug:
        raise ValueError(f"'{name}' has no letters or digits to make an id from; try e.g. 'chest pain news'")
    if theme not in THEMES:
        raise ValueError(f"theme '{theme}' is not one of {', '.join(THEMES)}")

    text = _TEMPLATE.substitute(
        id=slug,
        title=name.strip().replace('"', "'"),
        theme=theme,
        themes=", ".join(THEMES),
        rubric=THEME_RUBRIC[theme],
        marks=", ".join(MARKS),
        personas=_PERSONAS if theme == "attachment" else _NO_PERSONAS,
    )
    return text, slug
