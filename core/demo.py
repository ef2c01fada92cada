"""First launch: a demo model so Score, Evaluate and Explain work before the user has trained anything.

The demo is the `tfidf` baseline trained on the bundled sample (seconds, in a background job like any
run); a one-click MiniLM run on the same sample is offered as the better demo. Demo runs carry
`extra.demo = true` in their config, and pages say that they are demo models.
"""

from __future__ import annotations

import time
from pathlib import Path

from core import jobs, runs
from core.config import TrainConfig
from core.errors import JobError
from core.paths import SAMPLE_MULTILABEL, SAMPLE_QA

DEMO_TFIDF = "demo-tfidf"
DEMO_MINILM = "demo-minilm"
DEMO_SBERT_QA = "demo-sbert-qa"


def demo_config(kind: str = "tfidf") -> TrainConfig:
    """The recipe of a demo run on a bundled sample: `tfidf` (seconds), `minilm` (a few minutes on CPU), or
    `sbert-qa` (MiniLM fine-tuned with MNRL on the moderation Q&A sample, for the Search page; under a minute)."""
    if kind == "tfidf":
        # without the identity sentences: on the sample's 827 rows their 41 sentences (every word non-toxic) move a
        # linear model's word weights enough that "You" outranks "stupid" in the demo's explanations
        return TrainConfig(model_kind="tfidf", data=str(SAMPLE_MULTILABEL), run_name=DEMO_TFIDF,
                           identity_augmentation=False, extra={"demo": True})
    if kind == "sbert-qa":
        return TrainConfig(model_kind="sbert", base_model="minilm", data=str(SAMPLE_QA), loss="mnrl", epochs=3,
                           batch_size=8, run_name=DEMO_SBERT_QA, extra={"demo": True})
    return TrainConfig(model_kind="classifier", base_model="minilm", data=str(SAMPLE_MULTILABEL), epochs=2,
                       batch_size=16, max_length=64, run_name=DEMO_MINILM, extra={"demo": True})


def is_demo(info: runs.RunInfo) -> bool:
    return bool((info.config.get("extra") or {}).get("demo"))


def usable_runs(root: Path | None = None) -> list[runs.RunInfo]:
    """Runs with a saved model that scores (newest first); demo runs after the user's own."""
    found = [r for r in runs.list_runs(root) if runs.can_score(r.path)]
    return sorted(found, key=is_demo)  # stable: keeps newest-first inside each group


def start_demo(kind: str = "tfidf", root: Path | None = None) -> Path:
    """Create and launch a demo run (or return the demo run of this kind that is already active)."""
    config = demo_config(kind)
    for info in runs.list_runs(root):
        if info.config.get("run_name") == config.run_name and info.state in runs.ACTIVE_STATES:
            return info.path
    run_dir = runs.new_run_dir(config.run_name, root)
    config.to_json(run_dir / runs.CONFIG)
    jobs.launch(run_dir)
    return run_dir


def ensure_demo_model(root: Path | None = None, timeout: float = 120.0) -> Path:
    """A run with a model: the newest usable one, or a tfidf demo trained now (waits up to `timeout` s).

    Raises:
        JobError: the demo job failed or did not finish in time.
    """
    usable = usable_runs(root)
    if usable:
        return usable[0].path
    run_dir = start_demo("tfidf", root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = runs.read_status(run_dir).get("state")
        if state == "succeeded" and runs.has_model(run_dir):
            return run_dir
        if state in ("failed", "stopped"):
            break
        time.sleep(0.3)
    status = runs.read_status(run_dir)
    raise JobError(f"the demo model did not finish (state {status.get('state')!r}: {status.get('error')}). "
                   f"Fix: see {run_dir / runs.LOG}.")
