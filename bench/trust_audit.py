"""Benchmark (issue 23): the trust audit of the default Jigsaw recipe, without and with the mitigation.

Two runs of the bundled MiniLM on ../shared/data/jigsaw/train.csv (10% validation), the baseline being the same
recipe without the trust options:

- baseline:  `{"data": TRAIN, "val_fraction": 0.1, "test_fraction": 0, "normalize": "none",
              "identity_augmentation": false}`
- mitigated: the same with `"normalize": "unicode+leet", "identity_augmentation": true`

Give their folders (`--train` trains both first, about 30 minutes each on 2 cores). For each run the script
runs `core.audit.audit_run` with test.csv as data and prints, side by side and as differences:

- the template suite at the run's thresholds: the worst share of a term's non-toxic sentences flagged (goal
  <= 5% for every term), terms over 5%, the worst BPSN AUC (goal >= 0.90), the audit's time (goal < 60 s);
- the five sentences of the issue, flagged or not (goal: none flagged);
- test.csv macro ROC-AUC (goal: the mitigated run at most 0.002 below the baseline);
- obfuscation: the AUC change of each character obfuscation on 600 validation texts (goal: within 0.01);
- macro ECE on test.csv before and after calibration (goal <= 0.02), and with the platt map moved to test.csv's
  label shares as `calibrate --prevalence` does when a user states them (test.csv is toxic-enriched differently
  from train.csv: 28% against 37%), and with the maps refitted by `calibrate --data` on a labelled half of test.csv,
  measured on the other half (test.csv's labels relate to the texts differently from train.csv's: validation-fitted
  maps leave `toxic` at ECE 0.07 there).

Run: .venv/bin/python bench/trust_audit.py --base RUN --mitigated RUN   (or --train)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _common import JIGSAW_TEST, JIGSAW_TRAIN, ROOT  # noqa: E402  (puts the project on sys.path)

SENTENCES = ["I am a gay man", "she is a muslim woman", "he is a blind musician", "I am a christian man",
             "my neighbour is a canadian teacher"]
OBFUSCATIONS = ("lookalike", "leet", "spaced", "repeated")
RECIPES = {"base": {"normalize": "none", "identity_augmentation": False},
           "mitigated": {"normalize": "unicode+leet", "identity_augmentation": True}}


def train(name: str) -> Path:
    config = {"model_kind": "classifier", "task": "multilabel", "data": str(JIGSAW_TRAIN), "val_fraction": 0.1,
              "test_fraction": 0.0, "run_name": f"jigsaw-{name}", **RECIPES[name]}
    path = Path(f"/tmp/trust-{name}.json")
    path.write_text(json.dumps(config))
    done = subprocess.run([sys.executable, "-m", "core", "train", "--config", str(path)], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"training {name} failed:\n{done.stderr[-2000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def calibration_methods(run_dir: Path) -> dict:
    """test.csv macro ECE of the raw scores and of each calibration method, every map fitted on the run's
    saved validation predictions (the job's own choice is `platt`)."""
    import numpy as np

    from core import runs
    from core.data import load_dataset
    from core.evaluation.calibration import (apply_calibration, ece_per_label, fit_calibration, label_shares,
                                             with_prevalence)
    from core.evaluation.predictions import SplitPredictions, predictions_path
    from core.scoring.scorer import Scorer
    import pandas as pd

    meta = runs.read_model_meta(run_dir)
    val = SplitPredictions.from_frame(pd.read_parquet(predictions_path(run_dir, "val")), "val", meta["task"],
                                      meta["labels"])
    test = load_dataset(JIGSAW_TEST, kind="multilabel", label_cols=meta["labels"], for_evaluation=True)
    probs = Scorer.from_run(run_dir).predict_proba(test.frame["text"].astype(str).tolist())
    truth = test.label_matrix()
    result = {"raw": ece_per_label(probs, truth, "multilabel", meta["labels"])["macro"]}
    for method in ("platt", "temperature", "isotonic"):
        payload = fit_calibration(np.asarray(val.probs), val.truth, "multilabel", meta["labels"], method)
        result[method] = ece_per_label(apply_calibration(probs, payload), truth, "multilabel", meta["labels"])["macro"]
        if method == "platt":  # as `calibrate --prevalence` does when a user states test.csv's label shares
            moved = with_prevalence(payload, label_shares(truth, "multilabel", meta["labels"]))
            result["platt at test.csv's shares"] = ece_per_label(apply_calibration(probs, moved), truth,
                                                                 "multilabel", meta["labels"])["macro"]
    return result


def traffic_calibration(run_dir: Path) -> dict:
    """test.csv macro ECE after `calibrate --data` on a labelled half of test.csv, measured on the other half (both
    ways round): what a team gets when it labels a sample of its own traffic. On a copy of the run."""
    import shutil
    import tempfile

    import numpy as np
    import pandas as pd

    from core import runs
    from core.evaluation.calibration import ece_per_label
    from core.recalibrate import calibrate_on_data
    from core.scoring.scorer import Scorer

    labels = runs.read_model_meta(run_dir)["labels"]
    frame = pd.read_csv(JIGSAW_TEST)
    order = np.random.default_rng(0).permutation(len(frame))
    halves = (frame.iloc[order[: len(order) // 2]], frame.iloc[order[len(order) // 2:]])
    found = {"held_out": [], "expected": []}
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(shutil.copytree(run_dir, Path(folder) / run_dir.name, ignore=shutil.ignore_patterns("checkpoints")))
        for fit, held in (halves, halves[::-1]):
            path = Path(folder) / "labelled-half.csv"
            fit.to_csv(path, index=False)
            result = calibrate_on_data(copy, path)
            probs = Scorer.from_run(copy).predict_proba(held["comment_text"].astype(str).tolist(), calibrated=True)
            found["held_out"].append(ece_per_label(probs, held[labels].to_numpy(), "multilabel", labels)["macro"])
            found["expected"].append(result["ece_expected"]["macro"])
    return found


def figures(run_dir: Path, sample: int) -> dict:
    from core.audit import audit_run
    from core.evaluate import evaluate_run
    from core.scoring.scorer import Scorer

    started = time.perf_counter()
    report = audit_run(run_dir, JIGSAW_TEST, sample=sample)
    seconds = time.perf_counter() - started
    templates = report["templates"]
    worst_bpsn = min(templates["terms"], key=lambda row: row["bpsn_auc"])
    scorer = Scorer.from_run(run_dir)
    flagged = {text: result.flagged for text, result in zip(SENTENCES, scorer.score(SENTENCES))}
    robust = {row["perturbation"]: row for row in report["robustness"]["perturbations"]}
    data = report["data"]
    return {"run": run_dir.name, "normalize": report["normalize"],
            "template_max_flagged": templates["max_flagged_share"],
            "template_worst_term": templates["terms"][0]["term"],
            "terms_over_5pct": len(templates["terms_over_goal"]),
            "worst_bpsn": (worst_bpsn["term"], worst_bpsn["bpsn_auc"]),
            "bpsn_power_mean": templates["bias"]["bpsn_auc_power_mean"],
            "template_seconds": templates["seconds"], "five_flagged": flagged,
            "test_macro_roc_auc": evaluate_run(run_dir, JIGSAW_TEST)["macro_roc_auc"],
            "obfuscation_auc_change": {k: robust[k]["auc_change"] for k in OBFUSCATIONS},
            "test_ece": (data["ece_before"]["macro"], data["ece_after"]["macro"]),
            "test_bias_final": data["bias"]["final_metric"] if data["bias"] else None,
            "test_ece_by_method": calibration_methods(run_dir),
            "test_ece_traffic": traffic_calibration(run_dir),
            "audit_seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base")
    parser.add_argument("--mitigated")
    parser.add_argument("--train", action="store_true", help="train both runs first (about an hour on 2 cores)")
    parser.add_argument("--sample", type=int, default=600)
    args = parser.parse_args()
    if not JIGSAW_TEST.exists():
        sys.exit(f"{JIGSAW_TEST} is missing: this benchmark needs the shared Jigsaw data")
    if args.train:
        args.base, args.mitigated = str(train("base")), str(train("mitigated"))
    if not (args.base and args.mitigated):
        sys.exit("give --base RUN and --mitigated RUN, or --train")
    found = {name: figures(Path(path), args.sample) for name, path in (("base", args.base),
                                                                        ("mitigated", args.mitigated))}
    print(json.dumps(found, indent=1))
    base, mitigated = found["base"], found["mitigated"]
    print("\n| figure | baseline (no trust options) | mitigated | goal |\n|---|---|---|---|")
    rows = [("worst term: share of its non-toxic template sentences flagged",
             f"{base['template_max_flagged']:.1%} ({base['template_worst_term']})",
             f"{mitigated['template_max_flagged']:.1%} ({mitigated['template_worst_term']})", "<= 5%"),
            ("terms over 5%", base["terms_over_5pct"], mitigated["terms_over_5pct"], "0"),
            ("worst BPSN AUC on templates", f"{base['worst_bpsn'][1]:.3f} ({base['worst_bpsn'][0]})",
             f"{mitigated['worst_bpsn'][1]:.3f} ({mitigated['worst_bpsn'][0]})", ">= 0.90"),
            ("the issue's five sentences flagged", sum(bool(v) for v in base["five_flagged"].values()),
             sum(bool(v) for v in mitigated["five_flagged"].values()), "0"),
            ("test.csv macro ROC-AUC", f"{base['test_macro_roc_auc']:.4f}",
             f"{mitigated['test_macro_roc_auc']:.4f} "
             f"({mitigated['test_macro_roc_auc'] - base['test_macro_roc_auc']:+.4f})", ">= baseline - 0.002"),
            *[(f"AUC change under {k}", f"{base['obfuscation_auc_change'][k]:+.4f}",
               f"{mitigated['obfuscation_auc_change'][k]:+.4f}", ">= -0.01") for k in OBFUSCATIONS],
            ("test.csv macro ECE raw -> calibrated", "{:.4f} -> {:.4f}".format(*base["test_ece"]),
             "{:.4f} -> {:.4f}".format(*mitigated["test_ece"]), "<= 0.02"),
            *[(f"test.csv macro ECE, {method} fitted on validation", f"{base['test_ece_by_method'][method]:.4f}",
               f"{mitigated['test_ece_by_method'][method]:.4f}", "<= 0.02" if method == "platt" else "")
              for method in ("raw", "platt", "temperature", "isotonic", "platt at test.csv's shares")],
            ("test.csv macro ECE, platt refitted on a labelled half of test.csv (`calibrate --data`), measured on "
             "the other half (each way)", "{:.4f} / {:.4f}".format(*base["test_ece_traffic"]["held_out"]),
             "{:.4f} / {:.4f}".format(*mitigated["test_ece_traffic"]["held_out"]), "<= 0.02"),
            ("template audit seconds", base["template_seconds"], mitigated["template_seconds"], "< 60")]
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


if __name__ == "__main__":
    main()
