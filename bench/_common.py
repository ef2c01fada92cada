"""What the benchmark scripts share: the project on sys.path, offline settings, data paths, run lookup."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JIGSAW = ROOT.parent / "shared" / "data" / "jigsaw"
JIGSAW_TRAIN, JIGSAW_TEST = JIGSAW / "train.csv", JIGSAW / "test.csv"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def run_from_args(argv: list[str]) -> Path:
    """RUN_DIR from the command line, else the newest succeeded `classifier` run with a saved model."""
    if argv:
        return Path(argv[0])
    from core import runs

    for info in runs.list_runs():
        if info.model_kind == "classifier" and runs.has_model(info.path):
            return info.path
    sys.exit("no classifier run with a saved model: train one first (e.g. `python -m core train --data ...`)")
