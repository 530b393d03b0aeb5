"""Scripted trainee turns shared by the engine, end-to-end and production tests."""

NEWS_SKILLED = [
    "Hello Jo, I'm Dr Khan, one of the breast surgeons.",
    "What have you been told about the biopsy so far?",
    "How much detail would you like me to go into today?",
    "I'm afraid the results are not what we hoped.",
    "The biopsy shows a breast cancer.",
    "It sounds like this is a huge shock.",
    "What's worrying you most right now?",
    "It sounds like your mum is very much on your mind.",
    "Tell me more about what happened with your mum.",
    "I can see why this frightens you so much. We'll go through this together.",
    "The next step would be a small operation to remove the lump, and Angela, our breast care nurse, "
    "can sit with you today. How does that sound?",
    "Could you tell me in your own words what we've agreed, so I know I explained it clearly?",
    "Let me summarise what we've talked about, and we can agree the next steps together.",
]

NEWS_UNSKILLED = [
    "The histology shows an invasive ductal carcinoma, grade 2.",
    "Don't worry, it'll be fine.",
    "You should have come in sooner.",
    "The plan is a wide local excision and sentinel node biopsy.",
    "Don't worry, these are very treatable nowadays.",
    "You need to stay positive.",
]
