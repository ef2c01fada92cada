"""Common insults and profanity with neutral replacements: the local rewriter's table, and the words the
robustness audit obfuscates.

Lower-case keys; a word not listed here is removed instead. Kept short on purpose: the explainer finds
which words matter, this table only says what to put in their place.
"""

NEUTRAL = {
    "idiot": "person", "idiots": "people", "idiotic": "unwise", "stupid": "mistaken", "stupidity": "error",
    "moron": "person", "morons": "people", "moronic": "unwise", "dumb": "mistaken", "dumbass": "person",
    "retard": "person", "retarded": "mistaken", "loser": "person", "losers": "people", "fool": "person",
    "fools": "people", "foolish": "unwise", "jerk": "person", "jerks": "people", "pathetic": "weak",
    "ignorant": "uninformed", "clown": "person", "troll": "user", "trolls": "users", "scum": "people",
    "garbage": "poor", "trash": "poor", "crap": "poor", "crappy": "poor", "shit": "stuff", "shitty": "poor",
    "bullshit": "nonsense", "hell": "", "damn": "", "damned": "", "bloody": "", "fucking": "", "fuck": "",
    "fucked": "ruined", "fucker": "person", "fuckers": "people", "fuckin": "", "ass": "person",
    "asshole": "person", "assholes": "people", "bastard": "person", "bastards": "people", "bitch": "person",
    "bitches": "people", "dick": "person", "dickhead": "person", "cunt": "person", "prick": "person",
    "piss": "annoy", "pissed": "annoyed", "suck": "are bad", "sucks": "is bad", "hate": "dislike",
    "hateful": "unkind", "kill": "stop", "die": "leave", "ugly": "unpleasant",
    "disgusting": "unpleasant", "worthless": "unhelpful", "nazi": "extremist", "nazis": "extremists",
}
