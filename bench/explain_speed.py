"""Benchmark: explanation speed on 30-40-token comments, and our SHAP against shap's defaults, in one run.

A fine-tuned bundled-MiniLM run (default: the newest succeeded `classifier` run) explains 20 comments of
../shared/data/jigsaw/test.csv that have 30-40 tokens, each for its top label, warm:
  ours: SHAP (token-id masker, max_evals 200 by default, batch 64), IG (50 steps), attention (last layer)
  baselines, both shap's defaults (Partition explainer, Text masker, max_evals=500):
    shap pipeline: shap.Explainer(transformers.pipeline("text-classification", top_k=None)), the usage shap's
                   documentation shows for transformers models (the pipeline scores masked strings one by one)
    shap batched f: shap.Explainer(f, shap.maskers.Text(tokenizer)), f = tokenizer + model + sigmoid on a
                   whole batch of masked strings; a stronger baseline than shap's documented usage
Prints mean seconds per comment, the speed-up of our SHAP over each baseline, and the mean Spearman rank
correlation of word attributions (ours vs each default).

Run: .venv/bin/python bench/explain_speed.py [RUN_DIR] [N]   (SHAP_MAX_EVALS=... to try another budget)
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from _common import JIGSAW_TEST, check_reproduces, make_pipeline, run_from_args  # noqa: E402  (project on sys.path)
import numpy as np  # noqa: E402

from core.data import load_dataset  # noqa: E402
from core.explain import explain  # noqa: E402
from core.explain.base import words_from_offsets  # noqa: E402
from core.scoring.scorer import Scorer  # noqa: E402



def pick_comments(scorer, n: int) -> list[str]:
    texts = load_dataset(JIGSAW_TEST).frame["text"].tolist()
    chosen = []
    for text in texts:
        if 30 <= len(scorer.tokenizer(text)["input_ids"]) <= 40 and "\n" not in text:
            chosen.append(text)
        if len(chosen) == n:
            break
    return chosen


def token_to_words(scorer, text: str, values) -> tuple[list[str], list[float]]:
    """shap's per-token values summed into the words our explainers report."""
    offsets = scorer.tokenizer(text, return_offsets_mapping=True)["offset_mapping"]
    return words_from_offsets(text, [tuple(o) for o in offsets], np.asarray(values))


def batched_f(scorer, target: int):
    """f(strings) -> the run's probability of label `target`: tokenizer + model + sigmoid on a whole batch."""
    import torch

    def f(strings):
        encoded = scorer.tokenizer([str(s) for s in strings], padding=True, truncation=True,
                                   max_length=scorer.max_length, return_tensors="pt")
        with torch.inference_mode():
            logits = scorer.model(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]).logits
        probs = torch.sigmoid(logits) if scorer.task == "multilabel" else torch.softmax(logits, dim=-1)
        return probs[:, target].numpy()

    return f


def default_shap(scorer, text: str, target: int) -> tuple[list[str], list[float], float]:
    import shap

    started = time.perf_counter()
    values = shap.Explainer(batched_f(scorer, target), shap.maskers.Text(scorer.tokenizer))([text],
                                                                                          silent=True)[0].values
    seconds = time.perf_counter() - started
    return *token_to_words(scorer, text, values), seconds


def pipeline_shap(explainer, scorer, text: str, target: int) -> tuple[list[str], list[float], float]:
    """shap.Explainer(pipeline) defaults; the pipeline explains every label at once, we keep `target`'s."""
    started = time.perf_counter()
    explanation = explainer([text], silent=True)[0]
    seconds = time.perf_counter() - started
    column = list(explanation.output_names).index(scorer.labels[target])
    return *token_to_words(scorer, text, explanation.values[:, column]), seconds


def main() -> None:
    from scipy.stats import spearmanr

    run_dir = run_from_args(sys.argv[1:2])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    scorer = Scorer.from_run(run_dir, backend="exact")
    shap_options = {"max_evals": int(os.environ["SHAP_MAX_EVALS"])} if os.environ.get("SHAP_MAX_EVALS") else {}
    comments = pick_comments(scorer, n)
    print(f"run {run_dir.name}: {len(comments)} comments of 30-40 tokens")
    explain(scorer, comments[0], "shap")  # warm-up: imports, kernels
    explain(scorer, comments[0], "ig")
    default_shap(scorer, comments[0], 0)
    import shap

    classify = make_pipeline(run_dir, scorer.task)  # the run's own model (a mean-pooling head included)

    def pipeline_probs(texts):
        rows = classify(texts, truncation=True, max_length=scorer.max_length)
        return [[{d["label"]: d["score"] for d in row}[label] for label in scorer.labels] for row in rows]

    def batched_f_probs(texts):
        return np.stack([batched_f(scorer, target)(texts) for target in range(len(scorer.labels))], axis=1)

    check_reproduces("shap pipeline", pipeline_probs, scorer, comments[:8])
    check_reproduces("shap batched f", batched_f_probs, scorer, comments[:8])
    pipeline_explainer = shap.Explainer(classify)
    pipeline_explainer([comments[0]], silent=True)
    times = {"shap": [], "ig": [], "attention": [], "shap pipeline": [], "shap batched f": []}
    correlations = {"shap pipeline": [], "shap batched f": []}
    for text in comments:
        target = int(np.argmax(scorer.predict_proba([text])[0]))
        label = scorer.labels[target]
        ours = explain(scorer, text, "shap", label=label, **shap_options)
        times["shap"].append(ours.seconds)
        times["ig"].append(explain(scorer, text, "ig", label=label).seconds)
        times["attention"].append(explain(scorer, text, "attention", label=label).seconds)
        for name, words, baseline, seconds in (
                ("shap pipeline", *pipeline_shap(pipeline_explainer, scorer, text, target)),
                ("shap batched f", *default_shap(scorer, text, target))):
            assert words == ours.words, (words, ours.words)
            times[name].append(seconds)
            correlations[name].append(spearmanr(ours.word_scores, baseline).statistic)
    for name, values in times.items():
        print(f"{name:>14}: mean {statistics.mean(values):.3f} s, max {max(values):.3f} s per comment")
    for name, values in correlations.items():
        speedup = statistics.mean(times[name]) / statistics.mean(times["shap"])
        print(f"our SHAP vs {name} defaults: {speedup:.1f}x faster; mean Spearman of word attributions "
              f"{np.nanmean(values):.3f} (min {np.nanmin(values):.3f})")


if __name__ == "__main__":
    main()
