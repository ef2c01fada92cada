"""Benchmark: batch scoring and single-comment latency, our Scorer vs `transformers.pipeline`, in one run.

A bundled-MiniLM classifier run (default: the newest succeeded `classifier` run in the models folder)
scores 1,000 texts of ../shared/data/jigsaw/test.csv:
  baseline: pipeline("text-classification", top_k=None) at batch sizes 1, 8 and 32 (its best counts)
  ours exact: Scorer (length-sorted batches cut by a token budget, per-batch padding, inference_mode, the
              last layer for the first token only), fp32
  ours exact, ablations: fixed 32-row batches; and also the full last layer (the Scorer before session 5)
  ours onnx: the exact path's model exported at load time and run by ONNX Runtime (fp32)
  ours int8: the exact path with dynamic int8 quantisation of the Linear layers
  ours bf16: the exact path's matrix products in bfloat16 (only on hardware with native bf16; else skipped)
  (the default backend, `auto`, is onnx on CPU when it loads; the first line says what it chose)
Prints texts/s and ratios, max |delta p| against the pipeline / exact path, the macro ROC-AUC change of onnx,
int8 and bf16 on the whole test file, and the warm p50 latency of one ~30-token comment.

Run: .venv/bin/python bench/score_throughput.py [RUN_DIR] [N]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from _common import JIGSAW_TEST, check_reproduces, make_pipeline, run_from_args  # noqa: E402  (project on sys.path)
import numpy as np  # noqa: E402

from core.scoring.bf16 import native_bf16  # noqa: E402
from core.data import load_dataset  # noqa: E402
from core.evaluation.metrics import multilabel_metrics  # noqa: E402
from core.scoring.first_token import FirstTokenLayer  # noqa: E402
from core.scoring.scorer import Scorer  # noqa: E402

COMMENT = ("You are a complete idiot and everyone on this talk page knows it, so stop editing my article "
           "now or I will report you to the admins.")


def timed(fn, repeats: int = 2) -> tuple[float, object]:
    """Best wall time of `repeats` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def pipeline_probs(run_dir: Path, texts: list[str], labels: list[str], max_length: int, batch: int) -> np.ndarray:
    classify = make_pipeline(run_dir)
    out = classify(texts, batch_size=batch, truncation=True, max_length=max_length)
    return np.array([[{d["label"]: d["score"] for d in row}[label] for label in labels] for row in out])


def full_last_layer(scorer: Scorer) -> Scorer:
    """A second scorer of the same run whose last layer runs for every token again (the ablation)."""
    import copy

    other = copy.copy(scorer)
    other.model = copy.deepcopy(scorer.model)
    for module in list(other.model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, FirstTokenLayer):
                setattr(module, child_name, child.layer)
    return other


def p50_ms(fn, calls: int = 200) -> float:
    for _ in range(10):
        fn()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    run_dir = run_from_args(sys.argv[1:2])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    test = load_dataset(JIGSAW_TEST)
    all_texts = test.frame["text"].tolist()
    texts = all_texts[:n]
    exact = Scorer.from_run(run_dir, backend="exact")
    fast = Scorer.from_run(run_dir, backend="int8")
    onnx = Scorer.from_run(run_dir, backend="onnx")
    native, why_not = native_bf16(exact.device)
    bf16 = Scorer.from_run(run_dir, backend="bf16") if native else None
    labels, max_length = exact.labels, exact.max_length
    check_reproduces("pipeline", lambda t: pipeline_probs(run_dir, t, labels, max_length, 8), exact, texts[:16])
    default = Scorer.from_run(run_dir, backend="auto")  # what pages and CLI use unless the run saved a choice
    torch = __import__("torch")
    print(f"run {run_dir.name}, {n} texts, max_length {max_length}, torch threads {torch.get_num_threads()}, "
          f"CPU {torch.cpu.get_capabilities().get('cpu_name', '?')} ({torch.backends.cpu.get_cpu_capability()}); "
          f"the default backend here: {default.backend_note}")
    del default

    results = {}
    for batch in (1, 8, 32):
        seconds, probs = timed(lambda: pipeline_probs(run_dir, texts, labels, max_length, batch), repeats=1)
        results[f"pipeline b{batch}"] = (n / seconds, probs)
        print(f"pipeline batch {batch:>2}: {n / seconds:7.1f} texts/s")
    best_name = max((k for k in results if k.startswith("pipeline")), key=lambda k: results[k][0])
    baseline_rate, baseline_probs = results[best_name]
    seconds, exact_probs = timed(lambda: exact.predict_proba(texts))
    seconds_fast, fast_probs = timed(lambda: fast.predict_proba(texts))
    seconds_onnx, onnx_probs = timed(lambda: onnx.predict_proba(texts))
    print(f"ours exact      : {n / seconds:7.1f} texts/s = {n / seconds / baseline_rate:.2f}x {best_name}; "
          f"max |dp| vs pipeline {np.abs(exact_probs - baseline_probs).max():.2e}")
    full = full_last_layer(exact)
    for name, scorer, kwargs in (("exact, 32-row batches", exact, {"batch_size": 32, "batch_tokens": 10**9}),
                                 ("... + full last layer", full, {"batch_size": 32, "batch_tokens": 10**9})):
        secs, probs = timed(lambda: scorer.predict_proba(texts, **kwargs))
        print(f"  ablation {name:<22}: {n / secs:7.1f} texts/s = {n / secs / baseline_rate:.2f}x; "
              f"max |dp| vs exact {np.abs(probs - exact_probs).max():.2e}")
    print(f"ours onnx       : {n / seconds_onnx:7.1f} texts/s = {n / seconds_onnx / baseline_rate:.2f}x {best_name}; "
          f"max |dp| vs pipeline {np.abs(onnx_probs - baseline_probs).max():.2e}, "
          f"vs exact {np.abs(onnx_probs - exact_probs).max():.2e}")
    print(f"ours int8       : {n / seconds_fast:7.1f} texts/s = {n / seconds_fast / baseline_rate:.2f}x {best_name}; "
          f"max |dp| vs exact {np.abs(fast_probs - exact_probs).max():.4f}")
    if bf16 is None:
        print(f"ours bf16       : skipped ({why_not})")
    else:
        seconds_bf16, bf16_probs = timed(lambda: bf16.predict_proba(texts))
        print(f"ours bf16       : {n / seconds_bf16:7.1f} texts/s = {n / seconds_bf16 / baseline_rate:.2f}x "
              f"{best_name}; max |dp| vs exact {np.abs(bf16_probs - exact_probs).max():.4f}")

    truth = test.label_matrix()
    full_exact = exact.predict_proba(all_texts)
    auc_exact = multilabel_metrics(full_exact, truth, labels)["macro_roc_auc"]
    print(f"whole test file ({len(all_texts)} rows): macro ROC-AUC exact {auc_exact:.4f}")
    for name, scorer in (("onnx", onnx), ("int8", fast), ("bf16", bf16)):
        if scorer is None:
            continue
        full = scorer.predict_proba(all_texts)
        auc = multilabel_metrics(full, truth, labels)["macro_roc_auc"]
        print(f"  {name}: macro ROC-AUC {auc:.4f} (change {auc - auc_exact:+.4f}); "
              f"max |dp| vs exact {np.abs(full - full_exact).max():.2e}")

    tokens = len(exact.tokenizer(COMMENT)["input_ids"])
    classify = make_pipeline(run_dir)
    latencies = {name: p50_ms(lambda: scorer.score([COMMENT]))
                 for name, scorer in (("exact", exact), ("onnx", onnx), ("int8", fast), ("bf16", bf16)) if scorer}
    latencies["pipeline"] = p50_ms(lambda: classify(COMMENT))
    print(f"one comment ({tokens} tokens), warm p50: "
          + ", ".join(f"{name} {ms:.1f} ms" for name, ms in latencies.items()))


if __name__ == "__main__":
    main()
