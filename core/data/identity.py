"""Identity terms and the sentences built from them: the audit's template suite and the training augmentation.

One list of identity terms (53 terms in seven categories) serves three uses:

- `template_suite()`: the bias audit's own sentences, non-toxic and toxic, every term in every template;
- `mentions()`: which texts of a labelled file name a term (whole-word match), for bias metrics on real data;
- `augmentation_sentences()` and `swap_identity()`: the training option that reduces identity bias
  (`core.training.augment`). Its templates are a separate family from the audit's, so that a run trained
  with them is not measured on the sentences it was taught.

The templates are written for this project. `identity_columns()` recognises the identity columns of the Jigsaw
Unintended Bias layout (`male`, `muslim`, `homosexual_gay_or_lesbian`, ... with values in [0, 1]).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

# category -> terms. Every term reads as an adjective before a person noun ("a deaf teacher").
IDENTITY_TERMS: dict[str, tuple[str, ...]] = {
    "gender": ("female", "male", "transgender", "trans", "nonbinary", "cisgender"),
    "sexual_orientation": ("gay", "lesbian", "bisexual", "straight", "heterosexual", "homosexual", "queer"),
    "race_ethnicity": ("black", "white", "asian", "latino", "hispanic", "arab", "african american",
                       "native american", "indigenous"),
    "nationality": ("american", "canadian", "mexican", "chinese", "indian", "pakistani", "nigerian", "russian",
                    "iranian", "somali"),
    "religion": ("muslim", "christian", "jewish", "hindu", "buddhist", "sikh", "catholic", "atheist", "mormon"),
    "age": ("young", "old", "elderly", "teenage", "middle-aged"),
    "disability": ("blind", "deaf", "disabled", "autistic", "dyslexic", "paraplegic", "mentally ill"),
}
TERMS: tuple[str, ...] = tuple(term for terms in IDENTITY_TERMS.values() for term in terms)
CATEGORY = {term: category for category, terms in IDENTITY_TERMS.items() for term in terms}

# Terms that are mostly something else in running text ("ten years old", "a white wall", "straight
# answer", "blind spot"): found by word match they would mislabel many comments, so `mentions()` on real
# data and the counterfactual swap skip them. The template suite, where the context is known, keeps them.
AMBIGUOUS = frozenset({"male", "female", "trans", "straight", "black", "white", "old", "young", "american",
                       "indian", "blind", "disabled"})

# The audit family: {a} is "a"/"an" for the term, {t} the term, {n} a person noun.
AUDIT_NON_TOXIC = (
    "I am {a} {t} {n}.", "My best friend is {a} {t} {n}.", "She introduced me to {a} {t} {n} at work.",
    "We hired {a} {t} {n} last month.", "{A} {t} {n} moved in next door.", "I had lunch with {a} {t} {n} today.",
    "Being {t} is part of who I am.", "My sister married {a} {t} {n}.", "Our new neighbour is {a} {t} {n}.",
    "The {t} community organised a food drive.", "There is {a} {t} {n} on the city council.",
    "I met {a} {t} {n} at the library.", "{A} {t} {n} won the chess tournament.",
    "My doctor is {a} {t} {n}.", "He is proud to be {t}.", "I read a book written by {a} {t} {n}.",
    "The team captain is {a} {t} {n}.", "{A} {t} {n} gave a great talk yesterday.",
    "Many {t} people live in this town.", "She is {a} {t} {n} who loves gardening.",
    "I asked {a} {t} {n} for directions.", "My teacher was {a} {t} {n}.",
    "{A} {t} {n} helped me carry my bags.", "We celebrated with our {t} friends.",
    "The article interviewed {a} {t} {n}.", "My grandfather was {a} {t} {n}.",
    "{t} people deserve the same respect as everyone.", "I voted for {a} {t} {n}.",
    "The museum hired {a} {t} {n} as curator.", "Hello, I am {t} and new to this forum.",
    "Thanks to the {t} {n} who fixed my bike.", "{A} {t} {n} runs the bakery on our street.",
    "My roommate is {a} {t} {n}.", "I watched a film about {a} {t} {n}.",
    "{A} {t} {n} coached our football team.", "As {a} {t} {n}, I agree with this edit.",
)
AUDIT_TOXIC = (
    "I hate {t} people.", "{t} people are disgusting.", "You are a stupid {t} {n}.", "All {t} people are idiots.",
    "Shut up, you {t} moron.", "{t} people are worthless trash.", "Go away, you pathetic {t} loser.",
    "I will kill every {t} {n} I see.", "{t} people should die.", "What an ugly {t} freak.",
    "No one wants your {t} crap here, idiot.", "{A} {t} {n} is always a dumb piece of shit.",
    "{t} people are filthy animals.", "Get lost, {t} scum.", "You {t} idiots ruin everything.",
    "Fuck you and every {t} {n}.", "{t} people are too stupid to vote.", "Typical lying {t} bastard.",
    "Keep your disgusting {t} kind away from us.", "I hope that {t} {n} gets beaten.",
    "{t} people are a disease.", "That {t} {n} is a worthless idiot.", "Only a moron would be {t}.",
    "Burn them all, those {t} rats.",
)
# The training family (`augmentation_sentences`): different sentence shapes, non-toxic only.
TRAIN_NON_TOXIC = (
    "I'm {t}.", "I'm {a} {t} {n}.", "As a {t} person I think this article needs more sources.",
    "She's {t} and works as a nurse.", "He's {t} and plays the guitar.", "They're {t} and live in Ohio.",
    "Being {t} is nothing to be ashamed of.", "I grew up in a {t} family.", "My {t} coworker bakes great bread.",
    "{t} is not an insult.", "My partner is {t}.", "I'm {t} and I love this song.",
    "The {t} students formed a study group.", "I'm proud of my {t} heritage.", "We have a {t} mayor now.",
    "Our club welcomes {t} members.", "The {t} volunteers cleaned the park.", "My uncle is {t} and a pilot.",
    "This page is about {t} history.", "I'm {t}, ask me anything.", "Some of my neighbours are {t}.",
    "I'm {a} {t} mother of two.", "{t} writers have won many prizes.", "Yes, I am {t}.",
)
NOUNS = ("person", "woman", "man", "student", "teacher", "neighbour", "friend", "doctor")

# Terms written with a capital (nationalities, religions, peoples); the models see cased text where it matters.
_CAPITALISED = frozenset(IDENTITY_TERMS["nationality"] + IDENTITY_TERMS["religion"][:-2]
                         + ("asian", "latino", "hispanic", "arab", "african american", "native american", "mormon"))


def display(term: str) -> str:
    """The term as written in a sentence: "Muslim", "African American", "gay"."""
    return " ".join(w.capitalize() for w in term.split()) if term in _CAPITALISED else term


@dataclass(frozen=True)
class TemplateRow:
    text: str
    term: str
    category: str
    toxic: int
    template: int


def _article(term: str) -> str:
    return "an" if term[0] in "aeiou" and not term.startswith("u") else "a"


def _fill(template: str, term: str, noun: str) -> str:
    article = _article(term)
    text = template.format(a=article, A=article.capitalize(), t=display(term), n=noun)
    return text[0].upper() + text[1:]


def _rows(templates: tuple[str, ...], toxic: int, offset: int) -> list[TemplateRow]:
    rows = []
    for t_index, template in enumerate(templates):
        for k, term in enumerate(TERMS):
            noun = NOUNS[(t_index + k) % len(NOUNS)]  # every term meets several nouns, in a fixed pattern
            rows.append(TemplateRow(_fill(template, term, noun), term, CATEGORY[term], toxic, offset + t_index))
    return rows


def template_suite() -> pd.DataFrame:
    """The audit's sentences: every term in every audit template (`text, term, category, toxic, template`).

    53 terms x (36 non-toxic + 24 toxic) templates = 3,180 sentences; the same on every call.
    """
    rows = _rows(AUDIT_NON_TOXIC, 0, 0) + _rows(AUDIT_TOXIC, 1, len(AUDIT_NON_TOXIC))
    return pd.DataFrame([row.__dict__ for row in rows])


def augmentation_sentences() -> list[str]:
    """Non-toxic sentences naming each identity term, from the training family (never the audit's)."""
    return [row.text for row in _rows(TRAIN_NON_TOXIC, 0, 0)]


def _term_pattern(terms) -> re.Pattern:
    # longest first, so "native american" wins over "american"; hyphens and spaces in terms match either
    alternatives = sorted(terms, key=len, reverse=True)
    body = "|".join(re.escape(t).replace(r"\ ", r"[\s-]+").replace(r"\-", r"[\s-]?") for t in alternatives)
    return re.compile(rf"(?<![\w-])({body})(?![\w-])", re.IGNORECASE)


_UNAMBIGUOUS = tuple(t for t in TERMS if t not in AMBIGUOUS)
# Noun forms (singular, plural) of terms that are used as nouns in running text ("Muslims", "a Jew"): they count
# as mentions of the term, and a swap keeps the form (a plural becomes another term's plural).
NOUN_FORMS = {
    **{t: (t, t + "s") for t in ("muslim", "christian", "hindu", "buddhist", "sikh", "catholic", "atheist", "mormon",
                                 "gay", "lesbian", "bisexual", "homosexual", "heterosexual", "mexican", "canadian",
                                 "pakistani", "nigerian", "russian", "iranian", "somali", "asian", "latino",
                                 "hispanic", "arab")},
    "jewish": ("jew", "jews"), "chinese": ("chinese", "chinese"),
}
_FORMS = {t: ((t,) + NOUN_FORMS.get(t, ())) for t in _UNAMBIGUOUS}  # term -> (adjective, singular, plural)
_WORD_TERM = {form.replace("-", " "): (term, i) for term, forms in _FORMS.items() for i, form in enumerate(forms)}
_MENTION = _term_pattern(tuple(_WORD_TERM))


def mentions(texts: list[str], terms: tuple[str, ...] = _UNAMBIGUOUS) -> dict[str, np.ndarray]:
    """{term: boolean mask of the texts that name it} by whole-word, case-insensitive match.

    Terms in `AMBIGUOUS` ("old", "white", ...) are left out by default: in running text they are mostly not
    identities. Terms no text names are left out of the result.
    """
    if terms is _UNAMBIGUOUS:
        pattern, canonical = _MENTION, {form: term for form, (term, _) in _WORD_TERM.items()}
    else:
        pattern, canonical = _term_pattern(terms), {t.replace("-", " ").lower(): t for t in terms}
    found: dict[str, np.ndarray] = {}
    for i, text in enumerate(texts):
        for match in pattern.finditer(str(text)):
            term = canonical.get(re.sub(r"[\s-]+", " ", match.group(1).lower()))
            if term is not None:
                found.setdefault(term, np.zeros(len(texts), dtype=bool))[i] = True
    return dict(sorted(found.items()))


def swap_identity(text: str, rng: np.random.Generator) -> str | None:
    """The text with each unambiguous identity term replaced by another of its category (None if it names none).

    Nouns stay nouns ("Muslims" -> "Hindus"); keeps the case of the first letter; the replacement is drawn
    from `rng`.
    """
    def replace(match: re.Match) -> str:
        word = match.group(1)
        term, form = _WORD_TERM.get(re.sub(r"[\s-]+", " ", word.lower()), (None, 0))
        if term is None:
            return word
        others = [t for t in IDENTITY_TERMS[CATEGORY[term]]
                  if t != term and t in _FORMS and len(_FORMS[t]) > form]
        new = _FORMS[str(rng.choice(others))][form] if others else word
        return new[0].upper() + new[1:] if word[0].isupper() else new

    swapped, count = _MENTION.subn(replace, str(text))
    return swapped if count else None


# Class names that mean "not toxic" in multiclass data (lower-case).
CLEAN_CLASS_NAMES = ("neither", "none", "clean", "non-toxic", "non_toxic", "nontoxic", "not_toxic", "normal",
                     "neutral", "ok", "acceptable", "safe", "benign", "other", "0")


def clean_class(labels: list[str]) -> int | None:
    """Index of the multiclass class that means "not toxic", by name (None if no name fits)."""
    return next((i for i, label in enumerate(labels) if str(label).strip().lower() in CLEAN_CLASS_NAMES), None)


# The identity columns of the Jigsaw Unintended Bias layout (values in [0, 1]: the share of raters who saw it).
JIGSAW_IDENTITY_COLUMNS = (
    "male", "female", "transgender", "other_gender", "heterosexual", "homosexual_gay_or_lesbian", "bisexual",
    "other_sexual_orientation", "christian", "jewish", "muslim", "hindu", "buddhist", "atheist", "other_religion",
    "black", "white", "asian", "latino", "other_race_or_ethnicity", "physical_disability",
    "intellectual_or_learning_disability", "psychiatric_or_mental_illness", "other_disability",
)


def identity_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of `frame` that are identity annotations: a known identity name (the Jigsaw Unintended Bias
    layout, or a term of this module with `_` for spaces) holding numbers in [0, 1] (empty cells allowed)."""
    known = set(JIGSAW_IDENTITY_COLUMNS) | {t.replace(" ", "_").replace("-", "_") for t in TERMS}
    found = []
    for column in frame.columns:
        if str(column).lower() not in known:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        present = values.dropna()
        if len(present) and values.notna().sum() == frame[column].notna().sum() and present.between(0, 1).all():
            found.append(str(column))
    return found
