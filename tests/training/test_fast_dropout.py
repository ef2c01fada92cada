"""The fast CPU dropout: same distribution and scaling as torch's, seeded by torch, exact in eval mode."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from core.training.fast_dropout import (ATTENTION_NAME, FastDropout, attention_with_fast_dropout, fast_dropout,
                                        use_fast_dropout)


def test_keeps_one_minus_p_and_scales_the_kept_values():
    x = torch.ones(1_000_000)
    torch.manual_seed(0)
    out = fast_dropout(x, 0.1)
    kept = out != 0
    assert abs(kept.float().mean().item() - 0.9) < 0.002  # binomial sd 0.0003
    assert torch.allclose(out[kept], torch.full_like(out[kept], 1 / 0.9))
    assert abs(out.mean().item() - 1.0) < 0.003  # expectation preserved, as with torch's dropout
    assert fast_dropout(x, 0.0) is x
    assert torch.count_nonzero(fast_dropout(x, 1.0)) == 0


def test_masks_follow_torch_seed_and_differ_between_calls():
    x = torch.randn(64, 32)
    torch.manual_seed(42)
    first, second = fast_dropout(x, 0.5), fast_dropout(x, 0.5)
    torch.manual_seed(42)
    again = fast_dropout(x, 0.5)
    assert torch.equal(first, again)
    assert not torch.equal(first, second)


def test_gradient_is_zero_where_dropped():
    x = torch.randn(256, requires_grad=True)
    out = fast_dropout(x, 0.3)
    out.sum().backward()
    dropped = out.detach() == 0
    assert torch.all(x.grad[dropped] == 0)
    assert torch.allclose(x.grad[~dropped], torch.full_like(x.grad[~dropped], 1 / 0.7))


def test_model_swap_is_exact_in_eval_and_random_in_training(tiny_bert):
    from transformers import AutoModelForSequenceClassification

    original = AutoModelForSequenceClassification.from_pretrained(tiny_bert, num_labels=3).eval()
    model = copy.deepcopy(original)
    before = sum(type(m) is nn.Dropout for m in model.modules())
    assert use_fast_dropout(model) == before > 0
    assert not any(type(m) is nn.Dropout for m in model.modules())
    assert model.config._attn_implementation == ATTENTION_NAME
    ids = torch.tensor([[101, 2000, 2001, 2002, 102], [101, 2003, 102, 0, 0]])
    mask = (ids != 0).long()
    with torch.no_grad():
        expected = original(input_ids=ids, attention_mask=mask).logits
        assert torch.allclose(model(input_ids=ids, attention_mask=mask).logits, expected, atol=1e-6)
        model.train()
        first = model(input_ids=ids, attention_mask=mask).logits
        second = model(input_ids=ids, attention_mask=mask).logits
    assert not torch.allclose(first, second)  # dropout is active in training
    assert all(isinstance(m, FastDropout) for m in model.modules() if "Dropout" in type(m).__name__)


def test_attention_path_with_dropout_matches_sdpa_when_nothing_is_dropped():
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    module = nn.Module().train()
    module.is_causal = False
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 4, 6, 8) for _ in range(3))
    mask = torch.ones(2, 1, 6, 6, dtype=torch.bool)
    mask[1, :, :, 4:] = False  # padding in the second row
    expected, _ = sdpa_attention_forward(module, q, k, v, mask, dropout=0.0)
    # p below 1/65536 rounds to no dropped element: the explicit path must equal SDPA
    got, weights = attention_with_fast_dropout(module, q, k, v, mask, dropout=1e-9)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.all(weights[1, :, :, 4:] == 0)
    dropped, _ = attention_with_fast_dropout(module, q, k, v, mask, dropout=0.5)
    assert not torch.allclose(dropped, expected, atol=1e-3)


@pytest.mark.parametrize("p", [0.1, 0.25])
def test_fast_dropout_module_matches_nn_dropout_statistics(p):
    x = torch.ones(200_000)
    layer = FastDropout(p).train()
    torch.manual_seed(1)
    ours = layer(x)
    reference = nn.functional.dropout(x, p, training=True)
    assert abs((ours == 0).float().mean().item() - (reference == 0).float().mean().item()) < 0.005
    assert torch.equal(layer.eval()(x), x)


def test_models_without_attention_interface_keep_their_attention(tiny_deberta):
    from transformers import AutoModelForSequenceClassification

    original = AutoModelForSequenceClassification.from_pretrained(tiny_deberta, num_labels=2).eval()
    model = copy.deepcopy(original)
    assert use_fast_dropout(model) > 0
    assert model.config._attn_implementation != ATTENTION_NAME  # DeBERTa-v2 has its own attention code
    ids = torch.tensor([[1, 10, 11, 12, 2]])
    with torch.no_grad():
        assert torch.allclose(model(input_ids=ids).logits, original(input_ids=ids).logits, atol=1e-6)
