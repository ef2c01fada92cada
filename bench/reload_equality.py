"""Benchmark: a run evaluated after reload equals its training-time test figures (issue 21), on Davidson.

The shared Davidson file is split 80/20 (stratified by class, seed 42) into a training file and a held-out file;
the training file is split again 90/10 for validation. A TF-IDF run and a bundled-MiniLM classifier run train
on it (`python -m core train`, each in its own process), then `python -m core evaluate --data HELD_OUT.csv` in a
fresh process re-scores the held-out file, and every number is compared with the job's `metrics.json` test
section. Goals: TF-IDF equal to 1e-6, MiniLM to 1e-5.

Run: .venv/bin/python bench/reload_equality.py [MINILM_MAX_STEPS (default 400)]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT  # noqa: E402  (puts the project on sys.path)
import pandas as pd  # noqa: E402

from core.evaluation.metrics import numeric_leaves  # noqa: E402

DAVIDSON = ROOT.parent / "shared" / "data" / "davidson" / "train.csv"


def core(*args: str, env: dict) -> str:
    done = subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"python -m core {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def main(max_steps: int) -> None:
    import os

    from sklearn.model_selection import train_test_split

    if not DAVIDSON.exists():
        sys.exit(f"{DAVIDSON} not available")
    work = Path(tempfile.mkdtemp(prefix="reload-"))
    frame = pd.read_csv(DAVIDSON)
    rest, held = train_test_split(frame, test_size=0.2, stratify=frame["class"], random_state=42)
    train, val = train_test_split(rest, test_size=0.1, stratify=rest["class"], random_state=42)
    for name, part in (("train", train), ("val", val), ("heldout", held)):
        part.to_csv(work / f"{name}.csv", index=False)
    env = {**os.environ, "CLEANSPEECH_MODELS_DIR": str(work / "models"), "HF_HUB_OFFLINE": "1"}
    print(f"Davidson {len(train)} train / {len(val)} val / {len(held)} held-out rows; runs in {work}")
    for kind, extra in (("tfidf", []), ("classifier", ["--max-steps", str(max_steps)])):
        started = time.perf_counter()
        run_dir = Path(core("train", "--model-kind", kind, "--config", str(write_config(work, kind)), *extra,
                            env=env).strip().splitlines()[-1])
        trained = json.loads((run_dir / "metrics.json").read_text())["test"]
        evaluated = json.loads(core("evaluate", "--run", str(run_dir), "--data", str(work / "heldout.csv"),
                                    "--backend", "exact", env=env))
        then, now = numeric_leaves(trained), numeric_leaves(evaluated)
        diffs = {key: abs(now[key] - then[key]) for key in then if key in now}
        worst = max(diffs, key=diffs.get)
        goal = 1e-6 if kind == "tfidf" else 1e-5
        print(f"{kind:10s} trained+evaluated in {time.perf_counter() - started:6.1f} s: held-out macro-F1 "
              f"{trained['macro_f1']:.4f}, macro ROC-AUC {trained['macro_roc_auc']:.4f}; {len(diffs)} figures "
              f"compared, largest difference {diffs[worst]:.2e} ({worst}); missing after reload: "
              f"{sorted(set(then) - set(now)) or 'none'}; goal {goal:g}: {'met' if diffs[worst] <= goal else 'MISSED'}")


def write_config(work: Path, kind: str) -> Path:
    path = work / f"{kind}.json"
    path.write_text(json.dumps({"model_kind": kind, "train_file": str(work / "train.csv"),
                                "val_file": str(work / "val.csv"), "test_file": str(work / "heldout.csv")}))
    return path


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
