"""The `bf16` scoring backend: close to exact, saved with the run, refused where bf16 is not native.

The tests force the hardware check to "native" where they need the numbers: bf16 is emulated on CPUs without
AVX512-BF16 (slow, but the same arithmetic), so the maths is checked on any machine; the tiny models keep it quick.
"""

import numpy as np
import pytest
import torch

from core.scoring import bf16 as bf16_backend
from core.errors import ConfigError
from core.scoring.scorer import Scorer, save_backend

TEXTS = ["you are an idiot", "thanks for the help with the article, much appreciated", "ok",
         "I will find you and hurt you, you worthless piece of garbage " * 3]


@pytest.fixture
def native(monkeypatch):
    monkeypatch.setattr(bf16_backend, "native_bf16", lambda device: (True, ""))


def _capabilities(monkeypatch, **flags):
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"cpu_name": "Test CPU", "avx2": True, **flags})


def test_bf16_backend_stays_close_to_exact_and_can_be_saved_as_the_run_default(bert_run, native):
    exact = Scorer.from_run(bert_run, device="cpu", backend="exact").predict_proba(TEXTS)
    save_backend(bert_run, "bf16")
    fast = Scorer.from_run(bert_run, device="cpu")
    assert fast.backend == "bf16" and repr(fast.model).startswith("Bf16Classifier(")
    linears = [m for m in fast.model.model.modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all(m.weight.dtype == torch.bfloat16 for m in linears)  # cast once, at load time
    probs = fast.predict_proba(TEXTS)
    assert np.abs(probs - exact).max() < 0.02
    assert not np.array_equal(probs, exact)  # really computed in bf16, not the fp32 model again
    assert [r.text for r in fast.score(TEXTS)] == TEXTS


def test_bf16_keeps_a_deberta_v2_classifier_close_to_fp32(tiny_deberta, native):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(1)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_deberta, num_labels=3).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_deberta)
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = model(**batch).logits.clone()
        got = bf16_backend.bf16_classifier(model, tokenizer, "cpu")(batch["input_ids"], batch["attention_mask"])
    assert got.logits.dtype == torch.float32
    assert torch.allclose(got.logits, expected, atol=0.05), (got.logits - expected).abs().max()


def test_bf16_is_refused_on_a_cpu_without_native_bf16_with_the_fix(bert_run, monkeypatch):
    _capabilities(monkeypatch, avx512_bf16=False)
    with pytest.raises(ConfigError, match="backend='bf16' is not worth it here: Test CPU has neither AVX512-BF16 "
                                          "nor AMX-BF16 .* Fix: use backend 'onnx'"):
        Scorer.from_run(bert_run, device="cpu", backend="bf16")


@pytest.mark.parametrize("flag", ["avx512_bf16", "amx_bf16"])
def test_native_bf16_is_read_from_the_cpu_flags(monkeypatch, flag):
    _capabilities(monkeypatch, **{flag: True})
    assert bf16_backend.native_bf16("cpu") == (True, "")
    assert bf16_backend.native_bf16("mps")[0] is False
    if not torch.cuda.is_available():
        assert bf16_backend.native_bf16("cuda") == (False, "device 'cuda' was asked for, but PyTorch sees no CUDA GPU")


def test_bf16_refuses_a_model_that_moves_too_far(bert_run, native, monkeypatch):
    monkeypatch.setattr(bf16_backend, "MAX_LOGIT_DIFF", -1.0)  # no model can pass: the check must run
    with pytest.raises(ConfigError, match=r"logits move by \d\.\d{3} in bf16 .* Fix: use backend 'onnx' or 'exact'"):
        Scorer.from_run(bert_run, device="cpu", backend="bf16")


def test_explanations_still_need_the_exact_model(bert_run, native):
    from core.explain import explain

    scorer = Scorer.from_run(bert_run, device="cpu", backend="bf16")
    with pytest.raises(ConfigError, match="needs the exact \\(fp32\\) model, not backend 'bf16'"):
        explain(scorer, "you are an idiot", "ig")
