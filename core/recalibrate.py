"""What a score means on the user's traffic: `python -m core calibrate --run RUN --data FILE | --prevalence ... |
--reset`.

A run's job fits its calibration maps on the validation split (`core.evaluation.calibration`). Two things make a
validation-fitted probability wrong on real traffic, and each has a fix here:

- the label shares differ (training data is often enriched in abuse): `set_prevalence` moves the maps to the
  traffic's shares (a prior shift), needing only the shares;
- the relation between text and label differs too (other annotators, other guidelines, another site): then only
  labelled rows of that traffic tell, and `calibrate_on_data` refits the maps on them. It estimates the ECE to
  expect by fitting on one half of the file and measuring on the other (so the figure is not the fit's own), and
  keeps the validation map of a label the file has too few rows of to refit.

Every change keeps the flags (the maps are increasing and decisions use raw scores), is saved atomically in
`calibration.json` and noted in the model card; `reset_calibration` goes back to the validation maps.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from core import runs
from core.audit import calibration_report, saved_split
from core.config import CALIBRATIONS
from core.errors import ConfigError, DataError
from core.evaluate import evaluation_data
from core.evaluation.calibration import (apply_calibration, ece_per_label, fit_calibration, label_shares,
                                         map_thresholds, one_hot, with_prevalence)
from core.fileio import read_json, write_json, write_text_atomic
from core.scoring.scorer import Scorer
from core.training.card import with_calibration_notes

MIN_CLASS_ROWS = 10  # positive and negative rows a label needs (multiclass: rows of each class) for its own map
CROSSFIT_REPEATS = 3  # 2-fold splits averaged for the expected ECE
SCORE_CHUNK = 512  # texts scored between two progress reports


def _scoring_meta(run_dir: Path) -> dict:
    meta = runs.read_model_meta(run_dir)
    if meta.get("head", True) is False:
        raise ConfigError(f"run {run_dir.name} is an SBERT run without a classification head: it gives embeddings, "
                          "not scores, so there is no calibration. Fix: pick a run that scores labels.")
    return meta


def _params_key(payload: dict) -> str:
    return "classes" if payload["task"] == "multiclass" else "per_label"


def _unshifted(payload: dict) -> dict:
    """`payload` without a prevalence shift and without the records of a refit: the maps as fitted."""
    key = _params_key(payload)
    out = {k: v for k, v in payload.items() if k not in ("prevalence", "fitted", "validation", "source")}
    out[key] = payload.get("fitted", {}).get(key, payload[key])
    return out


def _save(run_dir: Path, payload: dict | None) -> None:
    """Write calibration.json (or remove it: raw scores), the card's notes on it, and the calibration part of the
    last audit report (from the saved predictions: the Audit page shows the maps in use, not the ones replaced)."""
    if payload is None:
        (run_dir / runs.CALIBRATION).unlink(missing_ok=True)
    else:
        runs.save_calibration(run_dir, payload)
    card = run_dir / runs.CARD
    if card.exists():
        write_text_atomic(card, with_calibration_notes(card.read_text(encoding="utf-8"), payload))
    report_path = run_dir / runs.AUDIT / runs.AUDIT_REPORT
    report = read_json(report_path)
    if isinstance(report, dict) and "calibration" in report:
        meta = runs.read_model_meta(run_dir)
        report["calibration"] = calibration_report(run_dir, meta["task"], list(meta["labels"]))
        write_json(report_path, report)


def prevalence_state(run_dir: Path) -> dict | None:
    """{"task", "labels", "prevalence_fitted", "prevalence", "source"} of the run's calibration: the label shares
    its maps were fitted at (the validation split's, or those of the file they were refitted on, named in
    `source`), and the shares they are moved to (None when not moved); None when the run has no calibration.json.
    Calibrations saved before the shares were recorded get them from the saved validation predictions."""
    run_dir = Path(run_dir)
    meta = runs.read_model_meta(run_dir)
    if meta.get("head", True) is False:
        return None
    task, labels = meta["task"], list(meta["labels"])
    payload = runs.read_calibration(run_dir, labels)
    if payload is None:
        return None
    fitted = payload.get("prevalence_fitted")
    if fitted is None:
        val = saved_split(run_dir, "val", task, labels)
        fitted = label_shares(val[1], task, labels) if val is not None else None
    return {"task": task, "labels": labels, "prevalence_fitted": fitted, "prevalence": payload.get("prevalence"),
            "source": payload.get("source")}


def set_prevalence(run_dir: Path, prevalence: dict[str, float] | None) -> dict:
    """Move the run's calibration to the label shares of the traffic it will score (None or {}: back to the shares
    it was fitted at), save it and note it in the model card; the Scorer, the API and an export made afterwards
    report probabilities at those shares. Flags do not change.

    Returns {"labels", "prevalence_fitted", "prevalence", "thresholds_calibrated"}.

    Raises:
        ConfigError: the run has no calibration (an SBERT run without a head, `calibration: none`, or no saved
            validation predictions), or the shares are invalid (`core.evaluation.calibration.with_prevalence`).
    """
    run_dir = Path(run_dir)
    meta = _scoring_meta(run_dir)
    task, labels = meta["task"], list(meta["labels"])
    if runs.read_calibration(run_dir, labels) is None:
        calibration_report(run_dir, task, labels)  # fits and saves the configured map when it can
    state = prevalence_state(run_dir)
    if state is None or state["prevalence_fitted"] is None:
        raise ConfigError(f"run {run_dir.name} has no calibration.json with the label shares it was fitted at "
                          "(trained with calibration none, or without saved validation predictions), so its scores "
                          "have no prevalence to move. Fix: retrain with the default calibration, or calibrate it on "
                          "labelled rows of your traffic (`python -m core calibrate --run RUN --data FILE`).")
    payload = {**runs.read_calibration(run_dir, labels), "prevalence_fitted": state["prevalence_fitted"]}
    moved = with_prevalence(payload, prevalence)
    _save(run_dir, moved)
    thresholds = runs.read_thresholds(run_dir, labels) if task == "multilabel" else {}
    return {"labels": labels, "prevalence_fitted": moved["prevalence_fitted"], "prevalence": moved.get("prevalence"),
            "thresholds_calibrated": map_thresholds(thresholds, moved) if thresholds else {}}


def _raw_scores(scorer: Scorer, texts: list[str], progress) -> np.ndarray:
    parts = []
    for start in range(0, len(texts), SCORE_CHUNK):
        parts.append(scorer.predict_proba(texts[start:start + SCORE_CHUNK]).astype(np.float64))
        if progress:
            progress(min(start + SCORE_CHUNK, len(texts)), len(texts))
    return np.concatenate(parts) if parts else np.zeros((0, len(scorer.labels)))


def _too_few(truth: np.ndarray, task: str, labels: list[str]) -> dict[str, str]:
    """{label: why} for each label (multiclass: class) the file has too few rows of to fit a map on."""
    matrix = one_hot(truth, task, len(labels))
    short = {}
    for j, label in enumerate(labels):
        positives = int(matrix[:, j].sum())
        negatives = len(matrix) - positives
        if task == "multiclass" and positives < MIN_CLASS_ROWS:
            short[label] = f"{positives} rows"
        elif task == "multilabel" and min(positives, negatives) < MIN_CLASS_ROWS:
            short[label] = f"{positives} positive and {negatives} negative rows"
    return short


def _fit(probs: np.ndarray, truth: np.ndarray, task: str, labels: list[str], method: str, base: dict | None,
         kept: dict[str, str]) -> dict:
    """Maps fitted on (probs, truth), with the base (validation) map of each `kept` label."""
    payload = fit_calibration(probs, truth, task, labels, method, split="data")
    for label in kept:  # multilabel only: a multiclass file short of a class is refused before
        payload["per_label"][label] = base["per_label"][label] if base else {"a": 1.0, "b": 0.0}
        if base and base.get("prevalence_fitted"):
            payload["prevalence_fitted"][label] = base["prevalence_fitted"][label]
    return payload


def _expected_ece(probs: np.ndarray, truth: np.ndarray, task: str, labels: list[str], method: str,
                  base: dict | None, kept: dict[str, str], seed: int) -> dict:
    """Per-label ECE of the refit on rows it was not fitted on: 2-fold splits of the file, repeated and averaged."""
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(CROSSFIT_REPEATS):
        order = rng.permutation(len(probs))
        halves = (order[: len(order) // 2], order[len(order) // 2:])
        for fit_rows, test_rows in (halves, halves[::-1]):
            payload = _fit(probs[fit_rows], truth[fit_rows], task, labels, method, base, kept)
            found.append(ece_per_label(apply_calibration(probs[test_rows], payload), truth[test_rows], task, labels))
    return {key: float(np.mean([f[key] for f in found])) for key in found[0]}


def _display_name(name: str) -> str:
    """The file's name as the card and calibration.json show it: no folders, no markup."""
    return re.sub(r"[^\w.\- ]", "_", Path(str(name)).name)[:120] or "data"


def calibrate_on_data(run_dir: Path, data: str | Path, method: str | None = None, name: str | None = None,
                      seed: int = 0, progress=None) -> dict:
    """Refit the run's calibration on a labelled sample of the traffic it will score, save it (the validation maps
    kept inside, for `reset_calibration`) and note it in the model card. Flags do not change.

    Args:
        data: a labelled file (or dataset version) with the run's labels, like `evaluate`'s.
        method: `platt` | `temperature` | `isotonic`; None = the run's current method (`platt` without one).
        name: the file's name to record (the page passes the uploaded name); None = `data`'s.
        progress: optional callable(done, total) while the file is scored.

    Returns {"data", "rows", "method", "refit", "kept", "ece_raw", "ece_before", "ece_expected",
    "prevalence_fitted"}: ECE per label and macro on the file for the raw scores and for the maps in use until now,
    and the expected ECE of the refit (fitted on one half of the file, measured on the other).

    Raises:
        ConfigError: an SBERT run without a head, or an unknown method.
        DataError: data that does not fit the run, or too few rows of every label (multiclass: of any class).
    """
    run_dir = Path(run_dir)
    meta = _scoring_meta(run_dir)
    task, labels = meta["task"], list(meta["labels"])
    methods = tuple(m for m in CALIBRATIONS if m != "none")
    current = runs.read_calibration(run_dir, labels)
    if current is None and saved_split(run_dir, "val", task, labels) is not None:
        calibration_report(run_dir, task, labels)  # an older run: its validation map first, kept for a reset
        current = runs.read_calibration(run_dir, labels)
    method = method or (current or {}).get("method") or "platt"
    if method not in methods:
        raise ConfigError(f"calibration method {method!r} is unknown. Fix: use one of {methods}.")
    dataset, where = evaluation_data(data, task, labels)
    truth = dataset.label_matrix()
    short = _too_few(truth, task, labels)
    if task == "multiclass" and short:
        raise DataError(f"{where} has too few rows of some classes to calibrate on ({short}): each class needs "
                        f"{MIN_CLASS_ROWS}. Fix: add labelled rows of those classes.")
    if len(short) == len(labels):
        raise DataError(f"{where} has too few rows to refit any label's map ({short}): a label needs "
                        f"{MIN_CLASS_ROWS} positive and {MIN_CLASS_ROWS} negative rows. Fix: give more labelled rows.")
    # the validation maps stay inside the new file: a refit of a refit starts again from them
    base = None if current is None else (current.get("validation") if "source" in current else _unshifted(current))
    scorer = Scorer.from_run(run_dir, calibrated=False)
    probs = _raw_scores(scorer, dataset.frame["text"].astype(str).tolist(), progress)
    payload = _fit(probs, truth, task, labels, method, base, short)
    result = {"data": _display_name(name or where), "rows": len(probs), "method": method,
              "refit": [label for label in labels if label not in short], "kept": short,
              "ece_raw": ece_per_label(probs, truth, task, labels),
              "ece_before": ece_per_label(apply_calibration(probs, current), truth, task, labels) if current
              else ece_per_label(probs, truth, task, labels),
              "ece_expected": _expected_ece(probs, truth, task, labels, method, base, short, seed)}
    payload["source"] = {key: result[key] for key in ("data", "rows", "kept", "ece_before", "ece_expected")}
    payload["validation"] = base
    _save(run_dir, payload)
    return {**result, "prevalence_fitted": payload["prevalence_fitted"]}


def reset_calibration(run_dir: Path) -> dict:
    """Back to the maps the job fitted on validation: a refit on the user's data undone (a run trained with
    `calibration: none` goes back to raw scores) and any prevalence shift removed. Returns prevalence_state's
    answer afterwards (None for raw scores)."""
    run_dir = Path(run_dir)
    meta = _scoring_meta(run_dir)
    labels = list(meta["labels"])
    current = runs.read_calibration(run_dir, labels)
    if current is not None:
        validation = current.get("validation") if "source" in current else current
        _save(run_dir, _unshifted(validation) if validation else None)
    return prevalence_state(run_dir)
