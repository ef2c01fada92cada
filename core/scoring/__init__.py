"""Scoring texts with a saved run: the `Scorer`, its backends, the first-token shortcut, batch files.

- `scorer`: `Scorer.from_run(run_dir, backend=...)`, batches by token budget, checks a run on load;
- `backends`: the registry of backends (exact, onnx, int8, bf16) that the page and the CLI read;
- `onnx`, `int8`, `bf16`: one module per backend that changes how the model runs;
- `first_token`: the last layer for the [CLS] token only, for BERT-family classifiers;
- `batch`: scoring a CSV/TSV/JSONL/Parquet file in chunks into a scored CSV or JSONL file.
"""

from core.scoring.scorer import ScoreResult, Scorer, save_backend, saved_backend

__all__ = ["ScoreResult", "Scorer", "save_backend", "saved_backend"]
