"""TrainConfig validation and JSON round-trip."""

import json

import pytest

from core.config import TrainConfig
from core.errors import ConfigError


def test_minimal_config_file_works_and_round_trips(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"model_kind": "classifier", "task": "multilabel", "data": "data/sample.csv",
                                "max_steps": 20}))
    config = TrainConfig.from_json(path)
    assert config.max_steps == 20 and config.weight_decay == 0.01 and config.warmup == 0.1
    assert config.early_stopping_patience == 2 and config.seed == 42 and config.length_grouping
    config.to_json(tmp_path / "again.json")
    assert TrainConfig.from_json(tmp_path / "again.json") == config


def test_unknown_keys_are_named():
    with pytest.raises(ConfigError, match=r"unknown config key\(s\) \['epochz', 'lr'\]"):
        TrainConfig.from_dict({"data": "x.csv", "epochz": 3, "lr": 1e-5})


@pytest.mark.parametrize("values, match", [
    ({"model_kind": "svm"}, r"model_kind='svm' is invalid: use one of"),
    ({"task": "binary"}, r"task='binary' is invalid"),
    ({"learning_rate": 3.0}, r"learning_rate=3.0 is invalid: must be in \(0, 1\)"),
    ({"batch_size": 0}, r"batch_size=0 is invalid: must be >= 1"),
    ({"max_length": 4}, r"max_length=4 is invalid"),
    ({"precision": "int4"}, r"precision='int4' is invalid"),
    ({"data": None}, r"data=None is invalid: give a data file"),
])
def test_bad_values_name_the_field_and_value(values, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig.from_dict({"data": "x.csv", **values})


def test_malformed_json_file(tmp_path):
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(ConfigError, match=r"is not valid JSON \(line 1"):
        TrainConfig.from_json(tmp_path / "bad.json")
