"""Widget groups that return config objects (basic and advanced views share one TrainConfig)."""

from __future__ import annotations

import streamlit as st

from core.config import (ALL_SBERT_LOSSES, ATTENTIONS, CALIBRATIONS, ENSEMBLES, NORMALIZE_CHOICES, POOLINGS,
                         REPORTERS, TrainConfig)
from core.data import list_versions
from core.errors import ConfigError
from core.models.catalog import CATALOG
from core.paths import SAMPLE_MULTILABEL, SAMPLE_PAIRS, SAMPLE_QA

OTHER_MODEL = "Other (local folder or Hub id)…"
AUTO_LOSS = "auto (from the data)"
KIND_NAMES = {"classifier": "Transformer classifier", "sbert": "SBERT (sentence-transformers)",
              "tfidf": "TF-IDF baseline (seconds)"}
LABELLED = ("multilabel", "multiclass")


def data_sources() -> dict[str, tuple[str, str]]:
    """Display name -> (path, dataset kind) for saved dataset versions and the bundled samples."""
    sources = {f"{v['name']} ({v['kind']}, {v['rows'].get('train', '?')} train rows)": (v["path"], v["kind"])
               for v in list_versions()}
    sources["Bundled sample (multilabel; split 70/15/15 on the fly)"] = (str(SAMPLE_MULTILABEL), "multilabel")
    sources["Bundled paraphrase pairs (SBERT only)"] = (str(SAMPLE_PAIRS), "pairs")
    sources["Bundled moderation Q&A (SBERT only)"] = (str(SAMPLE_QA), "qa")
    return sources


def check_kind_fits_data(kind: str, data_kind: str, source: str) -> None:
    """Classifier and TF-IDF runs need labelled text; pairs, triplets and Q&A train SBERT runs only."""
    if kind != "sbert" and data_kind not in LABELLED:
        raise ConfigError(f"{source!r} is {data_kind} data: only SBERT runs train on pairs, triplets or Q&A. "
                          "Fix: choose the SBERT model, or labelled text data.")


def _default(name: str):
    """TrainConfig's default for a field (one source of truth for the form and the CLI)."""
    return TrainConfig.__dataclass_fields__[name].default


def train_form() -> TrainConfig | None:
    """The Train form; returns a validated TrainConfig when submitted, else None (errors shown by caller)."""
    with st.form("train"):
        left, right = st.columns(2)
        with left:
            kind = st.radio("Model", list(KIND_NAMES), horizontal=True, format_func=KIND_NAMES.get)
            names = [f"{e.name} — {e.description}" for e in CATALOG] + [OTHER_MODEL]
            picked = st.selectbox("Base model", names)
            other = st.text_input("Local folder or Hub id (when 'Other')", "")
            sources = data_sources()
            source = st.selectbox("Data", list(sources))
            data, data_kind = sources[source]
        with right:
            epochs = st.number_input("Epochs", 0.1, 50.0, _default("epochs"), 0.5)
            max_steps = st.number_input("Max steps (0 = use epochs)", 0, 1_000_000, 0, 10)
            batch_size = st.select_slider("Batch size", [4, 8, 16, 32, 64], 16)
            run_name = st.text_input("Run name", "")
        with st.expander("Advanced"):
            a, b, c = st.columns(3)
            learning_rate = a.number_input("Learning rate (0 = auto)", 0.0, 0.01, 0.0, 1e-5, format="%.6f")
            max_length = a.number_input("Max length (0 = auto: 95th percentile, at least 128)", 0, 512, 0, 8)
            warmup = a.number_input("Warm-up fraction", 0.0, 0.5, 0.1, 0.01)
            weight_decay = b.number_input("Weight decay", 0.0, 0.5, 0.01, 0.01)
            eval_steps = b.number_input("Evaluate every N steps (0 = each epoch)", 0, 100_000, 0, 10)
            patience = b.number_input("Early-stopping patience (0 = off)", 0, 20, 2)
            precision = c.selectbox("Precision", ["auto", "fp32", "bf16", "fp16"])
            weighting = c.selectbox("Class weighting", ["auto", "none", "balanced"])
            soft_labels = b.number_input(
                "Soft labels: weight of annotator shares", 0.0, 1.0, _default("soft_labels"), 0.1,
                key="train.soft_labels",
                help="Multiclass data with one annotator-count column per class, named like the class (e.g. "
                     "Davidson's hate_speech / offensive_language / neither): train towards the annotators' shares "
                     "(1) or a mix with the majority class. 0 = hard labels.")
            grouping = c.checkbox("Length-grouped batches", True)
            checkpointing = c.checkbox("Gradient checkpointing", False)
            seed = c.number_input("Seed", 0, 2**31 - 1, 42)
            pooling = c.selectbox("Classifier head", list(POOLINGS),
                                  help="auto: mean pooling for sentence-transformers models trained with it (the "
                                       "bundled MiniLM), else the model's own [CLS] head")
            ensemble = a.selectbox(
                "Blend with", list(ENSEMBLES), index=list(ENSEMBLES).index(_default("ensemble")), key="train.ensemble",
                format_func={"auto": "auto (TF-IDF for multiclass data)",
                             "none": "nothing (the fine-tuned model alone)",
                             "tfidf": "a TF-IDF model (weight chosen on validation)"}.get,
                help="Transformer classifiers: blend with a TF-IDF + logistic regression model fitted on the same "
                     "training split; the weight is chosen on validation and is 0 when the blend does not help.")
            report_to = a.selectbox("Track the run in", list(REPORTERS), key="train.report_to",
                                    help="tensorboard: event files in the run's tensorboard/ folder; mlflow: a run "
                                         "in MLFLOW_TRACKING_URI, else mlruns/ beside the models folder")
        with st.expander("Trust options (bias, obfuscation, calibration)"):
            a, b, c = st.columns(3)
            normalize = a.selectbox(
                "Text normalisation", list(NORMALIZE_CHOICES),
                index=list(NORMALIZE_CHOICES).index(_default("normalize")), key="train.normalize",
                help="unicode: look-alike letters, spaced-out letters, repeats; +leet: digits and symbols read as "
                     "letters (1d10t -> idiot). Applied in training and, saved with the model, in scoring. auto: "
                     "unicode+leet for multilabel data, none for multiclass (it cost a hate-speech class F1 on "
                     "Davidson).")
            choices = {"auto": "auto", "on": True, "off": False}
            augmentation = choices[b.selectbox(
                "Identity augmentation", list(choices), key="train.identity_augmentation",
                index=[v for v in choices.values()].index(_default("identity_augmentation")),
                help="Add non-toxic sentences naming identities, so that 'I am a gay man' is not learned as "
                     "abuse (see the Audit page). auto: on for multilabel data, off for multiclass (it cost a "
                     "hate-speech class F1 on Davidson).")]
            swaps = b.checkbox("Identity swaps", _default("identity_swaps"), key="train.identity_swaps",
                               help="Add copies of training texts that name an identity, with the identity swapped "
                                    "for another (labels kept).")
            calibration = c.selectbox("Score calibration", list(CALIBRATIONS),
                                      index=list(CALIBRATIONS).index(_default("calibration")), key="train.calibration",
                                      help="Fitted on validation; scores then read as probabilities. Flags do not "
                                           "change.")
        with st.expander("GPU speed options (transformer classifier; not yet measured on a GPU)"):
            a, b, c = st.columns(3)
            batch_tokens = a.number_input(
                "Tokens a step (0 = batches of 'Batch size' rows)", 0, 1_000_000, 0, 1024, key="train.batch_tokens",
                help="Cut training batches by padded tokens, e.g. 16384: many short rows or few long ones a step. "
                     "The default learning rate follows the rows a step (square-root rule).")
            pad_multiple = b.number_input("Pad widths to a multiple of (0 = off)", 0, 512, 0, 8,
                                          key="train.pad_multiple",
                                          help="A few static batch shapes, e.g. 64, for compiled GPU steps.")
            attention = c.selectbox(
                "Attention", list(ATTENTIONS), key="train.attention",
                help="disentangled-flash: DeBERTa-v2/v3 models train with the disentangled-flash package's kernels "
                     "(checked against the model's own attention first). auto: the model's own attention.")
            compile_step = c.checkbox("Compile the training step", False, key="train.compile",
                                      help="torch.compile on a GPU for runs of 2,000 steps or more (off below that "
                                           "and on CPU; metrics.json says why); compiled kernels are cached for "
                                           "later runs.")
        with st.expander("SBERT options (model = SBERT)"):
            a, b = st.columns(2)
            loss = a.selectbox("Loss", [AUTO_LOSS, *ALL_SBERT_LOSSES],
                               help="auto: softmax head for labelled text, online contrastive for 0/1 pairs, "
                                    "CoSENT for scored pairs, triplet for triplets, MNRL for Q&A "
                                    "(MultipleNegativesRankingLoss: each question must find its own answer among "
                                    "the other answers in the batch)")
            max_pairs = a.number_input("SetFit pair cap", 2, 10_000_000, 20_000, 1000,
                                       help="most pairs sampled from labelled text for the 'setfit' loss")
            knn_k = b.number_input("k for kNN evaluation", 1, 100, 5)
            mine = b.checkbox("Mine one hard negative per pair with the base model (Q&A / pairs with MNRL)")
        if not st.form_submit_button("Start training", type="primary"):
            return None
    base_model = other.strip() if picked == OTHER_MODEL else picked.split(" — ")[0]
    check_kind_fits_data(kind, data_kind, source)
    sbert = {} if kind != "sbert" else {"loss": None if loss == AUTO_LOSS else loss, "max_pairs": int(max_pairs),
                                        "knn_k": int(knn_k), "mine_hard_negatives": bool(mine)}
    return TrainConfig(model_kind=kind, base_model=base_model or "minilm", data=data, epochs=float(epochs),
                       max_steps=int(max_steps) or -1, batch_size=int(batch_size),
                       learning_rate=float(learning_rate) or None, max_length=int(max_length) or None,
                       warmup=float(warmup), weight_decay=float(weight_decay), eval_steps=int(eval_steps) or None,
                       early_stopping_patience=int(patience), precision=precision, class_weighting=weighting,
                       length_grouping=grouping, gradient_checkpointing=checkpointing, seed=int(seed), pooling=pooling,
                       run_name=run_name.strip() or None, normalize=normalize, identity_augmentation=augmentation,
                       identity_swaps=bool(swaps), soft_labels=float(soft_labels),
                       ensemble=ensemble if kind == "classifier" else "auto",
                       calibration=calibration, report_to=report_to, batch_tokens=int(batch_tokens) or None,
                       pad_multiple=int(pad_multiple) or None, attention=attention, compile=bool(compile_step),
                       **sbert)
