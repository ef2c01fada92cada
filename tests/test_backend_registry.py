"""Scoring backends come from one registry: adding one is a loader plus one entry (issue 22)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from core.cli import main
from core.errors import ConfigError
from core.scoring import backends
from core.scoring.scorer import Scorer

TEXTS = ["you are an idiot", "thanks for the edit"]


class HalvedLogits:
    """A test-only backend: the fp32 model with its logits halved."""

    def __init__(self, model):
        self.model = model

    def __call__(self, input_ids, attention_mask):
        return SimpleNamespace(logits=self.model(input_ids=input_ids, attention_mask=attention_mask).logits / 2)

    def to(self, device):
        return self


@pytest.fixture
def halved(monkeypatch):
    entry = backends.Backend("halved", lambda model, tokenizer, device: HalvedLogits(model), ("cpu",), False,
                             "test only: the logits halved")
    monkeypatch.setitem(backends.REGISTRY, "halved", entry)
    return entry


def test_a_registered_backend_is_loaded_listed_and_described(bert_run, halved, capsys):
    exact = Scorer.from_run(bert_run, device="cpu", backend="exact")
    scorer = Scorer.from_run(bert_run, device="cpu", backend="halved")
    assert scorer.backend == "halved"
    logits = np.log(exact.predict_proba(TEXTS)) - np.log1p(-exact.predict_proba(TEXTS))
    np.testing.assert_allclose(scorer.predict_proba(TEXTS), 1 / (1 + np.exp(-logits / 2)), atol=1e-5)
    assert backends.names()[-1] == "halved" and backends.describe()["halved"] == "test only: the logits halved"
    assert main(["score", "--run", bert_run.name, "--backend", "halved", *TEXTS]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_registry_answers_unknown_names_and_wrong_devices(halved):
    with pytest.raises(ConfigError, match=r"backend='nope' is not known. Fix: use one of \('auto', 'exact'"):
        backends.get("nope")
    with pytest.raises(ConfigError, match="backend='halved' runs on CPU only, not 'cuda'"):
        backends.check_device(halved, "cuda")
    assert backends.names()[:5] == ("auto", "exact", "onnx", "int8", "bf16")
