"""Benchmark (issue 27): the export bundle against the run, and its cold start against `python -m core score`.

Exports RUN (default: the newest classifier run) to a temporary folder, scores 200 texts of
../shared/data/jigsaw/test.csv (or the bundled sample) with the bundle's `score.py` in a fresh process and with the
run's Scorer, and prints the largest probability difference (goal <= 1e-5). Then times, from process start to the
first result printed, `python score.py "text"` against `python -m core score --run RUN "text"` (3 tries each,
the median).

Run: .venv/bin/python bench/export_bundle.py [RUN]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import JIGSAW_TEST, ROOT, run_from_args  # noqa: E402  (puts the project on sys.path)


def cold_start(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"{command[:4]} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    import pandas as pd

    from core.export import export_run
    from core.paths import SAMPLE_MULTILABEL
    from core.scoring.scorer import Scorer

    run = run_from_args(argv)
    source = JIGSAW_TEST if JIGSAW_TEST.exists() else SAMPLE_MULTILABEL
    texts = pd.read_csv(source)["comment_text"].astype(str).head(200).tolist()
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        bundle = export_run(run, Path(scratch) / "bundle")
        export_seconds = time.perf_counter() - started
        texts_file = Path(scratch) / "texts.txt"
        texts_file.write_text("\n".join(t.replace("\n", " ") for t in texts), encoding="utf-8")
        done = subprocess.run([sys.executable, str(bundle / "score.py"), "--file", str(texts_file)], cwd=scratch,
                              capture_output=True, text=True, timeout=600)
        found = [json.loads(line) for line in done.stdout.splitlines()]
        expected = Scorer.from_run(run, device="cpu", backend="exact").score(
            [t.replace("\n", " ") for t in texts if t.replace("\n", " ").strip()])
        diff = max(abs(f["probabilities"][k] - e.probabilities[k]) for f, e in zip(found, expected)
                   for k in e.probabilities)
        flags = sum(f["flagged"] != e.flagged for f, e in zip(found, expected))
        text = "you are a complete idiot"
        ours = [cold_start([sys.executable, str(bundle / "score.py"), text]) for _ in range(3)]
        core = [cold_start([sys.executable, "-m", "core", "score", "--run", str(run), text]) for _ in range(3)]
        size = sum(p.stat().st_size for p in bundle.iterdir()) / 2**20
    print(f"run {run.name}: export {export_seconds:.1f} s, bundle {size:.0f} MiB")
    print(f"{len(found)} texts of {source.name}: max |p bundle - p run| = {diff:.2e} (goal <= 1e-5), "
          f"{flags} flag differences")
    print(f"cold start to the first result, median of 3: bundle score.py {statistics.median(ours):.2f} s, "
          f"python -m core score {statistics.median(core):.2f} s ({statistics.median(core) / statistics.median(ours):.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
