"""Text normalisation against obfuscation (core.data.normalize)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data.normalize import NORMALIZATIONS, check_mode, normalize_text, normalize_texts
from core.errors import ConfigError


@pytest.mark.parametrize("text,unicode_only,with_leet", [
    ("you \u0455tupid idiot", "you stupid idiot", "you stupid idiot"),  # Cyrillic dze inside a Latin word
    ("\u0456d\u0456\u043et", "idiot", "idiot"),  # three Cyrillic look-alikes among Latin letters
    ("\u0441\u043e\u0440", "\u0441\u043e\u0440", "\u0441\u043e\u0440"),  # all Cyrillic: a Russian word, kept
    ("\U0001d42c\U0001d42d\U0001d42e\U0001d429\U0001d422\U0001d41d", "stupid", "stupid"),  # mathematical bold
    ("\uff49\uff44\uff49\uff4f\uff54", "idiot", "idiot"),  # fullwidth
    ("s t u p i d", "stupid", "stupid"),
    ("s.t.u.p.i.d!", "stupid!", "stupid!"),
    ("stuuuuupid", "stupid", "stupid"),  # a known abusive word once its letters are single
    ("sooooo cooool", "soo cool", "soo cool"),  # else an English word, a doubled letter first
    ("understaaaanding, Nooooo", "understanding, No", "understanding, No"),  # once where that makes the word
    ("BAAALLLDDD!!!", "BALD!!!", "BALD!!!"),  # every run chosen at once, case kept
    ("zorrrrg", "zorrg", "zorrg"),  # no word: doubled
    ("stuuupid! powersss, trollliiing", "stupid! powers, trolling", "stupid! powers, trolling"),  # punctuation
    # kept, a listed word before an inflection ("powers", not "powerss" = "powers" + s), then one ("troll" + ing)
    ("ki11 y0u", "ki11 y0u", "kill you"),  # 1 is i or l: the known word decides, even after letters
    ("4ss and 4chan", "4ss and 4chan", "ass and 4chan"),  # digits before letters: only a known word
    ("see WP:3RR, 1950's, 128-bit, 12:00PM, p.204, |style, WilliamsF1 and http://www.a1.com/x3",
     "see WP:3RR, 1950's, 128-bit, 12:00PM, p.204, |style, WilliamsF1 and http://www.a1.com/x3",
     "see WP:3RR, 1950's, 128-bit, 12:00PM, p.204, |style, WilliamsF1 and http://www.a1.com/x3"),  # not words
    ("the KKK's AAA rating, REAAALY", "the KKK's AAA rating, REAALY", "the KKK's AAA rating, REAALY"),
    ("zero\u200bwidth\u00adjoin", "zerowidthjoin", "zerowidthjoin"),
    ("1d10t", "1d10t", "idiot"),
    ("k!ll yourself", "k!ll yourself", "kill yourself"),
    ("$hit", "$hit", "shit"),
    ("you are an idiot!!", "you are an idiot!!", "you are an idiot!!"),
    ("I have 2 cats, 3rd place at 5pm, mp3 and $5", "I have 2 cats, 3rd place at 5pm, mp3 and $5",
     "I have 2 cats, 3rd place at 5pm, mp3 and $5"),
    ("\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440", "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440",
     "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440"),  # Russian stays Russian
    ("caf\u00e9 na\u00efve U.S.A. I a m", "caf\u00e9 na\u00efve U.S.A. I a m", "caf\u00e9 na\u00efve U.S.A. I a m"),
])
def test_each_mode_undoes_its_obfuscations_and_keeps_plain_text(text, unicode_only, with_leet):
    assert normalize_text(text, "none") == text
    assert normalize_text(text, "unicode") == unicode_only
    assert normalize_text(text, "unicode+leet") == with_leet


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60))
def test_every_mode_is_idempotent(text):
    # the job's saved predictions are re-scored through the same step on load: twice must equal once
    for mode in NORMALIZATIONS:
        once = normalize_text(text, mode)
        assert normalize_text(once, mode) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,.'?", max_size=80))
def test_plain_lowercase_prose_without_runs_of_single_letters_is_unchanged(text):
    words = text.split()
    singles = [len(w.strip(",.'?")) == 1 for w in words]
    if any(all(singles[i:i + 4]) for i in range(max(0, len(words) - 3))) or any(
            c * 3 in text for c in "abcdefghijklmnopqrstuvwxyz"):
        return  # spaced-out letters and tripled letters are what the step rewrites
    assert normalize_text(text, "unicode+leet") == text


def test_lists_and_unknown_modes():
    assert normalize_texts(["1d10t", "ok"], "unicode+leet") == ["idiot", "ok"]
    assert normalize_texts(["1d10t"], "none") == ["1d10t"]
    with pytest.raises(ConfigError, match=r"normalize='nfkc' is invalid: use one of \('none', 'unicode'"):
        check_mode("nfkc")
