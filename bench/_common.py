"""What the benchmark scripts share: the project on sys.path, offline settings, data paths, run lookup."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JIGSAW = ROOT.parent / "shared" / "data" / "jigsaw"
JIGSAW_TRAIN, JIGSAW_TEST = JIGSAW / "train.csv", JIGSAW / "test.csv"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def run_from_args(argv: list[str]) -> Path:
    """RUN_DIR from the command line, else the newest succeeded `classifier` run with a saved model."""
    if argv:
        return Path(argv[0])
    from core import runs

    for info in runs.list_runs():
        if info.model_kind == "classifier" and runs.has_model(info.path):
            return info.path
    sys.exit("no classifier run with a saved model: train one first (e.g. `python -m core train --data ...`)")


def make_pipeline(run_dir: Path, task: str = "multilabel"):
    """`pipeline("text-classification", top_k=None)` on the run's own model.

    A mean-pooling run's head is not a Hugging Face class, so the pipeline gets the loaded module (the same
    weights and maths the Scorer uses) instead of the folder, which would load the encoder under a freshly
    initialised [CLS] head (its weights report as MISSING) and compare against a random model.
    """
    from transformers import AutoTokenizer, logging, pipeline

    from core import runs
    from core.models.pooled import load_classifier, pooling_of

    folder = run_dir / runs.MODEL
    model = str(folder)
    if pooling_of(folder) == "mean":
        model = load_classifier(folder)
        model.can_generate = lambda: False  # the pipeline asks every model; ours is an nn.Module, not a PreTrainedModel
        # the pipeline logs, as an error, every supported class name for a module it then runs as asked
        logging.set_verbosity(logging.CRITICAL)
    return pipeline("text-classification", model=model, tokenizer=AutoTokenizer.from_pretrained(folder), top_k=None,
                    device="cpu", function_to_apply="sigmoid" if task == "multilabel" else "softmax")


def check_reproduces(name: str, probs, scorer, texts: list[str], tolerance: float = 1e-4) -> None:
    """Stop the benchmark unless baseline `name` gives the run's own probabilities on `texts`.

    `probs(texts)` -> (len(texts), labels) array in the run's label order. A baseline that loaded another
    model (a random head, other labels) would make every ratio it prints meaningless.
    """
    import numpy as np

    expected = scorer.predict_proba(texts)
    got = np.asarray(probs(texts), dtype=np.float64)
    diff = float(np.abs(got - expected).max()) if got.shape == expected.shape else float("inf")
    if not diff <= tolerance:
        sys.exit(f"baseline {name!r} does not reproduce run {scorer.run_dir.name}'s probabilities "
                 f"(max |dp| {diff:.3g} > {tolerance:g} on {len(texts)} texts): it is not the run's model, so no "
                 "figure is printed")
    print(f"baseline {name!r} reproduces the run's probabilities (max |dp| {diff:.1e} on {len(texts)} texts)")
