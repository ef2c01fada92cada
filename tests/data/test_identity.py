"""The identity term list, the template suite, mentions, swaps and identity columns (core.data.identity)."""

import numpy as np
import pandas as pd
import pytest

from core.data import identity
from core.data.identity import (AUDIT_NON_TOXIC, AUDIT_TOXIC, TERMS, augmentation_sentences, identity_columns,
                                mentions, swap_identity, template_suite)


def test_the_suite_puts_every_term_in_every_template():
    suite = template_suite()
    assert len(TERMS) == 53 and len(set(TERMS)) == 53
    assert len(suite) == 53 * (len(AUDIT_NON_TOXIC) + len(AUDIT_TOXIC)) == 3180
    counts = suite.groupby("term")["toxic"].agg(["size", "sum"])
    assert (counts["size"] == 60).all() and (counts["sum"] == len(AUDIT_TOXIC)).all()
    assert set(suite["category"]) == set(identity.IDENTITY_TERMS)
    assert suite["text"].is_unique  # no two templates collapse into one sentence
    assert template_suite().equals(suite)  # the same suite on every call


def test_sentences_read_as_written():
    suite = template_suite().set_index(["term", "template"])["text"]
    assert suite[("muslim", 0)] == "I am a Muslim person."  # article, capital and a noun
    assert suite[("elderly", 0)].startswith("I am an elderly")
    assert suite[("african american", 3)] == "We hired an African American friend last month."
    assert all(text[0].isupper() for text in suite)


def test_training_sentences_never_repeat_the_audit():
    audit = set(template_suite()["text"])
    train = augmentation_sentences()
    assert len(train) == 53 * len(identity.TRAIN_NON_TOXIC) and not audit & set(train)


def test_mentions_match_whole_words_nouns_and_spelling_variants():
    texts = ["All Jews are liars", "a Muslim", "Muslims and gays", "native American art", "middle aged man",
             "muslimness", "an old white man", "Gay-friendly"]
    found = mentions(texts)
    assert found["jewish"].tolist() == [True] + [False] * 7
    assert found["muslim"].tolist() == [False, True, True, False, False, False, False, False]
    assert found["gay"][2] and not found["gay"][7]  # "gay-friendly" is one word
    assert found["native american"][3] and found["middle-aged"][4]
    assert "old" not in found and "white" not in found  # ambiguous in running text: left out by default
    assert mentions(["an old white man"], terms=("old", "white"))["old"].tolist() == [True]


def test_a_swap_keeps_the_category_the_form_and_the_case():
    rng = np.random.default_rng(0)
    religions = {t for t in identity.IDENTITY_TERMS["religion"]} | {"jew", "jews"}
    plural = {f[2] for t, f in identity._FORMS.items() if len(f) == 3 and identity.CATEGORY[t] == "religion"}
    for _ in range(20):
        swapped = swap_identity("All Muslims pray, said the muslim", rng)
        first, last = swapped.split()[1], swapped.split()[-1]
        assert first in {p.capitalize() for p in plural} and first != "Muslims"
        assert last in religions and last != "muslim"
    assert swap_identity("nothing to see here", rng) is None
    assert swap_identity("an old man", rng) is None  # ambiguous terms are not swapped


def test_identity_columns_are_recognised_by_name_and_range():
    frame = pd.DataFrame({"text": ["a", "b", "c"], "muslim": [0.0, 0.8, None], "female": [1, 0, 0],
                          "homosexual_gay_or_lesbian": [0.2, 0.0, 0.6], "black": [0, 2, 0],
                          "toxic": [0, 1, 0], "christian": ["x", "y", "z"]})
    assert identity_columns(frame) == ["muslim", "female", "homosexual_gay_or_lesbian"]


@pytest.mark.parametrize("labels,index", [(["hate_speech", "offensive_language", "neither"], 2),
                                          (["Clean", "toxic"], 0), (["a", "b"], None)])
def test_the_clean_class_is_found_by_name(labels, index):
    assert identity.clean_class(labels) == index
