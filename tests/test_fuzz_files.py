"""Fuzz: malformed files, made by a seeded generator, fed to every command that reads a file.

Each must end with exit code 2, one `error:` line on stderr (after any progress lines, never a traceback),
and no new or changed file anywhere under the test's folder.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main
from tests.conftest import ROOT

SEED = 21
VALID = (ROOT / "data" / "sample.csv").read_text(encoding="utf-8")


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def malformed_files(seed: int = SEED) -> list[tuple[str, bytes]]:
    """(file name, content) pairs that no reader may accept; the random parts come from `seed`."""
    rng = random.Random(seed)
    lines = VALID.splitlines()
    header, rows = lines[0], lines[1:40]
    valid_parquet = _parquet(pd.DataFrame({"text": ["hello", "you idiot"] * 50, "toxic": [0, 1] * 50}))
    files = [
        ("empty.csv", b""),
        ("blank.csv", b"\n  \n\t\n"),
        ("header-only.csv", (header + "\n").encode()),
        ("nul.csv", (header + "\n" + rows[0] + "\x00\n").encode()),
        ("unknown.xlsx", VALID[:500].encode()),
        ("dup-columns.csv", b"text,toxic,toxic\nhello,0,1\nyou idiot,1,0\n"),
        ("bad-line.jsonl", b'{"text": "hello", "toxic": 0}\n{"text": broken\n'),
        ("not-objects.jsonl", b"[1, 2, 3]\n"),
        ("no-magic.parquet", b"this is not parquet at all" * 10),
        ("magic-garbage.parquet", b"PAR1" + bytes(rng.randrange(256) for _ in range(300)) + b"PAR1"),
        ("utf16-garbage.csv", b"\xff\xfe" + bytes(rng.randrange(1, 256) for _ in range(301))),
    ]
    for i in range(3):  # a valid file cut inside a quoted field
        text = header + "\n" + "\n".join(rows) + '\n"an unterminated comment ' + "x" * rng.randrange(5, 50)
        files.append((f"unterminated-{i}.csv", text.encode()))
    for i in range(3):  # a row with extra fields at a random place
        at = rng.randrange(1, len(rows))
        broken = rows[:at] + [rows[at] + ",1,0,1"] + rows[at + 1:]
        files.append((f"extra-fields-{i}.csv", (header + "\n" + "\n".join(broken) + "\n").encode()))
    for i in range(3):  # random bytes, binary (NUL and control bytes)
        files.append((f"random-{i}.csv", bytes(rng.randrange(0, 32) for _ in range(rng.randrange(50, 500)))))
    for i in range(3):  # a valid Parquet file cut short
        files.append((f"truncated-{i}.parquet", valid_parquet[:rng.randrange(8, len(valid_parquet) - 8)]))
    return files


FILES = malformed_files()


@pytest.fixture(scope="module")
def runs_for_fuzz(tmp_path_factory, tiny_sbert):
    """A TF-IDF run (score, evaluate) and an SBERT run (search), in a models folder of their own."""
    from core import runs
    from core.config import TrainConfig
    from core.training.job import run_job

    models = tmp_path_factory.mktemp("fuzz-models")
    made = {}
    for kind, extra in (("tfidf", {}), ("sbert", {"base_model": str(tiny_sbert), "data": str(ROOT / "data" /
                                                                                               "qa_sample.jsonl")})):
        config = TrainConfig.from_dict({"model_kind": kind, "data": str(ROOT / "data" / "sample.csv"), "max_steps": 2,
                                        "batch_size": 8, "early_stopping_patience": 0, **extra})
        run_dir = runs.new_run_dir(kind, models)
        config.to_json(run_dir / runs.CONFIG)
        assert run_job(run_dir) == "succeeded", (run_dir / runs.STATUS).read_text()
        made[kind] = run_dir
    return models, made


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


COMMANDS = {
    "data inspect": lambda f, out, r: ["data", "inspect", f],
    "data prepare": lambda f, out, r: ["data", "prepare", f, "--out", out / "version"],
    "train --data": lambda f, out, r: ["train", "--model-kind", "tfidf", "--data", f],
    "score --file": lambda f, out, r: ["score", "--run", r["tfidf"], "--file", f, "--out", out / "scored.csv"],
    "evaluate --data": lambda f, out, r: ["evaluate", "--run", r["tfidf"], "--data", f],
    "search --corpus": lambda f, out, r: ["search", "--run", r["sbert"], "--corpus", f, "--column", "text",
                                          "--query", "hello"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_malformed_file_gets_one_clear_error_and_changes_nothing(command, runs_for_fuzz, tmp_path, monkeypatch,
                                                                       capsys):
    models, made = runs_for_fuzz
    monkeypatch.setenv("CLEANSPEECH_MODELS_DIR", str(models))
    inputs, out = tmp_path / "inputs", tmp_path / "out"
    inputs.mkdir()
    out.mkdir()
    for name, content in FILES:
        (inputs / name).write_bytes(content)
    before = {**snapshot(tmp_path), **{f"models/{k}": v for k, v in snapshot(models).items()}}
    for name, _ in FILES:
        argv = [str(a) for a in COMMANDS[command](inputs / name, out, {k: v.name for k, v in made.items()})]
        code = main(argv)
        captured = capsys.readouterr()
        lines = [line for line in captured.err.replace("\r", "\n").splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error: ")]
        assert code == 2, (name, code, captured.err[-500:])
        assert len(errors) == 1 and lines[-1] == errors[0] and "Traceback" not in captured.err, (name, captured.err)
        assert captured.out == "", (name, captured.out)
    after = {**snapshot(tmp_path), **{f"models/{k}": v for k, v in snapshot(models).items()}}
    assert after == before
