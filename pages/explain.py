"""Explain: why a comment got its score — SHAP, Integrated Gradients and attention side by side, per label."""

import streamlit as st

from core.data.normalize import normalize_text
from core.errors import CoreError
from core.evaluation.predictions import SPLITS
from core.explain import method, methods_for
from core.explain.base import Attribution
from core.explain.render import legend_html, words_html
from ui import cache
from ui.run_select import load_scorer, pick_run
from ui.entry import require_app_entry

require_app_entry()
MAX_TEXT = 5000

st.title("Explain")
info = pick_run()
scorer = load_scorer(info, "exact")  # gradients and attention need the fp32 model


def text_from_link() -> str:
    """A text sent by the Score page (?text=) or Evaluate's error list (?split=val&row=N)."""
    params = st.query_params
    if params.get("text"):
        return params["text"][:MAX_TEXT]
    if params.get("split") in SPLITS and str(params.get("row", "")).isdigit():
        try:
            predictions = cache.split_predictions(str(info.path), params["split"])
            return predictions.texts[int(params["row"])]
        except (CoreError, IndexError):
            st.warning(f"Row {params['row']} of the {params['split']} split was not found in this run.")
    return ""


if "explain.text" not in st.session_state or st.session_state.get("explain.link") != dict(st.query_params):
    st.session_state["explain.text"] = text_from_link() or st.session_state.get("explain.text", "")
    st.session_state["explain.link"] = dict(st.query_params)
text = st.text_area("Comment", key="explain.text", height=110, max_chars=MAX_TEXT,
                    placeholder="Paste a comment, or open one from Score or Evaluate's error list…")
if not text.strip():
    st.info("Paste a comment to see which words drove each label's score.")
    st.stop()

result = scorer.score([text])[0]
ranked = sorted(scorer.labels, key=lambda label: -result.probabilities[label])
default = next((label for label in ranked if label in result.flagged), ranked[0])
label = st.selectbox("Label to explain", ranked, index=ranked.index(default),
                     format_func=lambda n: f"{n} — p={result.probabilities[n]:.3f}"
                                           f"{' (flagged)' if n in result.flagged else ''}", key="explain.label")
available = methods_for(scorer)
chosen = st.multiselect("Methods", available, default=available, key="explain.methods",
                        format_func=lambda name: method(name).TITLE)
options = {}
with st.expander("Options"):
    for name in chosen:
        for option in method(name).OPTIONS:
            widget = st.number_input if option.kind == "float" else st.slider
            options[(name, option.name)] = widget(f"{method(name).TITLE}: {option.name}", option.minimum,
                                                  option.maximum, option.default, help=option.help,
                                                  key=f"explain.opt.{name}.{option.name}")
if result.flagged:
    st.page_link("pages/rewrite.py", label="Suggest a civil rewrite of this comment", icon=":material/edit_note:",
                 query_params={"run": info.name, "text": text[:1500]})
if result.truncated:
    st.warning(f"The comment has {result.tokens} tokens; the model reads the first {scorer.max_length}, "
               "so only those are explained.")

model_text = normalize_text(text, scorer.normalize)
if model_text != text:  # the run was trained on normalised text: show what the model reads, and explain that
    st.info(f"This run normalises text (`{scorer.normalize}`) before scoring; the words below are the text as the "
            "model reads it.")
    st.code(model_text, language=None, wrap_lines=True)

# Fast methods first: each column is filled as its method finishes, so attention shows at once and SHAP (the
# slowest) no longer holds up the others; the columns keep the chosen order
FASTEST_FIRST = ("attention", "rollout", "linear", "ig", "shap")
CHECKS = {"convergence_delta": "IG's completeness gap: |sum of scores - (p - p at the baseline)|; smaller with "
                               "more integration steps",
          "additivity_error": "SHAP's gap: |base + sum of scores - p|; near 0 when enough evaluations were run"}
columns = dict(zip(chosen, st.columns(max(len(chosen), 1))))
for name in sorted(chosen, key=lambda n: FASTEST_FIRST.index(n) if n in FASTEST_FIRST else len(FASTEST_FIRST)):
    spec = method(name)
    own = tuple(sorted((k[1], v) for k, v in options.items() if k[0] == name))
    with columns[name]:
        st.markdown(f"**{spec.TITLE}**")
        try:
            with st.spinner(f"Computing {spec.TITLE}…"):
                attribution = Attribution(**cache.explanation(str(info.path), text, name, label, own))
        except (CoreError, RuntimeError) as exc:
            st.error(str(exc))
            continue
        scale = max((abs(s) for s in attribution.word_scores), default=0.0)
        st.html(words_html(attribution, scale))
        st.html(legend_html(scale, positive_only=name in ("attention", "rollout")))
        what = "logit" if name == "linear" else "p"
        base = "" if attribution.base is None else f", base {attribution.base:.3f}"
        checks = {k: v for k, v in attribution.details.items() if k in CHECKS}
        st.caption(f"{what}({attribution.label}) = {attribution.output:.3f}{base} · {attribution.seconds:.2f} s"
                   + "".join(f" · {k.replace('_', ' ')} {v:.2g}" for k, v in checks.items()),
                   help=" ".join(CHECKS[k] + "." for k in checks) or None)
        if attribution.details.get("ensemble_note"):
            st.caption(attribution.details["ensemble_note"])
        with st.popover("How to read this"):
            st.write(spec.HOW_TO_READ)

