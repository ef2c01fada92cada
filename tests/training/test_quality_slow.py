"""Slow: the default recipe on the real Jigsaw subset reaches the quality goal (skipped without the data).

Bundled MiniLM, default TrainConfig (2 epochs, mean-pooling head chosen by `pooling="auto"`, the best
validation macro ROC-AUC checkpoint kept, and since session 18 the trust defaults for multilabel data:
normalisation and the non-toxic identity sentences), trained on ../shared/data/jigsaw/train.csv (10% held out
for validation), evaluated on test.csv. About 40 minutes on 2 CPU cores: run with `make test-slow`.

The goal: 0.975 before the trust defaults (the recipe reached 0.9762); issue 23 made its bias mitigation the
default on the condition that it costs at most 0.002 of that, so the bar is 0.9762 - 0.002 (measured with the
mitigation: 0.9749, bench/RESULTS.md).
"""

import json
import time

import pytest

from core import runs
from core.config import TrainConfig
from core.data import load_dataset
from core.scoring.scorer import Scorer
from core.evaluation.metrics import evaluate_probs
from core.training.job import run_job
from tests.conftest import jigsaw_file

pytestmark = pytest.mark.slow


@pytest.mark.timeout(4 * 3600)
def test_default_minilm_recipe_reaches_the_quality_goal_on_jigsaw_test(isolated_dirs):
    train, test = jigsaw_file("train.csv"), jigsaw_file("test.csv")
    config = TrainConfig(model_kind="classifier", task="multilabel", data=str(train), val_fraction=0.1,
                         test_fraction=0.0, run_name="jigsaw-quality")
    run_dir = runs.new_run_dir("jigsaw-quality")
    config.to_json(run_dir / runs.CONFIG)
    started = time.perf_counter()
    assert run_job(run_dir) == "succeeded", (run_dir / runs.STATUS).read_text()
    seconds = time.perf_counter() - started
    scorer = Scorer.from_run(run_dir)
    dataset = load_dataset(test)
    metrics = evaluate_probs(scorer.predict_proba(dataset.frame["text"].tolist()), dataset, "multilabel",
                             scorer.labels, scorer.thresholds)
    saved = json.loads((run_dir / runs.METRICS).read_text())
    assert saved["pooling"] == "mean"
    baseline = saved["baseline_tfidf"]["val"]["macro_roc_auc"]
    print(f"\ntest macro ROC-AUC {metrics['macro_roc_auc']:.4f} (tfidf on validation {baseline:.4f}); "
          f"wall {seconds / 60:.1f} min")
    assert metrics["macro_roc_auc"] >= 0.9742
