"""Benchmark: how fast the Evaluate page follows a threshold slider on a 25k-row validation set.

Builds a tfidf run on the bundled sample, then replaces its saved validation predictions with 25,000
synthetic rows x 6 labels (the model's scores are not recomputed on a slider move, so only the row count
matters). Measures, in one run:
  core: metrics at a new threshold for all 6 labels from precomputed curves (binary search) vs the
        baseline, sklearn precision_recall_fscore_support recomputed over all rows per label;
  page: the Evaluate page rerun (Streamlit AppTest, whole script: a browser reruns only the slider's fragment,
        which is less work) after `slider.set_value`, median of 10 moves.

Run: .venv/bin/python bench/evaluate_slider.py [ROWS]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 25_000
    os.environ["CLEANSPEECH_MODELS_DIR"] = tempfile.mkdtemp(prefix="bench-eval-")
    from sklearn.metrics import precision_recall_fscore_support
    from streamlit.testing.v1 import AppTest

    from core import demo, runs
    from core.evaluation.predictions import SplitPredictions, save_predictions
    from core.evaluation.thresholds import metrics_at, threshold_curve
    from core.training.job import run_job

    run_dir = runs.new_run_dir("bench-tfidf")
    demo.demo_config("tfidf").to_json(run_dir / runs.CONFIG)
    assert run_job(run_dir) == "succeeded"
    labels = runs.read_model_meta(run_dir)["labels"]
    rng = np.random.default_rng(0)
    truth = (rng.random((rows, len(labels))) < 0.1).astype(np.int8)
    probs = np.clip(truth * 0.35 + rng.random((rows, len(labels))) * 0.65, 0, 1).astype(np.float32)
    save_predictions(run_dir, SplitPredictions("val", "multilabel", labels, [f"text {i}" for i in range(rows)],
                                               truth, probs))

    curves = {label: threshold_curve(truth[:, i], probs[:, i]) for i, label in enumerate(labels)}
    thresholds = np.linspace(0.05, 0.95, 50)
    started = time.perf_counter()
    for t in thresholds:
        for label in labels:
            metrics_at(curves[label], t)
    ours = (time.perf_counter() - started) / len(thresholds)
    started = time.perf_counter()
    for t in thresholds[:10]:
        for i in range(len(labels)):
            precision_recall_fscore_support(truth[:, i], probs[:, i] >= t, average="binary", zero_division=0)
    base = (time.perf_counter() - started) / 10
    print(f"{rows:,} rows x {len(labels)} labels, per slider move: core {ours * 1000:.3f} ms vs sklearn recompute "
          f"{base * 1000:.1f} ms ({base / ours:.0f}x)")

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["run"] = run_dir.name
    at.run()
    at.switch_page("pages/evaluate.py").run()
    assert not at.exception, at.exception
    key = f"thr.{run_dir.name}.{labels[0]}"
    times = []
    for value in np.linspace(0.2, 0.8, 10):
        started = time.perf_counter()
        at.slider(key=key).set_value(float(value)).run()
        times.append(time.perf_counter() - started)
    table = next(d.value for d in at.dataframe if "threshold" in d.value.columns)
    assert abs(table["threshold"][0] - 0.8) < 1e-9
    print(f"Evaluate page rerun after a slider move (whole script, AppTest): median "
          f"{1000 * statistics.median(times):.0f} ms, max {1000 * max(times):.0f} ms")


if __name__ == "__main__":
    main()
