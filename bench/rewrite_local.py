"""Benchmark: the offline rewriter on 50 toxic comments of ../shared/data/jigsaw/test.csv.

A fine-tuned bundled-MiniLM run (default: the newest succeeded `classifier` run) rewrites the first 50
comments that it flags (with its saved thresholds) and that have at most 60 words; each rewrite is
verified (re-scored + MiniLM similarity, floor 0.6). Prints the acceptance rate, the share that is no
longer flagged, the mean similarity and the mean time per comment.

Run: .venv/bin/python bench/rewrite_local.py [RUN_DIR] [N]
"""

from __future__ import annotations

import statistics
import sys

from _common import JIGSAW_TEST, run_from_args  # noqa: E402  (puts the project on sys.path)

from core.data import load_dataset  # noqa: E402
from core.scoring.scorer import Scorer  # noqa: E402
from core.rewrite.local import rewrite_local  # noqa: E402
from core.rewrite.verify import DEFAULT_MIN_SIMILARITY, verify  # noqa: E402



def main() -> None:
    run_dir = run_from_args(sys.argv[1:2])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    scorer = Scorer.from_run(run_dir, backend="exact")
    test = load_dataset(JIGSAW_TEST).frame
    toxic = [t for t in test.loc[test["toxic"] == 1, "text"].tolist() if len(t.split()) <= 60]
    flagged = [t for t in toxic[:400] if scorer.score([t])[0].flagged][:n]
    results, verdicts = [], []
    for text in flagged:
        edited = rewrite_local(scorer, text)
        results.append(edited)
        verdicts.append(verify(scorer, text, [edited.text], "local", DEFAULT_MIN_SIMILARITY, [edited.changes])[0])
    accepted = sum(v.accepted for v in verdicts)
    cleared = sum(not v.flagged_after for v in verdicts)
    print(f"run {run_dir.name}: {len(flagged)} flagged toxic comments")
    print(f"accepted {accepted}/{len(flagged)} ({accepted / len(flagged):.0%}); no longer flagged "
          f"{cleared}/{len(flagged)} ({cleared / len(flagged):.0%}); mean similarity "
          f"{statistics.mean(v.similarity for v in verdicts):.3f}; mean edits "
          f"{statistics.mean(r.steps for r in results):.1f}; mean time {statistics.mean(r.seconds for r in results):.2f} s")
    for result, verdict in list(zip(results, verdicts))[:3]:
        print(f"  {verdict.accepted!s:5} sim {verdict.similarity:.2f}: {result.text[:100]!r}")


if __name__ == "__main__":
    main()
