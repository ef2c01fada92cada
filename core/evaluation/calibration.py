"""What a score means: expected calibration error, reliability curves, and calibration maps fitted on validation.

A run's scores are calibrated per label on the validation split and saved as `calibration.json`; the Scorer
applies the map by default (uncalibrated scores stay selectable). Every map is monotone per label, and the run's
decisions are made on the uncalibrated scores with the saved thresholds, so calibration never changes a flag;
the thresholds shown beside calibrated scores are mapped through the same function (`map_thresholds`).

Methods (multilabel: per label, on the logit z = log(p / (1 - p))):
- `platt`: sigmoid(a * z + b), a > 0. The default: class weighting (`pos_weight`) shifts a rare label's logits
  up, and a scale alone (temperature) cannot move them back.
- `temperature`: sigmoid(z / T).
- `isotonic`: a non-decreasing step function (sklearn's IsotonicRegression), stored as its knots.

Multiclass runs get one map over the classes: softmax(a * log(p) + b) (`temperature`: b = 0), which keeps the
probabilities a distribution; the predicted class still comes from the raw scores and the decision rule.
ECE uses equal-mass bins (each bin holds the same number of scores), one-vs-rest per label, averaged for macro.

A calibrated score is a probability at the label shares of the validation split (`prevalence_fitted`);
`with_prevalence` moves the maps to the shares of the traffic the run will score (`python -m core calibrate
--run RUN --prevalence toxic=0.1`), since training data is often enriched in abuse.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from core.errors import ConfigError

EPS = 1e-7
DEFAULT_BINS = 15


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * z))  # stable for large |z|


def reliability(probs: np.ndarray, truth: np.ndarray, bins: int = DEFAULT_BINS) -> list[dict]:
    """Equal-mass bins of one label's scores: [{mean_score, positive_rate, count}], lowest scores first."""
    probs, truth = np.asarray(probs, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    order = np.argsort(probs, kind="stable")
    result = []
    for chunk in np.array_split(order, min(bins, len(order))):
        if len(chunk):
            result.append({"mean_score": float(probs[chunk].mean()), "positive_rate": float(truth[chunk].mean()),
                           "count": int(len(chunk))})
    return result


def ece(probs: np.ndarray, truth: np.ndarray, bins: int = DEFAULT_BINS) -> float:
    """Expected calibration error of one label: sum over equal-mass bins of (share of rows) x |mean score -
    positive rate|. 0 is perfectly calibrated; NaN for no rows."""
    if len(probs) == 0:
        return float("nan")
    curve = reliability(probs, truth, bins)
    total = sum(b["count"] for b in curve)
    return float(sum(b["count"] / total * abs(b["mean_score"] - b["positive_rate"]) for b in curve))


def one_hot(truth: np.ndarray, task: str, n_labels: int) -> np.ndarray:
    """Multilabel truth as is; multiclass class indices as a one-vs-rest 0/1 matrix."""
    truth = np.asarray(truth)
    if task == "multiclass":
        return np.eye(n_labels, dtype=np.int8)[truth.astype(int)]
    return truth


def ece_per_label(probs: np.ndarray, truth: np.ndarray, task: str, labels: list[str],
                  bins: int = DEFAULT_BINS) -> dict:
    """{label: ECE, ..., "macro": mean} (one-vs-rest for multiclass)."""
    matrix = one_hot(truth, task, len(labels))
    values = {label: ece(probs[:, j], matrix[:, j], bins) for j, label in enumerate(labels)}
    values["macro"] = float(np.mean(list(values.values())))
    return values


def _fit_binary(p: np.ndarray, y: np.ndarray, method: str) -> dict:
    """One label's map, fitted by minimising the log loss (platt, temperature) or by isotonic regression."""
    y = np.asarray(y, dtype=np.float64)
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(np.asarray(p, np.float64), y)
        return {"x": [float(v) for v in iso.X_thresholds_], "y": [float(v) for v in iso.y_thresholds_]}
    z = _logit(p)
    if y.min() == y.max():  # one class only: nothing to fit, keep the scores
        return {"a": 1.0, "b": 0.0}
    # Platt's targets: (N+ + 1) / (N+ + 2) and 1 / (N- + 2) instead of 1 and 0, so that a validation split the
    # model separates perfectly (a small one) gives a finite map rather than a step to 0 and 1
    positives = y.sum()
    target = np.where(y == 1, (positives + 1) / (positives + 2), 1 / (len(y) - positives + 2))

    def loss(params):
        a = np.exp(params[0])  # a > 0 keeps the map increasing
        b = params[1] if method == "platt" else 0.0
        s = a * z + b
        # log loss of sigmoid(s), written with logaddexp for stability
        return float(np.mean(np.logaddexp(0, s) - target * s))

    fitted = minimize(loss, np.zeros(2), method="L-BFGS-B", bounds=[(-5, 5), (-20, 20)])
    return {"a": float(np.exp(fitted.x[0])), "b": float(fitted.x[1]) if method == "platt" else 0.0}


def _fit_multiclass(p: np.ndarray, y: np.ndarray, method: str) -> dict:
    logp = np.log(np.clip(np.asarray(p, np.float64), EPS, 1.0))
    k = logp.shape[1]
    # smoothed targets, as Platt's for two classes: a perfectly separated split still gives a finite map
    smoothing = 1.0 / (len(y) + 2)
    target = np.full((len(y), k), smoothing / (k - 1))
    target[np.arange(len(y)), y] = 1 - smoothing

    def loss(params):
        s = logp * np.exp(params[0]) + (params[1:] if method == "platt" else 0.0)
        s = s - s.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(s).sum(axis=1)) - (target * s).sum(axis=1)))

    fitted = minimize(loss, np.zeros(k + 1), method="L-BFGS-B", bounds=[(-5, 5)] + [(-20, 20)] * k)
    b = fitted.x[1:] if method == "platt" else np.zeros(k)
    return {"a": float(np.exp(fitted.x[0])), "b": [float(v) for v in b]}


def fit_calibration(probs: np.ndarray, truth: np.ndarray, task: str, labels: list[str], method: str = "platt",
                    split: str = "val", bins: int = DEFAULT_BINS) -> dict:
    """The payload of calibration.json: the method, its parameters per label (multiclass: one map), and the
    ECE of `split` before and after.

    Multiclass runs take `platt` or `temperature`; `isotonic` on multiclass falls back to `platt` (an
    isotonic map per class would not keep the classes summing to 1) and says so in `note`.
    """
    probs = np.asarray(probs, dtype=np.float64)
    payload: dict = {"method": method, "split": split, "task": task, "labels": list(labels), "bins": bins}
    if task == "multiclass":
        if method == "isotonic":
            method = payload["method"] = "platt"
            payload["note"] = "isotonic is per label; multiclass scores use platt so that they still sum to 1"
        payload["classes"] = _fit_multiclass(probs, np.asarray(truth, dtype=int), method)
    else:
        payload["per_label"] = {label: _fit_binary(probs[:, j], np.asarray(truth)[:, j], method)
                                for j, label in enumerate(labels)}
    payload["ece_before"] = ece_per_label(probs, truth, task, labels, bins)
    payload["ece_after"] = ece_per_label(apply_calibration(probs, payload), truth, task, labels, bins)
    payload["prevalence_fitted"] = label_shares(truth, task, labels)
    return payload


def label_shares(truth: np.ndarray, task: str, labels: list[str]) -> dict[str, float]:
    """{label: share of rows with it} (multiclass: each class's share of the rows)."""
    matrix = one_hot(truth, task, len(labels))
    return {label: float(matrix[:, j].mean()) for j, label in enumerate(labels)}


def _log_odds(share: float) -> float:
    return float(np.log(share) - np.log1p(-share))


def with_prevalence(payload: dict, prevalence: dict[str, float] | None) -> dict:
    """`payload` moved to the label shares of the traffic the run will score (a prior shift, Saerens et al. 2002).

    A map fitted on validation says how often texts with a score carry the label *at validation's label shares*
    (`prevalence_fitted`); training data is often enriched in abuse, real traffic is not. For other shares each
    label's log-odds move by logit(new) - logit(fitted) (multiclass: each class's log-probability by
    log(new / fitted), then renormalised). Always computed from the fitted map (kept as `fitted`), so setting it
    twice does not add up; None or {} goes back to the fitted map. The maps stay increasing, so flags do not
    change. Multilabel labels not named keep their fitted share; multiclass needs every class, summing to 1.

    Raises:
        ConfigError: an unknown label, a share outside (0, 1), classes that do not sum to 1, or a payload without
            `prevalence_fitted`.
    """
    labels = payload["labels"]
    fitted_shares = payload.get("prevalence_fitted")
    if not isinstance(fitted_shares, dict) or set(fitted_shares) != set(labels):
        raise ConfigError("this calibration does not record the label shares it was fitted at. Fix: refit it "
                          "(delete calibration.json and run `python -m core audit --run RUN`).")
    out = {k: v for k, v in payload.items() if k not in ("prevalence", "fitted")}
    key = "classes" if payload["task"] == "multiclass" else "per_label"
    fitted_params = payload.get("fitted", {}).get(key, payload[key])  # never a moved map moved again
    out[key] = fitted_params
    if not prevalence:
        return out
    unknown = sorted(set(prevalence) - set(labels))
    if unknown:
        raise ConfigError(f"prevalence for {unknown}: the run's labels are {labels}. Fix: name those labels.")
    bad = {k: v for k, v in prevalence.items() if not (isinstance(v, (int, float)) and 0 < v < 1)}
    if bad:
        raise ConfigError(f"prevalence {bad}: each share must be a number between 0 and 1 (e.g. toxic=0.1).")
    if any(not 0 < fitted_shares[k] < 1 for k in prevalence):
        zero = sorted(k for k in prevalence if not 0 < fitted_shares[k] < 1)
        raise ConfigError(f"{zero} had no positive (or no negative) validation rows, so the map cannot be moved "
                          "to another share. Fix: leave them out, or train with more data.")
    if payload["task"] == "multiclass":
        if set(prevalence) != set(labels) or abs(sum(prevalence.values()) - 1) > 0.01:
            raise ConfigError(f"multiclass prevalence {prevalence} must give every class of {labels}, summing to "
                              "1. Fix: e.g. " + ",".join(f"{k}={fitted_shares[k]:.2f}" for k in labels) + ".")
        params = out["classes"]
        out["classes"] = {"a": params["a"], "b": [b + float(np.log(prevalence[k]) - np.log(fitted_shares[k]))
                                                  for b, k in zip(params["b"], labels)]}
    else:
        moved = {}
        for label, params in out["per_label"].items():
            if label not in prevalence:
                moved[label] = params
                continue
            shift = _log_odds(prevalence[label]) - _log_odds(fitted_shares[label])
            if "x" in params:  # isotonic: its knots' values move; 0 and 1 stay
                moved[label] = {"x": params["x"], "y": [float(_sigmoid(_logit(np.array([y]))[0] + shift))
                                                        if 0 < y < 1 else y for y in params["y"]]}
            else:
                moved[label] = {"a": params["a"], "b": params["b"] + shift}
        out["per_label"] = moved
    out["fitted"] = {key: fitted_params}
    out["prevalence"] = {k: float(v) for k, v in prevalence.items()}
    return out


def _apply_binary(p: np.ndarray, params: dict) -> np.ndarray:
    if "x" in params:
        return np.interp(p, params["x"], params["y"]) if params["x"] else np.asarray(p, np.float64)
    return _sigmoid(params["a"] * _logit(p) + params["b"])


def apply_calibration(probs: np.ndarray, payload: dict) -> np.ndarray:
    """Calibrated scores: (rows, labels) -> (rows, labels), by the maps in `payload` (see `fit_calibration`)."""
    probs = np.asarray(probs, dtype=np.float64)
    if payload["task"] == "multiclass":
        params = payload["classes"]
        s = np.log(np.clip(probs, EPS, 1.0)) * params["a"] + np.asarray(params["b"])
        s = np.exp(s - s.max(axis=1, keepdims=True))
        return (s / s.sum(axis=1, keepdims=True)).astype(np.float32)
    out = np.empty_like(probs)
    for j, label in enumerate(payload["labels"]):
        out[:, j] = _apply_binary(probs[:, j], payload["per_label"][label])
    return out.astype(np.float32)


def map_thresholds(thresholds: dict[str, float], payload: dict) -> dict[str, float]:
    """The thresholds on the calibrated scale: each label's threshold through its own map (multilabel).

    A calibrated score is >= its mapped threshold exactly when the raw score is >= the raw threshold (the maps
    are increasing; isotonic steps can tie, which is why decisions are made on raw scores). Multiclass maps mix
    the classes, so a one-vs-rest threshold has no single image; they are returned unchanged.
    """
    if payload["task"] == "multiclass":
        return dict(thresholds)
    return {label: float(_apply_binary(np.array([t]), payload["per_label"][label])[0])
            for label, t in thresholds.items()}



def describe(payload: dict | None) -> str:
    """What calibrated scores mean, in a line for pages and the API: the method, the rows its maps were fitted on
    (validation, or a labelled file of the user's traffic), and the label shares they are moved to, if any."""
    if not payload:
        return "raw scores: the run has no calibration"
    source = payload.get("source")
    where = f"refitted on {source['data']} ({source['rows']:,} labelled rows)" if source else "fitted on validation"
    text = f"{payload['method']} {where}"
    shares = payload.get("prevalence")
    if shares:
        text += ", at label shares " + ", ".join(f"{label} {share:g}" for label, share in shares.items())
    return text
