"""One concrete tip per turn, with a better reply the trainee could have given.

Tips are checked in order of harm: an unanswered emotion or a rescuer/persecutor move matters more than a
missed chance to summarise. Alternatives are written for Rapport and fitted to the patient's emotion.
"""

from __future__ import annotations

from bot.scoring.taxonomy import ACTS, EMPATHIC_ACTS

_NAME_AND_EXPLORE = {
    "fear": "It sounds like this has really frightened you. What's worrying you most right now?",
    "sadness": "I can see this is hitting you hard. Would you tell me what's going through your mind?",
    "anger": "You're angry, and from what you've said I can see why. Tell me what's been hardest.",
    "shock": "That's a lot to hear all at once. Take your time. What's going through your mind right now?",
    "overwhelm": "This is a lot to take in. Shall we pause there, and you tell me what's on your mind?",
    "shame": "It sounds like part of you blames yourself. What makes you feel that way?",
}
_GENERIC = "It sounds like there's a lot going on for you. What matters most to you about this?"

# (trigger acts or cues, tip text, alternative or None to use the emotion-fitted one)
_RULES: list[tuple[frozenset[str], str, str | None]] = [
    (
        frozenset({"confront_blame"}),
        "Blame or labelling puts the patient on the defensive (a persecutor move). Stay curious instead.",
        "I'd like to understand what's made this hard for you. What gets in the way?",
    ),
    (
        frozenset({"premature_reassurance"}),
        "Reassurance before you know the worry closes the conversation. Name and explore the feeling first.",
        None,
    ),
    (
        frozenset({"rescue_take_over"}),
        "Taking over feels kind but keeps the patient dependent (a rescuer move). Ask about their own ideas.",
        "What have you tried that has helped, even a little? I'd like us to build on that together.",
    ),
    (
        frozenset({"advise_without_permission"}),
        "Advice without permission tends to raise resistance. Ask first, then offer.",
        "Would it be OK if I shared a couple of things that have helped other people in your situation?",
    ),
    (
        frozenset({"persuade_warn"}),
        "Arguing for change invites the patient to argue back (the righting reflex). Draw out their own reasons.",
        "What would you like to be different, if anything, and why does that matter to you?",
    ),
]


# After a good move, the natural next one (SPIKES order, NURSE, three-talk), checked in this order.
_NEXT_MOVES: list[tuple[str, str, str]] = [
    (
        "nurse_name",
        "Good: you named the feeling. Now invite the patient to say more about it.",
        "Tell me more about what's going through your mind.",
    ),
    (
        "complex_reflection",
        "Good reflection: it adds meaning. Follow it with an invitation to say more.",
        "What would you make of that?",
    ),
    (
        "simple_reflection",
        "A simple reflection keeps them talking; try adding the feeling you hear under it.",
        "It sounds as if that has been weighing on you more than you let on.",
    ),
    (
        "warning_shot",
        "Good warning shot. Pause and let the patient ask, then give the news in plain words.",
        "The biopsy shows that the lump is a cancer.",
    ),
    (
        "invitation",
        "Good: you asked how much they want to know. A warning shot comes next.",
        "I'm afraid the results are more serious than we'd hoped.",
    ),
    (
        "perception_check",
        "Good: you asked what they know before telling. Next, ask how much they want to know.",
        "How much detail would you like me to go into today?",
    ),
    (
        "nurse_explore",
        "Good: you explored. Reflect what you hear before you add anything of your own.",
        "So the hardest part is what this could mean for your family.",
    ),
    (
        "option_talk",
        "Options are on the table; now find out what matters most to the patient.",
        "Thinking about those options, what matters most to you?",
    ),
    (
        "team_talk",
        "Good team talk. Describe the options next, in plain words and numbers.",
        "There are two main options. Let me go through what each involves, and then we can weigh them up.",
    ),
    (
        "greet_introduce",
        "A good start. Next, find out what the patient already knows and wants from today.",
        "Before we start, what have you been told so far, and what would you like to get out of today?",
    ),
]


def choose_tip(acts: set[str], cues: set[str], emotion: str | None, previous_acts: set[str]) -> dict[str, str]:
    """The single most useful tip for this turn and a better alternative reply."""
    fitted = _NAME_AND_EXPLORE.get(emotion or "", _GENERIC)
    if emotion and not acts & EMPATHIC_ACTS:
        return {
            "text": f"The patient showed {emotion}; the reply did not answer it. Respond to the emotion "
            "before moving on (name it, then explore).",
            "alternative": fitted,
        }
    for triggers, tip, alternative in _RULES:
        if acts & triggers:
            return {"text": tip, "alternative": alternative or fitted}
    all_acts = acts | previous_acts
    if "bad_news" in cues and "warning_shot" not in all_acts:
        return {
            "text": "The news came without a warning shot. Prepare the patient in one sentence first.",
            "alternative": "I'm afraid the results are more serious than we'd hoped.",
        }
    if "jargon" in cues:
        return {
            "text": "Technical words lose the patient. Use plain words and small chunks, then check.",
            "alternative": "Let me say that in plain words, one piece at a time. Stop me whenever you want to ask.",
        }
    if "closed_question" in acts and acts <= {"closed_question", "give_information", "greet_introduce"}:
        return {
            "text": "A closed question gets a short answer. An open one lets the patient lead.",
            "alternative": "How have things been for you since we last met?",
        }
    if "give_information" in acts and "check_understanding" not in all_acts:
        return {
            "text": "After giving information, check what landed (teach-back), in small chunks.",
            "alternative": "So I know I've explained it clearly, what will you tell your family about today?",
        }
    for act, tip, alternative in _NEXT_MOVES:
        if act in acts:
            return {"text": tip, "alternative": alternative}
    if any(w > 0 for a in acts if a in ACTS for w in ACTS[a].weights.values()):
        return {
            "text": "Good move. Keep the patient talking, and summarise before you move to a plan.",
            "alternative": "Let me check I've understood what matters most to you so far. Is that right?",
        }
    return {"text": "Reflect what you heard before adding anything new.", "alternative": fitted}
