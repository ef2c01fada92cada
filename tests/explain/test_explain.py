"""Explainers: IG completeness on a toy model, SHAP additivity, determinism, sigmoid for multilabel,
exact linear contributions, word aggregation, HTML escaping, options and the CLI."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from core.cli import main
from core.errors import ConfigError
from core.explain import explain, methods_for
from core.explain.base import Attribution, words_from_offsets
from core.explain.render import words_html
from core.scoring.scorer import Scorer
from core.models.catalog import bundled_model_path

LABELS = ["toxic", "insult", "threat"]


class ToyModel(torch.nn.Module):
    """Embedding -> masked mean -> linear -> 3 logits: small, smooth, with a closed-form output."""

    def __init__(self, vocab: int):
        super().__init__()
        torch.manual_seed(0)
        self.embeddings = torch.nn.Embedding(vocab, 8)
        self.head = torch.nn.Linear(8, len(LABELS))
        torch.nn.init.normal_(self.embeddings.weight, std=1.0)
        torch.nn.init.normal_(self.head.weight, std=1.0)

    def get_input_embeddings(self):
        return self.embeddings

    def forward(self, input_ids, attention_mask=None, **_):
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        hidden = (self.embeddings(input_ids) * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return SimpleNamespace(logits=self.head(hidden))


@pytest.fixture(scope="module")
def toy_scorer():
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    model = ToyModel(tokenizer.vocab_size).eval()
    return Scorer(Path("."), "classifier", "multilabel", LABELS, {label: 0.5 for label in LABELS}, 64, model,
                  tokenizer)


def test_ig_completeness_on_a_toy_model(toy_scorer):
    for label in LABELS:
        result = explain(toy_scorer, "you are a complete idiot and a liar", "ig", label=label, n_steps=64)
        gap = result.output - result.base
        assert abs(sum(result.token_scores) - gap) <= 0.01 * abs(gap) + 1e-6
        assert sum(result.word_scores) == pytest.approx(sum(result.token_scores), abs=1e-9)  # specials score 0


def test_multilabel_explains_the_sigmoid_not_a_softmax(toy_scorer):
    text = "you are a complete idiot"
    ids = toy_scorer.tokenizer(text, return_tensors="pt")["input_ids"]
    logits = toy_scorer.model(ids).logits[0].detach()
    for method in ("ig", "shap"):
        result = explain(toy_scorer, text, method, label="insult")
        assert result.output == pytest.approx(float(torch.sigmoid(logits[1])), abs=1e-5)
        assert result.output != pytest.approx(float(torch.softmax(logits, -1)[1]), abs=1e-3)


def test_shap_is_additive_and_deterministic(toy_scorer):
    text = "I will find you and hurt you, you stupid idiot"
    first = explain(toy_scorer, text, "shap", label="threat", max_evals=200)
    assert first.base + sum(first.token_scores) == pytest.approx(first.output, abs=1e-5)
    assert first.details["additivity_error"] < 1e-5
    again = explain(toy_scorer, text, "shap", label="threat", max_evals=200)
    assert again.token_scores == first.token_scores
    assert first.words == text.split()


def test_shap_on_a_sentencepiece_tokenizer_keeps_every_word_once(tiny_deberta):
    """shap issue #2849: rebuilding masked text from substrings duplicates pieces with SentencePiece."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_deberta)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_deberta, num_labels=3).eval()
    scorer = Scorer(Path("."), "classifier", "multilabel", LABELS, {label: 0.5 for label in LABELS}, 64, model,
                    tokenizer)
    text = "unbelievably rude comment, honestly!!"
    result = explain(scorer, text, "shap", label="toxic", max_evals=100)
    assert result.words == text.split()
    assert result.details["additivity_error"] < 1e-5


def test_attention_views(toy_scorer, bert_run):
    scorer = Scorer.from_run(bert_run, backend="exact")  # attention needs the PyTorch model
    kernel = scorer.model.config._attn_implementation
    last = explain(scorer, "you are an idiot", "attention")
    roll = explain(scorer, "you are an idiot", "rollout")
    assert len(last.token_scores) == len(last.tokens) and abs(sum(last.token_scores) - 1) < 1e-4
    assert abs(sum(roll.token_scores) - 1) < 1e-4 and min(roll.token_scores) >= 0
    assert scorer.model.config._attn_implementation == kernel  # scoring keeps its fast kernel
    with pytest.raises(ConfigError, match="does not apply to this classifier run"):
        explain(scorer, "x", "linear")


def test_linear_contributions_are_exact_for_tfidf(tfidf_run):
    scorer = Scorer.from_run(tfidf_run)
    assert methods_for(scorer) == ["linear", "shap"]
    text = "You stupid idiot, you are a moron"
    result = explain(scorer, text, "linear", label="insult")
    assert result.base + sum(result.word_scores) == pytest.approx(result.output, abs=1e-4)
    scores = dict(zip(result.words, result.word_scores))
    assert scores["idiot,"] > 0
    shap_result = explain(scorer, text, "shap", label="insult", max_evals=100)
    assert shap_result.base + sum(shap_result.token_scores) == pytest.approx(shap_result.output, abs=1e-5)
    assert shap_result.words == text.split()
    with pytest.raises(ConfigError, match=r"method 'ig' does not apply to this tfidf run"):
        explain(scorer, text, "ig")


def test_words_from_offsets_sums_subwords():
    text = "unbelievable idiots!"
    offsets = [(0, 0), (0, 2), (2, 12), (13, 18), (18, 19), (19, 20), (0, 0)]
    words, scores = words_from_offsets(text, offsets, np.array([9, 1, 2, 3, 4, 5, 9.0]))
    assert words == ["unbelievable", "idiots!"] and scores == [3.0, 12.0]


def test_rendered_html_escapes_user_text():
    attribution = Attribution("shap", "toxic", "", 0.9, [], [], ["<script>alert(1)</script>", "Tom&Jerry", "ok"],
                              [0.5, -0.2, 0.0])
    html = words_html(attribution)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Tom&amp;Jerry" in html and "rgba(214,39,40,0.850)" in html and "rgba(31,119,180,0.340)" in html


def test_options_are_validated(toy_scorer):
    with pytest.raises(ConfigError, match=r"option n_steps=1 is out of range \[4, 500\]"):
        explain(toy_scorer, "x y", "ig", n_steps=1)
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['steps'\]"):
        explain(toy_scorer, "x y", "ig", steps=10)
    with pytest.raises(ConfigError, match="label 'spam' is not one of"):
        explain(toy_scorer, "x y", "ig", label="spam")
    with pytest.raises(ConfigError, match="the text is empty"):
        explain(toy_scorer, "  ", "ig")


def test_explain_cli_prints_words_and_scores(tfidf_run, capsys):
    assert main(["explain", "--run", tfidf_run.name, "--method", "linear", "--label", "toxic",
                 "you", "stupid", "idiot"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [w["word"] for w in result["word_attributions"]] == ["you", "stupid", "idiot"]
    assert result["method"] == "linear" and result["label"] == "toxic" and result["seconds"] >= 0
