"""Perturbations and the robustness report (core.evaluation.robustness), with and without normalisation."""

import re

import numpy as np
import pytest

from core.data.normalize import normalize_texts
from core.evaluation.robustness import PERTURBATIONS, perturb, robustness_report, sample_rows


def test_each_perturbation_hides_the_insult_as_described():
    rng = np.random.default_rng(0)
    text = "You are a stupid idiot, go away"
    out = {kind: perturb(text, kind, np.random.default_rng(1)) for kind in PERTURBATIONS}
    assert out["upper"] == text.upper() and out["lower"] == text.lower()
    assert out["negation"] == "It is not true that you are a stupid idiot, go away"
    assert out["identity_swap"] == text  # no identity term to swap
    for kind in ("lookalike", "leet", "spaced", "repeated"):
        assert not re.search(r"\b(stupid|idiot)\b", out[kind]) and "go away" in out[kind], (kind, out[kind])
    assert any(ord(c) > 127 for c in out["lookalike"])
    spaced = {perturb(text, "spaced", np.random.default_rng(seed)) for seed in range(12)}
    # spaces go into one word only (two spaced words in a row cannot be read apart); dots and dashes into both
    assert spaced == {"You are a s t u p i d idiot, go away", "You are a s.t.u.p.i.d i.d.i.o.t, go away",
                      "You are a s-t-u-p-i-d i-d-i-o-t, go away"}
    swapped = perturb("Muslims are welcome here", "identity_swap", rng)
    assert swapped != "Muslims are welcome here" and swapped.endswith(" are welcome here")


def test_without_an_insult_the_longest_words_are_obfuscated():
    out = perturb("The encyclopedia article needs citations", "spaced", np.random.default_rng(0))
    assert "encyclopedia" not in out and "The " in out


@pytest.mark.parametrize("kind", ["lookalike", "spaced", "repeated"])
def test_normalisation_undoes_character_obfuscation_of_insults(kind):
    rng = np.random.default_rng(3)
    texts = ["you stupid idiot", "what a moron", "total loser and a jerk"]
    perturbed = [perturb(t, kind, rng) for t in texts]
    assert perturbed != texts
    assert normalize_texts(perturbed, "unicode+leet") == texts


def test_normalisation_undoes_repeated_letters_in_english_words():
    # without an insult the longest words are obfuscated: the word list brings back each spelling
    texts = ["The encyclopedia article needs citations", "Please discuss the changes before removing them",
             "I will look at the sources tomorrow"]
    for seed in range(5):
        rng = np.random.default_rng(seed)
        perturbed = [perturb(t, "repeated", rng) for t in texts]
        assert all(re.search(r"(\w)\1\1", p) for p in perturbed)
        assert normalize_texts(perturbed, "unicode+leet") == texts, perturbed


def _keyword_predict(normalise: bool):
    words = ("stupid", "idiot", "moron", "loser", "jerk", "hate")

    def predict(texts):
        texts = normalize_texts(texts, "unicode+leet") if normalise else texts
        return np.array([[0.9 if any(w in t.lower() for w in words) else 0.1] for t in texts])
    return predict


def test_the_report_measures_what_normalisation_recovers():
    rng = np.random.default_rng(0)
    insults = ["you stupid idiot", "what a moron", "I hate you, loser", "such a jerk", "stupid people"]
    calm = ["thanks for the citation", "see the talk page", "good edit", "welcome to the project", "nice photo"]
    texts = [rng.choice(insults) if i % 2 else rng.choice(calm) for i in range(200)]
    truth = np.array([[i % 2] for i in range(200)])
    plain = robustness_report(_keyword_predict(False), texts, truth, "multilabel", ["toxic"], {"toxic": 0.5},
                              sample=100, kinds=("lookalike", "spaced", "upper"))
    fixed = robustness_report(_keyword_predict(True), texts, truth, "multilabel", ["toxic"], {"toxic": 0.5},
                              sample=100, kinds=("lookalike", "spaced", "upper"))
    rows = {r["perturbation"]: r for r in plain["perturbations"]}
    assert plain["rows"] == 100 and plain["clean_macro_roc_auc"] == 1.0
    assert rows["lookalike"]["auc_change"] < -0.3 and rows["lookalike"]["flags_flipped"] > 0.3
    assert rows["upper"]["auc_change"] == 0.0 and rows["upper"]["flags_flipped"] == 0.0
    for row in fixed["perturbations"]:
        assert row["auc_change"] == 0.0 and row["flags_flipped"] == 0.0, row
    again = robustness_report(_keyword_predict(False), texts, truth, "multilabel", ["toxic"], {"toxic": 0.5},
                              sample=100, kinds=("lookalike", "spaced", "upper"))
    assert again == {**plain, "seconds": again["seconds"]}  # seeded: the same report twice


def test_the_sample_keeps_rare_positives_and_every_class():
    truth = np.zeros((1000, 2), dtype=int)
    truth[:7, 1] = 1  # a rare label
    rows = sample_rows(truth, 100, seed=0)
    assert len(rows) == 100 and set(range(7)) <= set(rows.tolist())
    classes = np.array([0] * 950 + [1] * 40 + [2] * 10)
    picked = classes[sample_rows(classes, 100, seed=0)]
    assert set(picked.tolist()) == {0, 1, 2}
