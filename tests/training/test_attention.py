"""`attention: disentangled-flash` (issue 28): the DeBERTa kernels' PyTorch path on CPU against the model's own
attention (hidden states and gradients), a tiny-DeBERTa job that trains with it and reloads as a plain Hugging Face
model, and every refusal; on a GPU (`pytest -m gpu`) the Triton kernels."""

import copy
import json
import sys

import pytest
import torch

from core import runs
from core.config import TrainConfig
from core.errors import ConfigError
from core.scoring.scorer import Scorer
from core.training.attention import TOLERANCE, apply_attention
from core.training.job import run_job


def _classifier(folder):
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_pretrained(folder, num_labels=3)


def _grads(model, ids, mask):
    model.train()
    torch.manual_seed(1)
    model.zero_grad()
    model(input_ids=ids, attention_mask=mask).logits.pow(2).sum().backward()
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def test_the_kernels_give_the_models_own_logits_and_gradients(tiny_deberta):
    plain = _classifier(tiny_deberta)
    swapped = copy.deepcopy(plain)
    used = apply_attention("disentangled-flash", swapped)
    assert used["attention"] == "disentangled-flash" and used["backend"] == "torch"
    assert used["probe_max_diff"] <= TOLERANCE["cpu"]
    assert type(swapped.deberta.encoder).__name__ == "DebertaV2OptimizedEncoder"
    assert set(swapped.state_dict()) == set(plain.state_dict())  # the checkpoint names stay
    ids = torch.randint(5, 300, (4, 30))
    mask = torch.ones_like(ids)
    mask[2, 20:] = 0
    a, b = _grads(plain, ids, mask), _grads(swapped, ids, mask)
    assert a.keys() == b.keys()
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-4


def test_a_deberta_job_trains_with_the_kernels_and_reloads_as_plain_hugging_face(make_run, tiny_deberta):
    run_dir = make_run(base_model=str(tiny_deberta), attention="disentangled-flash", max_steps=4, eval_steps=4)
    assert run_job(run_dir) == "succeeded", (run_dir / runs.STATUS).read_text()
    metrics = json.loads((run_dir / runs.METRICS).read_text())
    assert metrics["attention"]["attention"] == "disentangled-flash" and metrics["attention"]["backend"] == "torch"
    # the Scorer loads the plain class and checks it reproduces the job's saved predictions
    scorer = Scorer.from_run(run_dir, backend="exact")
    assert type(scorer.model.deberta.encoder).__name__ == "DebertaV2Encoder"
    assert len(scorer.score(["you are stupid"])) == 1


def test_auto_and_hf_leave_the_model_alone(tiny_deberta):
    model = _classifier(tiny_deberta)
    for choice in ("auto", "hf"):
        assert apply_attention(choice, model) == {"attention": "hf"}
    assert type(model.deberta.encoder).__name__ == "DebertaV2Encoder"


def test_refusals(tiny_bert, tiny_deberta, monkeypatch):
    from transformers import AutoModelForSequenceClassification

    bert = AutoModelForSequenceClassification.from_pretrained(tiny_bert, num_labels=2)
    with pytest.raises(ConfigError, match=r"disentangled attention; this base model is 'bert'. Fix: use attention"):
        apply_attention("disentangled-flash", bert)
    with pytest.raises(ConfigError, match=r"attention='flash' is invalid: use one of"):
        apply_attention("flash", bert)
    import disentangled_flash

    def drift(backbone, backend):  # a kernel that is not exact: the probe must catch it
        with torch.no_grad():
            weight = backbone.encoder.layer[0].attention.self.value_proj.weight
            weight.copy_(torch.randn(weight.shape, generator=torch.Generator().manual_seed(0)))

    monkeypatch.setattr(disentangled_flash, "enable_deberta_training", drift)
    with pytest.raises(ConfigError, match=r"disentangled-flash \(torch\) gives hidden states .* away from the model's own"):
        apply_attention("disentangled-flash", _classifier(tiny_deberta))
    monkeypatch.setitem(sys.modules, "disentangled_flash", None)  # not installed
    with pytest.raises(ConfigError, match=r"needs the disentangled-flash package.*pip install disentangled-flash=="):
        apply_attention("disentangled-flash", _classifier(tiny_deberta))


@pytest.mark.parametrize("values,match", [
    ({"attention": "flash"}, r"attention='flash' is invalid: use one of \('auto', 'hf', 'disentangled-flash'\)"),
    ({"attention": "disentangled-flash", "model_kind": "tfidf"}, r"applies to classifier runs only"),
    ({"attention": "disentangled-flash", "gradient_checkpointing": True}, r"does not go with gradient_checkpointing"),
])
def test_bad_attention_options_are_refused(values, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig.from_dict({"data": "x.csv", **values})


@pytest.mark.gpu
def test_the_triton_kernels_match_on_a_gpu(tiny_deberta):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification

    # head size 64, as in mdeberta-v3-base: the Triton path
    config = DebertaV2Config(vocab_size=400, hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                             intermediate_size=256, max_position_embeddings=128, relative_attention=True,
                             position_buckets=32, pos_att_type=["p2c", "c2p"], pad_token_id=0, num_labels=3)
    torch.manual_seed(0)
    plain = DebertaV2ForSequenceClassification(config)
    swapped = copy.deepcopy(plain)
    used = apply_attention("disentangled-flash", swapped)
    assert used["backend"] == "triton" and used["probe_max_diff"] <= TOLERANCE["cuda"]
    ids = torch.randint(5, 300, (4, 64))
    mask = torch.ones_like(ids)
    mask[1, 40:] = 0
    a, b = _grads(plain.cuda(), ids.cuda(), mask.cuda()), _grads(swapped.cuda(), ids.cuda(), mask.cuda())
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-2
