"""Text normalisation against obfuscation, applied alike when a run trains and when it scores.

Modes (`TrainConfig.normalize`, saved in the run's model metadata so every scorer applies the same one):

- `none`: texts as they are.
- `unicode`: Unicode NFKC (fullwidth and mathematical letters, ligatures, circled letters); invisible
  format characters removed (zero-width spaces and joiners, soft hyphens); look-alike letters from other
  scripts mapped to the Latin letter they imitate, *only inside a word that also has Latin letters*
  (`ѕtupid` with a Cyrillic `ѕ` -> `stupid`), so Cyrillic, Greek or any other script written on its own stays
  intact for multilingual models; letters spaced or dotted apart joined (`s t u p i d`, `s.t.u.p.i.d` ->
  `stupid`, four letters or more, one separator); a letter repeated three or more times cut to once or twice:
  the spelling of a known abusive word first (`stuuuupid` -> `stupid`, the list of `core.data.lexicon`), then of an
  English word (`cooool` -> `cool`, `understaaanding` -> `understanding`; the list in `words.txt`, twice before
  once), else twice (`zorrrg` -> `zorrg`).
- `unicode+leet`: also digits and symbols used as letters inside a word (`1d10t` -> `idiot`, `k!ll` -> `kill`,
  `$hit` -> `shit`; `1`, `|` and `!` read as i or l, whichever spells a known abusive word); a word with no
  letters (`2024`, `$5`) and a number with a unit or suffix (`3rd`, `5pm`, `mp3`) are left alone unless they
  spell a known abusive word (`ki11`).

The lexicon is short (about a hundred insults and profanities); other words get the default reading.

Each mode is idempotent: normalising a normalised text changes nothing (tested), which matters because the
job's saved predictions are re-scored through the same step when a run loads.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from core.config import NORMALIZATIONS
from core.data.lexicon import NEUTRAL
from core.errors import ConfigError

# "1", "|" and "!" stand for i or l: the spelling of a known abusive word decides, else the first
_AMBIGUOUS_LEET = {"1": "il", "!": "il"}
# ("|" is not read as a letter: wiki markup and tables are full of it)
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "!": "i",
         "€": "e"}
# four or more single letters with one separator repeated between them ("s t u p i d", "i.d.i.o.t")
_SPACED = re.compile(r"(?<![\w.])[A-Za-z]([ .*_-])(?:[A-Za-z]\1){2,}[A-Za-z](?![\w])")
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_WORD = re.compile(r"\S+")
_PUNCTUATION = ".,;:?!\"'()[]{}"
_ACRONYM = re.compile(r"^([A-Z])\1\1(?![A-Za-z])")  # "KKK", "AAA's"
# digits then letters ("3rd", "4chan", "5pm") or letters then digits ("mp3", "WilliamsF1"): read as leetspeak
# only when that spells a known abusive word
_NOT_LEET = re.compile(r"^(\d+[a-z]+|[a-z]+\d+)$", re.IGNORECASE)
# a word that may be leetspeak holds nothing but letters and the characters read as letters (no URL, time, id)
_LEETABLE = re.compile(r"^[A-Za-z0-9@$!€]+$")


# Letters abusers use as Latin ones that Unicode's confusables data does not list (their shapes differ in some
# fonts); applied, like the rest, only inside words that also hold Latin letters.
_EXTRA_LOOKALIKES = {"\u043a": "k", "\u0442": "t", "\u0433": "r", "\u043f": "n", "\u043c": "m", "\u043d": "h",
                     "\u0432": "b", "\u0448": "w"}


@lru_cache(maxsize=1)
def _confusables() -> dict[str, str]:
    """{character of another script: the ASCII letter it imitates}, from Unicode's confusables data."""
    from confusable_homoglyphs import categories, confusables

    table = {}
    for char, homoglyphs in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii() or categories.alias(char) in ("LATIN", "COMMON"):
            continue
        latin = [h["c"] for h in homoglyphs if len(h["c"]) == 1 and h["c"].isascii() and h["c"].isalpha()]
        if latin:
            table[char] = latin[0].lower() if char.islower() or not char.isupper() else latin[0]
    return {**_EXTRA_LOOKALIKES, **table}


def _is_latin_letter(char: str) -> bool:
    return char.isascii() and char.isalpha() or (char.isalpha() and "LATIN" in unicodedata.name(char, ""))


def _map_lookalikes(word: str) -> str:
    if not any(_is_latin_letter(c) for c in word):  # a word of another script stays as written
        return word
    table = _confusables()
    return "".join(table.get(c, c) if not _is_latin_letter(c) else c for c in word)


def _spellings(options: list[tuple[str, ...]]) -> list[str]:
    """Every spelling with one alternative per position, the first alternatives first (none past 16)."""
    choices = [i for i, option in enumerate(options) if len(option) > 1]
    if len(choices) > 4:
        return []
    spellings = []
    for combination in itertools.product(*(options[i] for i in choices)):
        parts = [option[0] for option in options]
        for i, value in zip(choices, combination):
            parts[i] = value
        spellings.append("".join(parts))
    return spellings


def _known(options: list[tuple[str, ...]]) -> str | None:
    """The first spelling, one alternative per position, that is a known abusive word (`core.data.lexicon`)."""
    # punctuation around the word does not hide it ("stuuupid!")
    return next((s for s in _spellings(options) if s.lower().strip(_PUNCTUATION) in NEUTRAL), None)


def _pick(options: list[tuple[str, ...]]) -> str:
    """A known abusive word if some spelling makes one ("k1ll": "kill", not "kiil"; "stuuupid": "stupid"),
    else the first alternative everywhere."""
    return _known(options) or "".join(option[0] for option in options)


@lru_cache(maxsize=1)
def _words() -> frozenset[str]:
    """English words, lower case (`words.txt`, kept next to this module so that normalisation never changes with
    an installed package)."""
    lines = (Path(__file__).parent / "words.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


_LETTERS = re.compile(r"[A-Za-z]+")
# inflections of a listed word count as words ("reverting", "citations"): the list holds mostly base forms
_SUFFIXES = ("s", "es", "ed", "ing", "ly", "er", "ers", "est")


def _is_word(word: str, inflected: bool) -> bool:
    words, word = _words(), word.lower()
    if word in words or not inflected:
        return word in words
    for end in _SUFFIXES:
        stem = word[:-len(end)]
        if word.endswith(end) and len(stem) > 2 and not stem.endswith(end[0]):  # not "powers" + "s"
            if stem in words or stem + "e" in words:
                return True
    return False


def _english(options: list[tuple[str, ...]]) -> str | None:
    """The first spelling, one alternative per position (the first alternative first), whose letter runs are all
    English words ("cooool": "cool"; "understaaanding": "understanding"), or None."""
    spellings = _spellings(options)
    for inflected in (False, True):  # a listed word first, then an inflection of one
        for spelling in spellings:
            found = _LETTERS.findall(spelling)
            if found and all(_is_word(word, inflected) for word in found):
                return spelling
    return None


def _deleet(word: str) -> str:
    core = word.strip(".,;:?\"'()[]{}")
    if (not core or not _LEETABLE.match(core) or sum(c.isalpha() for c in core) < 2
            or not any(c in _LEET for c in core)):
        return word
    if _NOT_LEET.match(core):  # "mp3", "5pm" stay; "ki11" is a known word in disguise
        found = _known([tuple(_AMBIGUOUS_LEET.get(c) or _LEET.get(c, c)) for c in core])
        return word.replace(core, found, 1) if found else word
    trailing = len(core) - len(core.rstrip("!"))  # "idiot!!" keeps its exclamation marks
    body = core[:len(core) - trailing] if trailing else core
    if not any(c in _LEET for c in body):
        return word
    start = word.index(core)
    body = _pick([tuple(_AMBIGUOUS_LEET.get(c) or _LEET.get(c, c)) for c in body])
    return word[:start] + body + core[len(body):] + word[start + len(core):]


def _squeeze(word: str) -> str:
    """Letters repeated three or more times: once or twice, whichever spells a known abusive word, else an English
    word (twice before once), else twice."""
    # URLs ("www."), paths and acronyms ("KKK", "AAA") keep their letters
    if not _REPEATS.search(word) or any(c in word for c in "/:@=") or _ACRONYM.match(word):
        return word
    parts = [m.group(0) for m in re.finditer(r"(.)\1*", word)]
    options = [(part,) if len(part) < 3 or not part[0].isalpha() else (part[0] * 2, part[0]) for part in parts]
    return _known(options) or _english(options) or "".join(option[0] for option in options)


def _join(match: re.Match) -> str:
    run, separator = match.group(0), match.group(1)
    # "a m o r o n", "I h a t e": the one-letter words "a" and "I" before a spaced word stay words
    if separator == " " and run[0] in "aAI" and len(run) >= 9:
        return run[:2] + run[2:].replace(separator, "")
    return run.replace(separator, "")


def normalize_text(text: str, mode: str = "unicode") -> str:
    """One text normalised by `mode` (see the module docstring)."""
    if mode == "none":
        return text
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    text = _WORD.sub(lambda m: _map_lookalikes(m.group(0)), text)
    text = _SPACED.sub(_join, text)
    if mode == "unicode+leet":
        text = _WORD.sub(lambda m: _deleet(m.group(0)), text)
        text = _SPACED.sub(_join, text)
    return _WORD.sub(lambda m: _squeeze(m.group(0)), text)


def normalize_texts(texts: list[str], mode: str = "unicode") -> list[str]:
    """`normalize_text` over a list (the identity when `mode` is `none`)."""
    if mode == "none":
        return list(texts)
    return [normalize_text(str(t), mode) for t in texts]


def check_mode(mode: str) -> str:
    """`mode` if it is one of `NORMALIZATIONS`."""
    if mode not in NORMALIZATIONS:
        raise ConfigError(f"normalize={mode!r} is invalid: use one of {NORMALIZATIONS}.")
    return mode
