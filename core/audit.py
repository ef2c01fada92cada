"""The trust audit of a saved run: `python -m core audit --run RUN [--data FILE] [--label L]`.

One report (JSON, also saved as `RUN/audit/report.json`) with:

- `templates`: the identity template suite at the run's thresholds (`core.evaluation.bias.template_audit`):
  per identity term the share of non-toxic sentences flagged, and subgroup / BPSN / BNSP AUCs;
- `data`: with `--data`, the same bias metrics on a labelled file, subgroups from its identity columns (the
  Jigsaw Unintended Bias layout, mentioned when >= 0.5) or, without them, from identity terms found by word
  match; plus ECE on that file, raw and calibrated;
- `calibration`: the run's calibration (fitted from the saved validation predictions and saved as
  `calibration.json` when the run has none), ECE per label before and after on validation and test, and
  reliability curves;
- `robustness`: macro ROC-AUC and flag flips under each perturbation of the run's validation texts
  (`core.evaluation.robustness`), scored with the run's own normalisation and, for comparison, without it.

Decisions use the raw scores and the run's saved thresholds (and a multiclass run's decision rule).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core import runs
from core.config import TrainConfig
from core.data.identity import identity_columns, mentions
from core.data.io import read_table
from core.errors import ModelNotAvailable
from core.evaluate import evaluation_data
from core.evaluation.bias import audit_label, bias_summary, label_scores, template_audit
from core.evaluation.calibration import apply_calibration, ece_per_label, fit_calibration, one_hot, reliability
from core.evaluation.predictions import SplitPredictions, predictions_path
from core.evaluation.robustness import robustness_report
from core.fileio import read_json, write_json
from core.scoring.scorer import Scorer

IDENTITY_MIN = 0.5  # an identity column "mentions" the identity at this share of raters or more


def saved_split(run_dir: Path, split: str, task: str, labels: list[str]):
    """(texts, truth as class indices or a 0/1 matrix, raw probabilities) of a saved split, or None."""
    path = predictions_path(run_dir, split)
    if not path.exists():
        return None
    saved = SplitPredictions.from_frame(pd.read_parquet(path), split, task, labels)
    truth = saved.truth.argmax(axis=1) if task == "multiclass" else saved.truth
    return saved.texts, truth, np.asarray(saved.probs, dtype=np.float64)


def calibration_report(run_dir: Path, task: str, labels: list[str], fit_missing: bool = True) -> dict | None:
    """The run's calibration and how well it works on the saved validation and test predictions.

    A run trained before calibration existed gets `calibration.json` fitted (`platt`) and saved when
    `fit_missing`; a run configured with `"calibration": "none"` is reported raw only (`method` none). Returns
    None when the run has no saved validation predictions (or no calibration and not `fit_missing`).
    """
    val = saved_split(run_dir, "val", task, labels)
    if val is None:
        return None
    payload = runs.read_calibration(run_dir, labels)
    if payload is None and not fit_missing:
        return None
    configured = TrainConfig.from_json(run_dir / runs.CONFIG).calibration if (run_dir / runs.CONFIG).exists() \
        else "platt"
    if payload is None and configured != "none":
        payload = fit_calibration(val[2], val[1], task, labels, configured, split="val")
        runs.save_calibration(run_dir, payload)
    # `source`: where the maps were refitted when not on validation (`python -m core calibrate --data`)
    report = {"method": payload["method"] if payload else "none", "source": (payload or {}).get("source"),
              "splits": {}}
    for split in ("val", "test"):
        part = val if split == "val" else saved_split(run_dir, split, task, labels)
        if part is None:
            continue
        _, truth, probs = part
        matrix = one_hot(truth, task, len(labels))
        found = {"rows": len(probs), "ece_before": ece_per_label(probs, truth, task, labels),
                 "reliability": {label: {"raw": reliability(probs[:, j], matrix[:, j])}
                                 for j, label in enumerate(labels)}}
        if payload is not None:
            calibrated = apply_calibration(probs, payload)
            found["ece_after"] = ece_per_label(calibrated, truth, task, labels)
            for j, label in enumerate(labels):
                found["reliability"][label]["calibrated"] = reliability(calibrated[:, j], matrix[:, j])
        report["splits"][split] = found
    return report


def _data_subgroups(path: str | Path, dataset, texts: list[str]) -> tuple[dict[str, np.ndarray], str]:
    """Identity subgroups of a labelled file: its identity columns when it has them, else word matches."""
    if Path(str(path)).is_file():
        raw = read_table(path).frame
        columns = identity_columns(raw)
        if columns and len(raw) == len(dataset.frame):
            # an empty cell means nobody marked the identity
            values = {c: pd.to_numeric(raw[c], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64)
                      for c in columns}
            groups = {c: v >= IDENTITY_MIN for c, v in values.items() if (v >= IDENTITY_MIN).any()}
            return groups, f"identity columns ({', '.join(columns)}), mentioned at >= {IDENTITY_MIN}"
    return mentions(texts), "identity terms found by word match"


def data_bias(scorer: Scorer, path: str | Path, label: str | None = None) -> dict:
    """Bias metrics and ECE of `scorer` on a labelled file (see the module docstring)."""
    dataset, where = evaluation_data(path, scorer.task, scorer.labels)
    texts = dataset.frame["text"].astype(str).tolist()
    probs = scorer.predict_proba(texts).astype(np.float64)
    label = audit_label(scorer.labels, scorer.task, label)
    truth_full = dataset.label_matrix()
    if scorer.task == "multiclass":
        if label.startswith("not "):
            truth = (truth_full != scorer.labels.index(label[4:])).astype(int)
        else:
            truth = (truth_full == scorer.labels.index(label)).astype(int)
    else:
        truth = truth_full[:, scorer.labels.index(label)].astype(int)
    subgroups, source = _data_subgroups(path, dataset, texts)
    threshold = scorer.thresholds.get(label, 0.5)
    report = {"data": where, "rows": len(texts), "label": label, "subgroups_from": source,
              "bias": bias_summary(label_scores(probs, scorer.labels, label), truth, subgroups, threshold)
              if subgroups else None,
              "ece_before": ece_per_label(probs, truth_full, scorer.task, scorer.labels)}
    if not subgroups:
        report["note"] = "no identity columns and no identity term found in the texts: no subgroup to measure"
    if scorer.calibration:
        report["ece_after"] = ece_per_label(apply_calibration(probs, scorer.calibration), truth_full, scorer.task,
                                            scorer.labels)
    return report


def audit_run(run_dir: str | Path, data: str | Path | None = None, label: str | None = None,
              robustness: bool = True, sample: int = 600, seed: int = 0, progress=None) -> dict:
    """The whole audit of a run (see the module docstring); also saved as `RUN/audit/report.json`.

    Args:
        data: a labelled file or dataset version for the data bias section (None = templates only).
        label: the label the AUCs are computed for (default: `toxic` if present, else the first; multiclass:
            "not <clean class>" when a class reads as non-toxic).
        robustness: run the perturbation suite on the validation texts (`sample` of them).
        progress: optional callable(step name) for pages.

    Raises:
        ModelNotAvailable: the run has no scoring model (an SBERT run without a head, a failed run).
        DataError: `data` does not fit the run.
    """
    run_dir = Path(run_dir)
    meta = runs.read_model_meta(run_dir)
    if meta.get("head", True) is False:
        raise ModelNotAvailable(f"run {run_dir.name!r} is an embedding model without a classification head: it "
                                "gives no toxicity scores to audit. Fix: audit a classifier, TF-IDF or SBERT-head run.")
    step = progress or (lambda name: None)
    step("loading the run")
    scorer = Scorer.from_run(run_dir)
    if label is not None:
        audit_label(scorer.labels, scorer.task, label)  # an unknown label fails before any work
    report = {"run": run_dir.name, "task": scorer.task, "labels": scorer.labels, "normalize": scorer.normalize}
    step("identity template suite")
    report["templates"] = template_audit(scorer.predict_proba, scorer.labels, scorer.task, scorer.thresholds,
                                         scorer.offsets, label)
    write_json(run_dir / runs.AUDIT / runs.AUDIT_TEMPLATES, report["templates"])
    step("calibration")
    report["calibration"] = calibration_report(run_dir, scorer.task, scorer.labels)
    scorer.calibration = runs.read_calibration(run_dir, scorer.labels)  # fitted just now for an older run
    if data is not None:
        step("bias on your data")
        report["data"] = data_bias(scorer, data, label)
    if robustness:
        val = saved_split(run_dir, "val", scorer.task, scorer.labels)
        if val is None:
            report["robustness"] = None
        else:
            step("robustness")
            texts, truth, _ = val
            report["robustness"] = robustness_report(scorer.predict_proba, texts, truth, scorer.task, scorer.labels,
                                                     scorer.thresholds, sample, seed)
            own = scorer.normalize
            other = "unicode+leet" if own == "none" else "none"
            scorer.normalize = other  # the same model with the other normalisation: what normalising recovers
            try:
                report["robustness_" + ("normalised" if other != "none" else "unnormalised")] = robustness_report(
                    scorer.predict_proba, texts, truth, scorer.task, scorer.labels, scorer.thresholds, sample, seed)
            finally:
                scorer.normalize = own
    write_json(run_dir / runs.AUDIT / runs.AUDIT_REPORT, report)
    return report


def saved_report(run_dir: str | Path) -> dict | None:
    """The last audit report saved for a run; for a run never audited by hand, the template audit its job
    wrote with its calibration figures; None when there is neither."""
    run_dir = Path(run_dir)
    report = read_json(run_dir / runs.AUDIT / runs.AUDIT_REPORT)
    if isinstance(report, dict) and isinstance(report.get("templates"), dict):
        return report
    templates = read_json(run_dir / runs.AUDIT / runs.AUDIT_TEMPLATES)
    if not isinstance(templates, dict) or "terms" not in templates:
        return None
    try:
        meta = runs.read_model_meta(run_dir)
        calibration = calibration_report(run_dir, meta["task"], meta["labels"], fit_missing=False)
    except ModelNotAvailable:
        return None
    return {"run": run_dir.name, "task": meta["task"], "labels": meta["labels"],
            "normalize": meta.get("normalize", "none"), "templates": templates, "calibration": calibration}

