"""The offline rewriter: explanation-guided editing, no key and no network.

Loop: score the text; while a label is at or above its threshold, explain the label that is furthest over
its threshold (exact linear contributions for tfidf runs, Integrated Gradients for transformer runs),
take the word with the largest positive attribution, replace it with a neutral word from the lexicon or
remove it, and re-score; stop when nothing is flagged or after `max_steps` edits. Every edit is recorded.

Edits keep the sentence readable (`tidy`): a few abusive phrases are replaced whole ("piece of crap", "what the
hell"), articles follow the word that now comes after them ("a idiot" -> "an unhelpful ..."), punctuation left by
a removed word joins the word before it, and a sentence whose first word was removed starts with a capital.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from core.explain import explain
from core.data.lexicon import NEUTRAL

_CORE_RE = re.compile(r"^(\W*)(.*?)(\W*)$", re.S)


@dataclass
class LocalRewrite:
    """The edited text and what changed."""

    text: str
    changes: list[str] = field(default_factory=list)
    steps: int = 0
    passed: bool = False
    seconds: float = 0.0


def _worst_label(result, thresholds: dict[str, float]) -> str | None:
    over = {label: result.probabilities[label] - thresholds[label] for label in result.flagged}
    return max(over, key=over.get) if over else None


# "an" before a vowel sound: vowel letters, except a "you" sound (user, unit, euro) or a "w" one (one); plus a
# silent h (hour, honest)
_VOWEL_SOUND = re.compile(r"^(?!(?:use|usu|uti|uni(?!n)|one|once|eu|ewe)\w*)(?:[aeiou]|hour|honest|honou?r)", re.I)
# never removed to lower a score: without them the sentence stops being one ("is this" -> "", "Go to" -> "to")
_FUNCTION_WORDS = set("""a an the and or but so if then than that this these those it its i me my you your yours he
him his she her we us our they them their is are was were be been being am do does did have has had will would can
could should shall may might must not no to of in on at for with by from as about what who why how where when just
go get up here there all any some""".split())
_PUNCT_ONLY = re.compile(r"^[^\w\s]+$")
_ABUSIVE_NOUNS = {"shit", "crap", "garbage", "trash"}
_QUESTION_WORDS = {"what", "who", "why", "how", "where", "when"}
_EXPLETIVES = {"hell", "fuck", "heck"}


def _core(word: str) -> str:
    return _CORE_RE.match(word).group(2).lower()


def _phrase(words: list[str], index: int) -> tuple[int, int, str, str] | None:
    """(start, end, replacement, description) when the word at `index` ends a known abusive phrase, else None:
    "piece of crap" -> "awful person"; "what the hell" -> "what"; "go to hell" -> "go away"."""
    core = _core(words[index])
    trail = _CORE_RE.match(words[index]).group(3)
    before = [_core(w) for w in words[max(index - 2, 0):index]]
    if core in _ABUSIVE_NOUNS and before == ["piece", "of"]:
        return index - 2, index + 1, "awful person" + trail, f"'piece of {core}' -> 'awful person'"
    if core in _EXPLETIVES and before[-1:] == ["the"] and index >= 2 and before[0] in _QUESTION_WORDS:
        return index - 1, index + 1, trail, f"removed 'the {core}'"
    if core == "hell" and before == ["go", "to"]:
        return index - 1, index + 1, "away" + trail, "'to hell' -> 'away'"
    if core == "up" and before[-1:] == ["shut"]:
        return index - 1, index + 1, "please stop" + trail, "'shut up' -> 'please stop'"
    if core == "shut" and index + 1 < len(words) and _core(words[index + 1]) == "up":
        return index, index + 2, "please stop" + _CORE_RE.match(words[index + 1]).group(3), \
            "'shut up' -> 'please stop'"
    return None


def tidy(words: list[str], original: list[str]) -> list[str]:
    """The same words, readable after edits: "a"/"an" agree with the next word wherever that pairing is new (the
    user's own text is left alone), and a sentence whose first word was removed starts with a capital."""
    tidied = list(words)
    pairs = {(a.lower(), b.lower()) for a, b in zip(original, original[1:])}
    for i in range(len(tidied) - 1):
        article, following = tidied[i], tidied[i + 1]
        if article.lower() in ("a", "an") and (article.lower(), following.lower()) not in pairs:
            wanted = "an" if _VOWEL_SOUND.match(_core(following)) else "a"
            tidied[i] = wanted.capitalize() if article[:1].isupper() else wanted
    # a sentence start that is new (its first word was removed) gets a capital; the user's own casing stays
    starts = [i + 1 for i, word in enumerate(tidied[:-1]) if word.endswith((".", "!", "?"))
              and (word.lower(), tidied[i + 1].lower()) not in pairs]
    if tidied and original and original[0][:1].isupper() and tidied[0] != original[0]:
        starts.append(0)
    for i in starts:
        if tidied[i][:1].islower():
            tidied[i] = tidied[i][:1].upper() + tidied[i][1:]
    return tidied


def _place(words: list[str], start: int, end: int, new_word: str) -> tuple[list[str], int]:
    """Replace words[start:end] with `new_word` (split into words); punctuation alone (what a removed word leaves)
    joins the word before it instead of standing apart. Returns the words and how many new ones start at
    `start`."""
    if new_word and _PUNCT_ONLY.match(new_word):
        before = words[:start]
        if before and not before[-1].endswith((".", "!", "?", ",", ";", ":")):
            before = before[:-1] + [before[-1] + new_word]
        return before + words[end:], 0
    placed = new_word.split()
    return words[:start] + placed + words[end:], len(placed)


def _edit(word: str) -> tuple[str, str]:
    """The replacement of one whitespace-separated word (punctuation kept) and a description of the edit."""
    lead, core, trail = _CORE_RE.match(word).groups()
    replacement = NEUTRAL.get(core.lower(), "")
    if replacement and core[:1].isupper():
        replacement = replacement[:1].upper() + replacement[1:]
    if replacement:
        return f"{lead}{replacement}{trail}", f"{core!r} -> {replacement!r}"
    kept = (lead + trail).strip()
    return kept, f"removed {core!r}"


def _pick(words: list[str], scores: list[float], inserted: set[int]) -> int | None:
    """The word to edit: the most-attributed known insult/profanity, else the most-attributed content word.

    Only words that push the label up (score > 0) qualify, never a neutral word we put in ourselves, and never a
    function word (removing "is" or "you" breaks the sentence and rarely removes the abuse).
    """
    ranked = [i for i in sorted(range(len(words)), key=lambda i: -scores[i]) if scores[i] > 0 and i not in inserted]
    known = [i for i in ranked if _core(words[i]) in NEUTRAL or _core(words[i]) in ("shut", "up")]
    content = [i for i in ranked if _core(words[i]) not in _FUNCTION_WORDS and _core(words[i])]
    return (known or content or [None])[0]


def rewrite_local(scorer, text: str, max_steps: int = 8) -> LocalRewrite:
    """Edit `text` until no label is flagged by `scorer` (or `max_steps` edits)."""
    started = time.perf_counter()
    method = "linear" if scorer.model_kind == "tfidf" else "ig"
    options = {} if method == "linear" else {"n_steps": 16}
    words, changes, inserted = text.split(), [], set()
    original = list(words)
    current = text
    for step in range(max_steps + 1):
        result = scorer.score([current])[0]
        label = _worst_label(result, scorer.score_thresholds)
        if label is None or not words or step == max_steps:
            break
        attribution = explain(scorer, current, method, label=label, **options)
        index = _pick(words, attribution.word_scores, inserted)
        if index is None:
            break  # nothing left pushes the label up: further edits would be guesses
        phrase = _phrase(words, index)
        if phrase:
            start, end, new_word, change = phrase
        else:
            (new_word, change), start, end = _edit(words[index]), index, index + 1
        changes.append(f"{change} (for {label})")
        words, placed = _place(words, start, end, new_word)
        shift = placed - (end - start)
        inserted = {i if i < start else i + shift for i in inserted if not start <= i < end}
        inserted |= set(range(start, start + placed))
        words = tidy(words, original)
        current = " ".join(words)
    final = scorer.score([current])[0] if current else None
    return LocalRewrite(current, changes, len(changes), bool(final is not None and not final.flagged),
                        time.perf_counter() - started)
