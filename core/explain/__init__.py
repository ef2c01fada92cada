"""Explain a score: SHAP, Integrated Gradients, attention (and exact linear contributions for tfidf runs).

`explain(scorer, text, method, label=None, **options) -> Attribution`; `methods_for(scorer)` lists what a
run supports; each method module declares OPTIONS (name, type, range, default) and HOW_TO_READ.
"""

from __future__ import annotations

from core.data.normalize import normalize_text
from core.errors import ConfigError
from core.explain.base import Attribution, Option, resolve_options


def _registry() -> dict:
    from core.explain import attention, gradients, linear, shap_text  # the package's own modules: no import cycle

    return {"shap": shap_text, "ig": gradients, "attention": attention.LAST_LAYER, "rollout": attention.ROLLOUT,
            "linear": linear}


def methods_for(scorer) -> list[str]:
    """The methods that apply to this run, in display order."""
    return ["linear", "shap"] if scorer.model_kind == "tfidf" else ["shap", "ig", "attention", "rollout"]


def method(name: str):
    """The module/object of one method (NAME, TITLE, OPTIONS, HOW_TO_READ, explain)."""
    registry = _registry()
    if name not in registry:
        raise ConfigError(f"unknown explanation method {name!r}. Fix: use one of {sorted(registry)}.")
    return registry[name]


def explain(scorer, text: str, method_name: str, label: str | None = None, seed: int = 0, **options) -> Attribution:
    """Explain the scorer's output for `label` (default: the top label) on `text` with one method.

    Raises:
        ConfigError: unknown method/option/label, or a method the run does not support.
    """
    if not str(text).strip():
        raise ConfigError("nothing to explain: the text is empty. Fix: paste a comment.")
    if method_name not in methods_for(scorer):
        raise ConfigError(f"method {method_name!r} does not apply to this {scorer.model_kind} run. "
                          f"Fix: use one of {methods_for(scorer)}.")
    chosen = method(method_name)
    values = resolve_options(chosen.OPTIONS, options)
    # Explain the text the model reads: a run trained with normalisation scores "ѕtupid" as "stupid", so the
    # tokens, words and attributions are those of the normalised text (the scorer's normalisation is idempotent)
    mode = getattr(scorer, "normalize", "none")
    model_text = normalize_text(str(text), mode)
    partner_weight = getattr(scorer, "partner_weight", 0.0)
    if getattr(scorer, "partner", None) is not None:
        # The attribution methods read the fine-tuned model's tokens and gradients; its TF-IDF partner has no
        # tokens or gradients of theirs, so an ensemble run is explained without it (and says so)
        scorer = scorer.alone()
    attribution = chosen.explain(scorer, model_text, label=label, seed=seed, **values)
    if partner_weight:
        attribution.details["ensemble_note"] = (
            f"This run blends the fine-tuned model with a TF-IDF partner (weight {partner_weight:g}); the "
            "explanation and its output are the fine-tuned model's alone, so the score shown elsewhere differs.")
    if model_text != str(text):
        attribution.details["normalized_from"] = str(text)
        attribution.details["normalization"] = mode
    return attribution


__all__ = ["Attribution", "Option", "explain", "method", "methods_for"]
