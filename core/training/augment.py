"""Training options that change the training split: identity augmentation and text normalisation.

Two options reduce the identity bias a toxicity model learns from its data, where identity words appear mostly
in abuse:

- `identity_augmentation`, non-toxic identity sentences (after Dixon et al. 2018): sentences from
  `core.data.identity`'s training family, labelled non-toxic (every label 0; multiclass: the clean class), so
  that naming an identity is seen in harmless text too;
- `identity_swaps`, counterfactual copies: every training text that names an identity term (whole word,
  unambiguous terms) is copied once with each term swapped for another of its category, labels kept, so no
  term is tied to the labels more than its siblings are. A Jigsaw run with both options and normalisation
  lost 0.006 test ROC-AUC (`threat` most); which part cost it is not measured yet (bench/RESULTS.md).

The sentences are on by default for multilabel data (`identity_augmentation: auto`, with `normalize: auto`)
since a Jigsaw run with both kept test ROC-AUC within 0.002 of the run without them and met the bias and
obfuscation goals; on Davidson's three classes they cost the rare hate-speech class F1, so `auto` leaves
multiclass data alone (bench/RESULTS.md, session 18). The swaps stay off (they cost 0.006).

Only the training split changes; validation and test stay as the data gave them. The sentences are at most
`SENTENCE_SHARE` of the training split (all 1,272 from about 25,400 rows up), so that a small data set is not
swamped by them: a twentieth since session 18 (a tenth cost a Jigsaw run 0.003 test ROC-AUC, on the rare labels,
while its bias figures had a wide margin; bench/RESULTS.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import Dataset
from core.data.identity import augmentation_sentences, clean_class, swap_identity
from core.data.normalize import normalize_texts

SENTENCE_SHARE = 0.05


def identity_augmentation(train: Dataset, seed: int, with_sentences: bool = True,
                          with_swaps: bool = True) -> tuple[Dataset, dict]:
    """(the training split with non-toxic identity sentences and/or counterfactual copies added, a summary).

    The summary (`counterfactual`, `sentences`, `note`) is recorded in metrics.json. Multiclass data whose
    clean class cannot be told from its names gets no sentences (the note says so).
    """
    rng = np.random.default_rng(seed)
    frame = train.frame
    texts = frame["text"].astype(str).tolist() if with_swaps else []
    copies = []
    for i, text in enumerate(texts):
        swapped = swap_identity(text, rng)
        if swapped is not None and swapped != text:
            row = frame.iloc[i].copy()
            row["text"] = swapped
            copies.append(row)
    summary = {"counterfactual": len(copies), "sentences": 0, "note": ""}
    added = [pd.DataFrame(copies)] if copies else []
    sentences = augmentation_sentences() if with_sentences else []
    cap = int(SENTENCE_SHARE * len(frame))
    if cap < len(sentences):  # a seeded subset, every term still named
        sentences = [sentences[i] for i in sorted(rng.choice(len(sentences), size=cap, replace=False))]
    block = None
    if sentences and train.kind == "multilabel":
        block = pd.DataFrame({"text": sentences, **{label: 0 for label in train.labels}})
    elif sentences:
        clean = clean_class(train.labels)
        block = None if clean is None else pd.DataFrame({"text": sentences, "label": clean})
        if clean is None:
            summary["note"] = (f"no class of {train.labels} reads as non-toxic (e.g. 'neither', 'none', 'clean'), "
                               "so no non-toxic identity sentences were added")
    if block is not None:
        for column in frame.columns:  # ids and any other canonical column stay present (empty)
            if column not in block:
                block[column] = None if frame[column].dtype == object else 0
        added.append(block[frame.columns])
        summary["sentences"] = len(block)
    if not added:
        return train, summary
    combined = pd.concat([frame, *added], ignore_index=True)
    for column in train.labels if train.kind == "multilabel" else ["label"]:
        combined[column] = combined[column].astype(frame[column].dtype)
    return train.with_frame(combined), summary


def normalize_dataset(dataset: Dataset, mode: str) -> Dataset:
    """The dataset with every text column normalised by `mode` (`core.data.normalize`)."""
    if mode == "none":
        return dataset
    frame = dataset.frame.copy()
    for column in dataset.text_columns():
        frame[column] = normalize_texts(frame[column].astype(str).tolist(), mode)
    return dataset.with_frame(frame)
