"""Base-model resolution and safe paths."""

import time

import pytest

from core.errors import ConfigError, ModelNotAvailable
from core.models.catalog import CATALOG, resolve_model
from core.paths import resolve_inside, slugify


def test_default_is_the_bundled_minilm():
    resolved = resolve_model()
    assert resolved.source == "bundled" and (resolved.path.endswith("model"))
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2").source == "bundled"


def test_catalog_has_the_promised_models():
    ids = {entry.hub_id for entry in CATALOG}
    assert {"microsoft/mdeberta-v3-base", "sentence-transformers/all-mpnet-base-v2",
            "sentence-transformers/multi-qa-MiniLM-L6-cos-v1",
            "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"} <= ids


@pytest.mark.parametrize("name", ["mdeberta-v3-base", "microsoft/mdeberta-v3-base", "someone/some-model"])
def test_hub_models_fail_fast_and_clearly_offline(name):
    started = time.perf_counter()
    with pytest.raises(ModelNotAvailable, match=r"not in the local Hugging Face cache and cannot be downloaded.*"
                                                r"Fix: use the bundled model 'minilm'"):
        resolve_model(name)
    assert time.perf_counter() - started < 5


def test_local_folder(tmp_path):
    (tmp_path / "m").mkdir()
    with pytest.raises(ModelNotAvailable, match=r"has no config.json"):
        resolve_model(str(tmp_path / "m"))
    (tmp_path / "m" / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path / "m")).source == "local"
    with pytest.raises(ModelNotAvailable, match=r"neither a catalog name"):
        resolve_model("./missing-folder")


def test_resolve_inside_refuses_escapes(tmp_path):
    assert resolve_inside(tmp_path, "a/b") == tmp_path / "a" / "b"
    with pytest.raises(ConfigError, match=r"outside"):
        resolve_inside(tmp_path, "../../etc/passwd")
    with pytest.raises(ConfigError, match=r"outside"):
        resolve_inside(tmp_path, "/etc")


def test_slugify():
    assert slugify("My run #2 (ça)") == "my-run-2-a"
    assert slugify("///") == "unnamed"
