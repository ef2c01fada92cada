"""Benchmark (issue 26): how long each page takes to rerun on a warm app with the demo model (goal: median < 300 ms).

A fresh models folder gets the TF-IDF demo run (as on a first launch) and a dataset version of the bundled
sample. Each page is opened once (caches warm, the demo model loaded), then rerun `--reruns` times the way a
widget change reruns it (Streamlit AppTest, the whole script); the script prints the median and the 90th
percentile per page. The baseline is an empty Streamlit page run the same way: the floor that the test harness
itself costs, so `ratio` is the page's median against that floor.

Run: .venv/bin/python bench/page_rerun.py [--reruns 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT  # noqa: E402  (puts the project on sys.path)

GOAL_MS = 300
PAGES = ["home", "data", "train", "runs", "evaluate", "audit", "score", "explain", "rewrite", "search"]


def timings(at, reruns: int) -> list[float]:
    seconds = []
    for _ in range(reruns):
        started = time.perf_counter()
        at.run()
        seconds.append(time.perf_counter() - started)
        if at.exception:
            raise RuntimeError(at.exception[0].value)
    return seconds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reruns", type=int, default=15)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="cleanspeech-bench-"))
    os.environ["CLEANSPEECH_MODELS_DIR"] = str(folder / "models")
    os.environ["CLEANSPEECH_DATASETS_DIR"] = str(folder / "datasets")
    from streamlit.testing.v1 import AppTest

    from core import demo
    from core.data import load_dataset
    from core.data.prepare import PrepareOptions, SplitOptions, prepare_dataset, save_version
    from core.paths import SAMPLE_MULTILABEL

    run_dir = demo.ensure_demo_model()
    save_version(prepare_dataset(load_dataset(str(SAMPLE_MULTILABEL)),
                                 PrepareOptions(split=SplitOptions(0.7, 0.15, 0.15, 42))), "sample-v1")
    empty = folder / "empty.py"
    empty.write_text("import streamlit as st\nst.write('empty')\n")
    floor = timings(AppTest.from_file(str(empty), default_timeout=120).run(), args.reruns)
    print(f"demo run {run_dir.name}; {args.reruns} reruns per page after a warm-up run; goal median < {GOAL_MS} ms\n")
    print("| page | median ms | p90 ms | ratio to an empty page | goal |\n|---|---|---|---|---|")
    print(f"| (empty page, the baseline) | {statistics.median(floor) * 1000:.0f} | "
          f"{sorted(floor)[int(0.9 * (len(floor) - 1))] * 1000:.0f} | 1.0 | |")
    worst = 0.0
    for page in PAGES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.query_params["run"] = run_dir.name
        if page == "explain":
            at.query_params["text"] = "you are a stupid idiot"
        at.run()
        at.switch_page(f"pages/{page}.py").run()  # the warm-up: caches fill, the model loads
        seconds = timings(at, args.reruns)
        median = statistics.median(seconds) * 1000
        worst = max(worst, median)
        print(f"| {page} | {median:.0f} | {sorted(seconds)[int(0.9 * (len(seconds) - 1))] * 1000:.0f} | "
              f"{median / (statistics.median(floor) * 1000):.1f} | {'yes' if median < GOAL_MS else '**no**'} |")
    print(f"\nslowest page median: {worst:.0f} ms (goal < {GOAL_MS} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
