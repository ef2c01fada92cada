"""The first-token last layer: same logits as the full model, installed only where that holds."""

from __future__ import annotations

import numpy as np
import torch

from core.scoring.first_token import FirstTokenLayer, first_token_only
from core.scoring.scorer import Scorer

TEXTS = ["short", "a somewhat longer comment, which pads the others in its batch",
         "you are an idiot and everyone knows it", "ok then"]


def _classifier(folder, cls_name="AutoModelForSequenceClassification", **kwargs):
    import transformers
    from transformers import AutoTokenizer

    torch.manual_seed(1)
    model = getattr(transformers, cls_name).from_pretrained(folder, num_labels=3, **kwargs).eval()
    return model, AutoTokenizer.from_pretrained(folder)


def test_bert_classifier_gets_the_shortcut_with_unchanged_logits(tiny_bert):
    model, tokenizer = _classifier(tiny_bert)
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        full = model(**batch).logits.clone()
    assert first_token_only(model, tokenizer) is True
    assert isinstance(model.bert.encoder.layer[-1], FirstTokenLayer)
    with torch.inference_mode():
        short = model(**batch).logits
        hidden = model.bert(**batch).last_hidden_state
    assert hidden.shape[1] == 1  # the last layer really ran for one position
    assert torch.allclose(full, short, atol=1e-5), (full - short).abs().max()
    assert first_token_only(model, tokenizer) is False  # already installed: not wrapped twice


def test_eager_attention_and_one_token_inputs_match_too(tiny_bert):
    model, tokenizer = _classifier(tiny_bert, attn_implementation="eager")
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    single = tokenizer(["[CLS]"], add_special_tokens=False, return_tensors="pt")
    with torch.inference_mode():
        full, full_single = model(**batch).logits.clone(), model(**single).logits.clone()
    assert first_token_only(model, tokenizer)
    with torch.inference_mode():
        assert torch.allclose(full, model(**batch).logits, atol=1e-5)
        assert torch.allclose(full_single, model(**single).logits, atol=1e-6)


def test_recorded_attentions_and_gradients_still_see_the_full_model(tiny_bert):
    model, tokenizer = _classifier(tiny_bert)
    first_token_only(model, tokenizer)
    batch = tokenizer(TEXTS[1:2], return_tensors="pt")
    length = batch["input_ids"].shape[1]
    model.set_attn_implementation("eager")
    with torch.inference_mode():
        out = model(**batch, output_attentions=True, output_hidden_states=True)
    assert [tuple(a.shape) for a in out.attentions] == [(1, 2, length, length)] * 2
    assert out.hidden_states[-1].shape[1] == length
    model.set_attn_implementation("sdpa")
    embeddings = model.get_input_embeddings()(batch["input_ids"]).detach().requires_grad_(True)
    model(inputs_embeds=embeddings, attention_mask=batch["attention_mask"]).logits[0, 1].backward()
    assert embeddings.grad is not None and float(embeddings.grad.abs().sum()) > 0


def test_deberta_and_per_token_heads_keep_the_full_model(tiny_bert, tiny_deberta):
    model, tokenizer = _classifier(tiny_deberta)
    assert first_token_only(model, tokenizer) is False
    assert not any(isinstance(m, FirstTokenLayer) for m in model.modules())
    tagger, tokenizer = _classifier(tiny_bert, "AutoModelForTokenClassification")
    assert first_token_only(tagger, tokenizer) is False  # its logits need every token: the probe rejects it
    assert not isinstance(tagger.bert.encoder.layer[-1], FirstTokenLayer)


def test_scorer_uses_the_shortcut_and_batches_by_tokens_without_changing_scores(bert_run):
    scorer = Scorer.from_run(bert_run, device="cpu", backend="exact")
    assert any(isinstance(m, FirstTokenLayer) for m in scorer.model.modules())
    texts = [t * (i % 5 + 1) for i, t in enumerate(TEXTS * 6)]
    reference = scorer.predict_proba(texts, batch_size=1)
    for batch_size, batch_tokens in ((64, 8), (64, 100), (3, 10_000), (64, None)):
        probs = scorer.predict_proba(texts, batch_size=batch_size, batch_tokens=batch_tokens)
        np.testing.assert_allclose(probs, reference, atol=1e-5)


def test_int8_scorer_keeps_the_shortcut(bert_run):
    scorer = Scorer.from_run(bert_run, device="cpu", backend="int8")
    batch = scorer.tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        assert scorer.model.bert(**batch).last_hidden_state.shape[1] == 1
    exact = Scorer.from_run(bert_run, device="cpu", backend="exact").predict_proba(TEXTS)
    np.testing.assert_allclose(scorer.predict_proba(TEXTS), exact, atol=0.05)  # int8 of the same model
