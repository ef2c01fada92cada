"""Shared fixtures: isolated run/dataset folders, no Hub access, small crafted files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_JIGSAW = ROOT.parent / "shared" / "data" / "jigsaw"

# Tests never download: make any Hub access fail at once instead of waiting on the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Every test gets its own models/ and datasets/ folders."""
    models, datasets = tmp_path / "models", tmp_path / "datasets"
    monkeypatch.setenv("CLEANSPEECH_MODELS_DIR", str(models))
    monkeypatch.setenv("CLEANSPEECH_DATASETS_DIR", str(datasets))
    return models, datasets


@pytest.fixture
def write(tmp_path):
    """write(name, content) -> path of a file under tmp_path (str content is UTF-8 unless bytes)."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path

    return _write


def jigsaw_file(name: str) -> Path:
    """A file of the shared Jigsaw subset, or skip the test when it is absent (e.g. outside this workplace)."""
    path = SHARED_JIGSAW / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """Folder of a tiny random BERT (MiniLM tokenizer), usable as `base_model`."""
    from tests.models_tiny import build_tiny_bert

    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_deberta(tmp_path_factory) -> Path:
    """Folder of a tiny random DeBERTa-v2 with a SentencePiece tokenizer, usable as `base_model`."""
    from tests.models_tiny import build_tiny_deberta

    return build_tiny_deberta(tmp_path_factory.mktemp("tiny-deberta"))


@pytest.fixture(scope="session")
def tiny_sbert(tmp_path_factory, tiny_bert) -> Path:
    """Folder of a saved tiny sentence-transformers model (tiny BERT + mean pooling + Normalize)."""
    from tests.models_tiny import build_tiny_sbert

    return build_tiny_sbert(tmp_path_factory.mktemp("tiny-sbert"), tiny_bert)


@pytest.fixture(scope="session")
def tiny_sbert_model(tiny_sbert):
    """The tiny SBERT model, loaded once; deepcopy it before training."""
    from core.models.embedding import load_sentence_model

    return load_sentence_model(tiny_sbert, device="cpu")


@pytest.fixture
def make_run(isolated_dirs):
    """make_run(**config) -> a new run folder with config.json written (defaults: sample data, few steps)."""
    from core import runs
    from core.config import TrainConfig

    def _make(**overrides) -> Path:
        values = {"data": str(ROOT / "data" / "sample.csv"), "max_steps": 6, "eval_steps": 3, "batch_size": 8,
                  "logging_steps": 1, "early_stopping_patience": 0, **overrides}
        config = TrainConfig.from_dict(values)
        run_dir = runs.new_run_dir(overrides.get("run_name", "test"), isolated_dirs[0])
        config.to_json(run_dir / runs.CONFIG)
        return run_dir

    return _make


@pytest.fixture
def tfidf_run(make_run):
    """A finished tfidf run on the bundled sample (trained in-process, about a second)."""
    from core.training.job import run_job

    run_dir = make_run(model_kind="tfidf", run_name="tfidf")
    assert run_job(run_dir) == "succeeded"
    return run_dir


@pytest.fixture(scope="session")
def bert_run_template(tmp_path_factory, tiny_bert) -> Path:
    """A finished tiny-BERT run, trained once per session; copy it with `bert_run`."""
    from core import runs
    from core.config import TrainConfig
    from core.training.job import run_job

    root = tmp_path_factory.mktemp("bert-run")
    config = TrainConfig(data=str(ROOT / "data" / "sample.csv"), base_model=str(tiny_bert), max_steps=8,
                         batch_size=16, eval_steps=8, learning_rate=1e-3, early_stopping_patience=0)
    run_dir = runs.new_run_dir("tiny-bert", root)
    config.to_json(run_dir / runs.CONFIG)
    assert run_job(run_dir) == "succeeded", (run_dir / runs.STATUS).read_text()
    return run_dir


@pytest.fixture
def bert_run(bert_run_template, isolated_dirs) -> Path:
    """A private copy of the session's tiny-BERT run inside this test's models folder."""
    import shutil

    return Path(shutil.copytree(bert_run_template, isolated_dirs[0] / bert_run_template.name))
