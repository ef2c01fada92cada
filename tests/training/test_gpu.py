"""GPU checks (`pytest -m gpu` on a machine with CUDA; skipped elsewhere): training and scoring on the GPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core import runs
from core.config import TrainConfig
from core.scoring.scorer import Scorer
from core.training.classifier import precision_flags
from core.training.job import run_job

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def test_precision_auto_picks_bf16_where_the_gpu_has_it():
    bf16 = torch.cuda.is_bf16_supported()
    assert precision_flags(TrainConfig(data="unused")) == {"bf16": bf16, "fp16": not bf16}
    assert precision_flags(TrainConfig(data="unused", precision="fp32")) == {"bf16": False, "fp16": False}


def test_deberta_run_trains_and_scores_on_the_gpu_like_on_the_cpu(make_run, tiny_deberta):
    run_dir = make_run(base_model=str(tiny_deberta), learning_rate=1e-3)
    assert run_job(run_dir) == "succeeded", (run_dir / runs.STATUS).read_text()
    gpu = Scorer.from_run(run_dir, device="cuda")
    assert gpu.backend == "exact" and "cuda" in gpu.backend_note
    assert next(gpu.model.parameters()).is_cuda
    cpu = Scorer.from_run(run_dir, device="cpu", backend="exact")
    texts = ["you are an idiot", "thanks for the help", "a longer comment " * 20, "ok"]
    gpu_probs, cpu_probs = gpu.predict_proba(texts), cpu.predict_proba(texts)
    assert gpu_probs.shape == (4, len(gpu.labels)) and np.isfinite(gpu_probs).all()
    np.testing.assert_allclose(gpu_probs, cpu_probs, atol=1e-4)


def test_bf16_scoring_backend_on_the_gpu_stays_close_to_the_cpu(bert_run):
    if not torch.cuda.is_bf16_supported(including_emulation=False):
        pytest.skip("this GPU has no native bf16")
    bf16 = Scorer.from_run(bert_run, device="cuda", backend="bf16")
    linear = next(m for m in bf16.model.model.modules() if isinstance(m, torch.nn.Linear))
    assert bf16.backend == "bf16" and linear.weight.is_cuda and linear.weight.dtype == torch.bfloat16
    texts = ["you are an idiot", "thanks for the help", "a longer comment " * 20, "ok"]
    cpu = Scorer.from_run(bert_run, device="cpu", backend="exact").predict_proba(texts)
    assert np.abs(bf16.predict_proba(texts) - cpu).max() < 0.02
