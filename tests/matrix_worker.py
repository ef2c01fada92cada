"""Checks every trained run of a models folder in this fresh process, as a user reloading it would.

`python -m tests.matrix_worker MODELS_DIR OUT_JSON`: for each run, every backend that loads for it scores
the run's saved test predictions' texts; `evaluate` runs on the run's own test rows written as a file;
one explanation and one local rewrite are made. The results go to OUT_JSON for tests/test_matrix.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def _test_file(run_dir: Path, saved, folder: Path) -> Path:
    """The run's own test rows as a labelled CSV (class names for multiclass)."""
    frame = pd.DataFrame({"text": saved.texts})
    if saved.task == "multilabel":
        for i, label in enumerate(saved.labels):
            frame[label] = saved.truth[:, i]
    else:
        frame["label"] = [saved.labels[i] for i in saved.truth.argmax(axis=1)]
    path = folder / f"{run_dir.name}-test.csv"
    frame.to_csv(path, index=False)
    return path


def check_run(run_dir: Path, scratch: Path) -> dict:
    from core import runs
    from core.scoring.bf16 import native_bf16
    from core.errors import CoreError
    from core.evaluate import evaluate_run
    from core.evaluation.metrics import numeric_leaves
    from core.evaluate import load_predictions
    from core.explain import explain
    from core.scoring.scorer import Scorer
    from core.rewrite import rewrite

    meta = runs.read_model_meta(run_dir)
    saved = load_predictions(run_dir, "test")
    result: dict = {"kind": meta["model_kind"], "task": meta["task"], "rows": len(saved), "backends": {}}
    backends = ["exact"] if meta["model_kind"] == "tfidf" else ["exact", "onnx", "int8"]
    if meta["model_kind"] != "tfidf" and native_bf16("cpu")[0]:
        backends.append("bf16")
    for backend in backends:
        try:
            scorer = Scorer.from_run(run_dir, device="cpu", backend=backend)
            probs = scorer.predict_proba(saved.texts)
            result["backends"][backend] = {"max_diff": float(np.abs(probs - saved.probs).max()),
                                           "loaded_as": scorer.backend}
        except CoreError as error:
            result["backends"][backend] = {"error": str(error)}
    evaluated = evaluate_run(run_dir, _test_file(run_dir, saved, scratch), backend="exact")
    trained = json.loads((run_dir / runs.METRICS).read_text())["test"]
    now, then = numeric_leaves(evaluated), numeric_leaves(trained)
    result["evaluate_keys"] = sorted(set(then) - set(now))  # metrics the job wrote that evaluate lacks
    diffs = {key: abs(now[key] - then[key]) for key in then if key in now}
    result["evaluate_max_diff"] = max(diffs.values())
    result["evaluate_worst"] = max(diffs, key=diffs.get)
    scorer = Scorer.from_run(run_dir, device="cpu", backend="exact")
    text = saved.texts[0]
    method = "linear" if meta["model_kind"] == "tfidf" else "attention"
    attribution = explain(scorer, text, method)
    result["explain"] = {"method": method, "words": len(attribution.words),
                         "finite": bool(np.all(np.isfinite(attribution.word_scores)))}
    result["explain_disguised"] = check_explain_disguised(scorer)
    candidates = rewrite(scorer, "you are a stupid idiot and I hate you", "local")
    result["rewrite"] = {"candidates": len(candidates),
                         "scored": all(set(c.after) == set(scorer.labels) for c in candidates)}
    result["ensemble"] = check_ensemble(scorer, saved.texts)
    result["trust"] = check_trust(run_dir, saved)
    result["export"] = check_export(run_dir, saved, scratch)
    return result


# run in a fresh interpreter: the bundle must score with numpy, onnxruntime and tokenizers alone
_BUNDLE_PROBE = """
import json, sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'transformers', 'sentence_transformers', 'core', 'sklearn'):
            raise ImportError('the bundle may not import ' + name)
sys.meta_path.insert(0, Refuse())
sys.path.insert(0, sys.argv[1])
from score import Bundle
texts = json.loads(open(sys.argv[2], encoding='utf-8').read())
bundle = Bundle(sys.argv[1])
raw = bundle.raw_probabilities(texts)[0].tolist()
print(json.dumps({"raw": raw, "scored": bundle.score(texts), "check": bundle.check()}))
"""


def check_export(run_dir: Path, saved, scratch: Path) -> dict:
    """Export the run, score its test texts with the bundle's score.py in a process that cannot import torch,
    transformers or core, and compare with the saved predictions and the Scorer."""
    import subprocess

    from core.errors import CoreError
    from core.export import export_run
    from core.scoring.scorer import Scorer

    out = scratch / f"bundle-{run_dir.name}"
    try:
        export_run(run_dir, out)
    except CoreError as error:
        return {"error": str(error)}
    # a look-alike, letters repeated (the word list), a truncated text
    texts = list(saved.texts) + ["you are a \u0455tupid 1d10t", "so understaaanding, not stuuupid", "word " * 600]
    texts_file = scratch / f"texts-{run_dir.name}.json"
    texts_file.write_text(json.dumps(texts), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", _BUNDLE_PROBE, str(out), str(texts_file)], cwd=scratch,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    found = json.loads(done.stdout)
    scorer = Scorer.from_run(run_dir, device="cpu", backend="exact")
    expected = scorer.score(texts)
    raw = np.array(found["raw"])
    return {"files": sorted(p.name for p in out.iterdir()),
            "saved_diff": float(np.abs(raw[:len(saved.texts)] - saved.probs).max()),
            "scorer_diff": max(abs(f["probabilities"][k] - e.probabilities[k]) for f, e in zip(found["scored"], expected)
                               for k in scorer.labels),
            "same_flags": all(f["flagged"] == e.flagged for f, e in zip(found["scored"], expected)),
            "same_predicted": all(f.get("predicted") == e.predicted for f, e in zip(found["scored"], expected)),
            "truncated": [f["truncated"] for f in found["scored"][-1:]] == [True], "check": found["check"]}


def check_ensemble(scorer, texts: list[str]) -> dict:
    """An `ensemble: tfidf` run: its weight, and whether its scores are the blend of the reloaded classifier alone
    and the reloaded partner."""
    from core.models.blend import blend

    if scorer.partner is None:
        return {"weight": 0.0}
    alone = scorer.alone().predict_proba(texts)
    expected = blend(alone, scorer.partner.predict_proba(texts), scorer.partner_weight, scorer.task)
    return {"weight": scorer.partner_weight, "blend_diff": float(np.abs(scorer.predict_proba(texts) - expected).max()),
            "partner_moves_scores": float(np.abs(scorer.predict_proba(texts) - alone).max())}


def check_explain_disguised(scorer) -> dict:
    """Every method on a look-alike spelling: the words it shows and whether it explains the score the run gives."""
    from core.explain import explain, methods_for

    text = "you are \u0455tupid"  # Cyrillic dze for the s
    # an ensemble run's explanations explain its fine-tuned model alone (and say so)
    probs = scorer.alone().predict_proba([text])[0]
    options = {"shap": {"max_evals": 40}, "ig": {"n_steps": 8}}
    found = {}
    for name in methods_for(scorer):
        attribution = explain(scorer, text, name, label=scorer.labels[0], **options.get(name, {}))
        entry = {"words": attribution.words, "prob": float(probs[0]), "output": attribution.output,
                 "ensemble_note": "ensemble_note" in attribution.details}
        if name == "linear":  # explains the logit: it must be the logit of the text the scorer scores
            entry["output"] = attribution.details["probability"]
            entry["logit_gap"] = abs(attribution.base + sum(attribution.token_scores) - attribution.output)
        if name == "shap":
            entry["additivity_error"] = attribution.details["additivity_error"]
        found[name] = entry
    return found


def check_trust(run_dir: Path, saved) -> dict:
    """Calibration keeps every decision; the job's template audit matches a reloaded scorer's; the audit runs."""
    from core import runs
    from core.audit import audit_run
    from core.evaluation.calibration import apply_calibration
    from core.evaluation.decision import decide
    from core.scoring.scorer import Scorer

    scorer = Scorer.from_run(run_dir, device="cpu", backend="exact")
    raw = scorer.predict_proba(saved.texts)
    results = scorer.score(saved.texts)
    limits = np.array([scorer.thresholds[label] for label in scorer.labels])
    raw_flags = raw >= limits
    flags = np.array([[label in r.flagged for label in scorer.labels] for r in results])
    reported = np.array([[r.probabilities[label] for label in scorer.labels] for r in results])
    mapped = np.array([scorer.score_thresholds[label] for label in scorer.labels])
    found = {"calibration_method": scorer.calibration["method"],
             "flags_changed": int((flags != raw_flags).sum()),
             "calibrated_diff": float(np.abs(reported - apply_calibration(raw, scorer.calibration)).max()),
             "mapped_threshold_disagreements": int(((reported >= mapped) != raw_flags).sum()),
             "predicted_changed": 0}
    if scorer.task == "multiclass":
        picked = [scorer.labels[i] for i in decide(raw, scorer.offsets)]
        found["predicted_changed"] = sum(a != r.predicted for a, r in zip(picked, results))
    job = json.loads((run_dir / runs.AUDIT / runs.AUDIT_TEMPLATES).read_text())
    report = audit_run(run_dir, robustness=True, sample=40)
    job_scores = {row["term"]: row["mean_score_non_toxic"] for row in job["terms"]}
    found["job_templates_sentences"] = job["sentences"]
    found["templates_sentences"] = report["templates"]["sentences"]
    found["template_score_diff"] = max(abs(row["mean_score_non_toxic"] - job_scores[row["term"]])
                                       for row in report["templates"]["terms"])
    found["audit_keys"] = sorted(k for k in report if report[k] is not None)
    plain, disguised = scorer.predict_proba(["you are stupid", "you are \u0455tupid"])  # Cyrillic dze
    found["normalised_equal"] = bool(np.allclose(plain, disguised, atol=1e-6))
    found.update(check_refit(run_dir, saved, results, raw))
    return found


def check_refit(run_dir: Path, saved, results, raw) -> dict:
    """`calibrate --data` on the run's training file: a reloaded scorer applies the refit, decisions stay, and a
    reset gives back the scores of the validation maps."""
    from core import runs
    from core.evaluation.calibration import apply_calibration
    from core.recalibrate import calibrate_on_data, reset_calibration
    from core.scoring.scorer import Scorer

    data = json.loads((run_dir / runs.CONFIG).read_text())["data"]
    refit = calibrate_on_data(run_dir, data)
    scorer = Scorer.from_run(run_dir, device="cpu", backend="exact")
    after = scorer.score(saved.texts)
    reported = np.array([[r.probabilities[label] for label in scorer.labels] for r in after])
    found = {"refit_rows": scorer.calibration["source"]["rows"], "refit_labels": refit["refit"],
             "refit_decisions_changed": sum((a.flagged, a.predicted) != (r.flagged, r.predicted)
                                            for a, r in zip(after, results)),
             "refit_diff": float(np.abs(reported - apply_calibration(raw, scorer.calibration)).max())}
    reset_calibration(run_dir)
    back = Scorer.from_run(run_dir, device="cpu", backend="exact").score(saved.texts)
    found["reset_diff"] = max(abs(b.probabilities[label] - r.probabilities[label])
                              for b, r in zip(back, results) for label in scorer.labels)
    return found


def main(models_dir: str, out: str) -> int:
    scratch = Path(out).parent
    results = {}
    for run_dir in sorted(Path(models_dir).iterdir()):
        if (run_dir / "config.json").exists():
            results[run_dir.name] = check_run(run_dir, scratch)
    Path(out).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
