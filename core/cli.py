"""Command line: `python -m core {data,train,score,explain,...,audit,export,serve,models,runs}` (see --help).

Every bad input ends with one clear line on stderr and exit code 2, never a traceback; results are
JSON on stdout so that scripts can consume them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from pathlib import Path

from core import jobs, review_recipe, runs
from core.config import TrainConfig
from core.data import (KINDS, BalanceOptions, CleanOptions, PrepareOptions, SplitOptions, data_report, drop_duplicates,
                       find_duplicates, load_dataset, prepare_dataset, read_table, write_version)
from core.errors import ConfigError, CoreError, DataError, JobError
from core.evaluate import evaluate_run
from core.evaluation.versus import baseline_comparison
from core.explain import explain
from core.fileio import to_json, write_text_atomic
from core.models.catalog import CATALOG, load_tokenizer
from core.models.embedding import embed
from core.rewrite import rewrite
from core.runs import list_runs, run_path
from core.scoring import backends
from core.scoring.batch import score_file
from core.scoring.scorer import Scorer
from core.search import SearchIndex, base_model, corpus_texts, run_model

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that prints one line (not the whole usage) on a bad argument."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"error: {message} (see `{self.prog} --help`)\n")


def _columns(pairs: list[str] | None) -> dict[str, str]:
    mapping = {}
    for pair in pairs or []:
        role, sep, column = pair.partition("=")
        if not sep or not role or not column:
            raise ConfigError(f"--columns expects ROLE=COLUMN, got {pair!r}. Fix: e.g. --columns question=q")
        mapping[role] = column
    return mapping


def _add_dataset_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="CSV, TSV, JSONL or Parquet file")
    parser.add_argument("--kind", choices=KINDS, help="dataset kind (inferred when omitted)")
    parser.add_argument("--text-col", help="text column (multilabel/multiclass)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--label-cols", nargs="+", metavar="COL", help="0/1 label columns (multilabel)")
    group.add_argument("--label-col", help="class column (multiclass)")
    parser.add_argument("--class-names", nargs="+", metavar="NAME", help="names of classes 0..K-1")
    parser.add_argument("--columns", nargs="+", metavar="ROLE=COL", help="pairs/triplets/qa columns")
    parser.add_argument("--delimiter", help="CSV delimiter (default ',' or tab for .tsv)")
    parser.add_argument("--drop-empty", action="store_true", help="drop rows with empty texts instead of failing")
    parser.add_argument("--max-size-mb", type=float, default=500.0, help="refuse larger files (default 500)")
    parser.add_argument("--tokenizer", help="base model whose tokenizer counts tokens (e.g. minilm)")


def _load(args):
    dataset = load_dataset(args.path, kind=args.kind, text_col=args.text_col, label_cols=args.label_cols,
                           label_col=args.label_col, class_names=args.class_names, columns=_columns(args.columns),
                           drop_empty=args.drop_empty, delimiter=args.delimiter,
                           max_bytes=int(args.max_size_mb * 2**20))
    for warning in dataset.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    tokenizer = None
    if args.tokenizer:
        tokenizer = load_tokenizer(args.tokenizer)
    return dataset, tokenizer


def cmd_data_inspect(args) -> int:
    dataset, tokenizer = _load(args)
    steps = {}
    if args.duplicates:
        steps["dedup"] = drop_duplicates(dataset, find_duplicates(dataset, args.near_threshold))[1]
    print(to_json(data_report(dataset, tokenizer=tokenizer, steps=steps)))
    return 0


def cmd_data_prepare(args) -> int:
    dataset, tokenizer = _load(args)
    balance = None
    if args.downsample_majority < 1 or args.oversample:
        balance = BalanceOptions(downsample_majority=args.downsample_majority, oversample=args.oversample,
                                 oversample_ratio=args.oversample_ratio, seed=args.seed)
    options = PrepareOptions(clean=None if args.no_clean else CleanOptions(), dedup=args.dedup,
                             near_threshold=args.near_threshold,
                             split=SplitOptions(args.train, args.val, args.test, args.seed), balance=balance,
                             drop_labels=args.drop_labels or [])
    prepared = prepare_dataset(dataset, options, tokenizer=tokenizer,
                               progress=lambda f, m: print(f"[{f:4.0%}] {m}", file=sys.stderr))
    folder = write_version(prepared, Path(args.out))
    print(to_json({"out": str(folder), "rows": prepared.report["split_rows"],
                   "dropped": prepared.report["dropped"]}))
    return 0


def cmd_data_issues(args) -> int:
    from core.review.decisions import version_rows
    from core.review.label_issues import find_label_issues, issue_rows

    folder = Path(args.path) if Path(args.path).is_dir() else None
    if args.status and folder is None:
        raise ConfigError("--status writes the ranking's progress into a dataset version folder; "
                          f"{args.path} is a file. Fix: drop --status, or rank a saved version.")
    if folder is not None:  # a dataset version: all its splits, ids like train:12
        dataset, ids, _ = version_rows(folder)
    else:
        dataset, _ = _load(args)
        ids = None

    def progress(fraction: float, message: str) -> None:
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr)
        if args.status:
            review_recipe.write_status(folder, state="running", fraction=round(fraction, 4), message=message,
                                       pid=os.getpid())

    previous = None
    if args.status:  # a stop from the page (SIGTERM) unwinds normally: temporary fold runs are removed
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        probs, ranker = None, "TF-IDF"
        if args.recipe:
            run_dir = runs.run_path(args.recipe)
            with contextlib.redirect_stdout(sys.stderr):  # the trainer's logs; stdout carries only the JSON
                probs = review_recipe.recipe_out_of_fold_probs(
                    dataset, run_dir, args.folds, args.seed, lambda f, m: progress(0.9 * f, m))
            ranker = f"the recipe of {run_dir.name}"
        issues = find_label_issues(dataset, folds=args.folds, seed=args.seed, probs=probs, ranker=ranker,
                                   progress=progress)
        queue = issue_rows(issues, dataset.frame["text"].astype(str).tolist(), ids)
        if args.out:
            write_text_atomic(Path(args.out), "".join(to_json(row, indent=None) + "\n" for row in queue))
    except SystemExit:
        if args.status:
            review_recipe.write_status(folder, state="stopped", message="Stopped")
        raise
    except Exception as exc:
        if args.status:
            review_recipe.write_status(folder, state="failed", error=str(exc) if isinstance(exc, CoreError)
                                       else f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if previous is not None:  # called in-process (tests, embedding): leave the caller's handler as it was
            signal.signal(signal.SIGTERM, previous)
    counts = {kind: sum(kind in row["types"] for row in queue) for kind in ("label", "conflict", "outlier")}
    summary = {"rows": len(dataset.frame), "rows_with_issues": len(queue), "issues": counts,
               "suspect_labels": issues.suspect_counts(), "ranker": issues.ranker,
               "folds": issues.folds, "seconds": issues.seconds, "out": args.out}
    if args.status:
        review_recipe.write_status(folder, state="succeeded", fraction=1.0, error=None,
                                   message=f"Ranked {len(dataset.frame):,} rows with {ranker}: "
                                           f"{len(queue):,} with issues.")
    print(to_json({**summary, "top": queue[:args.top]}))
    return 0


_TRAIN_FLAGS = {"data": str, "base_model": str, "task": str, "model_kind": str, "epochs": float, "max_steps": int,
                "batch_size": int, "learning_rate": float, "max_length": int, "eval_steps": int, "seed": int,
                "run_name": str, "text_col": str, "label_col": str, "num_processes": int, "precision": str,
                "loss": str, "max_pairs": int, "knn_k": int, "pooling": str, "val_fraction": float,
                "test_fraction": float, "downsample_majority": float, "oversample_ratio": float, "n_clusters": int,
                "normalize": str, "calibration": str, "report_to": str, "class_weighting": str, "soft_labels": float,
                "ensemble": str}
_TRAIN_SWITCHES = {"oversample": ("oversample", True), "no_clean": ("clean", False),
                   "identity_augmentation": ("identity_augmentation", True),
                   "no_identity_augmentation": ("identity_augmentation", False),
                   "identity_swaps": ("identity_swaps", True)}  # flag -> (config key, value)


def _train_config(args):
    data = TrainConfig.from_json(args.config).to_dict() if args.config else {}
    for name in _TRAIN_FLAGS:
        value = getattr(args, name)
        if value is not None:
            data[name] = value
    for flag, (key, value) in _TRAIN_SWITCHES.items():
        if getattr(args, flag):
            data[key] = value
    if args.label_cols:
        data["label_cols"] = args.label_cols
    return TrainConfig.from_dict(data)


def cmd_train(args) -> int:
    if args.resume:
        run_dir = runs.run_path(args.resume)
        state = runs.read_status(run_dir).get("state")
        if state not in ("stopped", "failed"):
            # a succeeded run would retrain and overwrite its thresholds (perhaps tuned on the Evaluate page)
            raise JobError(f"run {run_dir.name!r} is {state}; only stopped, failed or killed runs resume. "
                           "Fix: to train again, start a new run with its config "
                           f"(`python -m core train --config {run_dir / runs.CONFIG}`).")
    else:
        run_dir = jobs.create_run(_train_config(args), detach=args.detach)
    if args.detach:
        process = jobs.launch(run_dir, resume=bool(args.resume))
        print(f"launched pid {process.pid}; log: {run_dir / runs.LOG}", file=sys.stderr)
        print(run_dir)
        return 0
    from core.training.job import run_job  # loads torch and transformers: only for a foreground run

    state = run_job(run_dir, resume=bool(args.resume))
    status = runs.read_status(run_dir)
    if state == "failed":
        if status.get("input_error"):  # the job already printed its one `error:` line
            return EXIT_USAGE
        print(f"error: training failed: {status.get('error')}", file=sys.stderr)
    print(run_dir)
    return 0 if state in ("succeeded", "stopped") else 1


def cmd_score(args) -> int:
    scorer = Scorer.from_run(run_path(args.run), backend=args.backend, calibrated=not args.raw)
    if args.file:
        return _score_file(scorer, args)
    texts = args.text or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise ConfigError("no text to score. Fix: pass TEXT arguments, pipe lines on stdin, or give --file.")
    print(to_json([result.to_dict() for result in scorer.score(texts)]))
    return 0


def _score_file(scorer, args) -> int:
    source = Path(args.file)
    if not source.is_file():
        raise DataError(f"{args.file!r} is not a file. Fix: check the path.")
    dest = Path(args.out or source.with_name(f"{source.stem}-scored.csv"))
    bar = _ProgressBar()
    try:
        result = score_file(scorer, source, source.name, args.text_col, dest, progress=bar)
    finally:
        bar.close()  # ends the bar's line, so an error message starts on a line of its own
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{result.rows} rows ({result.flagged_rows} flagged, {result.truncated_rows} truncated) in "
          f"{result.seconds:.1f} s", file=sys.stderr)
    print(dest)
    return 0


class _ProgressBar:
    """progress(done, total) callback drawing a tqdm bar on stderr."""

    def __init__(self):
        from tqdm import tqdm

        self.bar = tqdm(total=0, unit="rows", file=sys.stderr)

    def __call__(self, done: int, total: int) -> None:
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def cmd_explain(args) -> int:
    text = " ".join(args.text) if args.text else sys.stdin.read().strip()
    options = {}
    for item in args.option or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--option {item!r} is not NAME=VALUE. Fix: e.g. --option n_steps=100.")
        options[name] = value
    scorer = Scorer.from_run(run_path(args.run), backend="exact")
    attribution = explain(scorer, text, args.method, label=args.label, seed=args.seed, **options)
    result = attribution.to_dict()
    result["word_attributions"] = [{"word": w, "score": s} for w, s in zip(result.pop("words"),
                                                                         result.pop("word_scores"))]
    print(to_json(result))
    return 0


def cmd_embed(args) -> int:
    texts = list(args.text) or [line for line in sys.stdin.read().splitlines() if line.strip()]
    if not texts:
        raise ConfigError("no texts to embed. Fix: pass texts as arguments or lines on stdin.")
    run_dir = run_path(args.run)
    model = base_model(run_dir) if args.base else run_model(run_dir)
    vectors = embed(model, texts)
    print(to_json({"run": run_dir.name, "model": "base" if args.base else "fine-tuned",
                   "dimension": int(vectors.shape[1]), "normalized": True,
                   "vectors": [[round(float(v), 6) for v in row] for row in vectors]}))
    return 0


def cmd_search(args) -> int:
    run_dir = run_path(args.run)
    texts = corpus_texts(read_table(args.corpus).frame, args.column)
    result = {"run": run_dir.name, "query": args.query, "corpus_rows": len(texts)}
    for name, loader in (("fine_tuned", run_model), ("base", base_model)):
        if name == "base" and not args.compare_base:
            continue
        model = loader(run_dir)
        index = SearchIndex.build(model, texts)
        result[name] = [hit.to_dict() for hit in index.search(model, args.query, args.top_k)]
        result["index"] = index.backend
    print(to_json(result))
    return 0


def cmd_rewrite(args) -> int:
    text = " ".join(args.text) if args.text else sys.stdin.read().strip()
    scorer = Scorer.from_run(run_path(args.run), backend="exact")
    candidates = rewrite(scorer, text, args.backend, args.candidates, args.min_similarity, model=args.model)
    print(to_json({"text": text, "backend": args.backend, "thresholds": scorer.score_thresholds,
                   "candidates": [c.to_dict() for c in candidates]}))
    return 0


def cmd_evaluate(args) -> int:
    print(to_json(evaluate_run(run_path(args.run), args.data, compare_base=args.compare_base,
                               backend=args.backend)))
    return 0


def cmd_audit(args) -> int:
    from core.audit import audit_run

    if args.sample < 20:
        raise ConfigError(f"--sample {args.sample} is too small: the perturbation suite needs at least 20 texts. "
                          "Fix: use --sample 600 (the default) or more.")
    print(to_json(audit_run(run_path(args.run), args.data, args.label, robustness=not args.no_robustness,
                            sample=args.sample, seed=args.seed)))
    return 0


def parse_shares(text: str) -> dict[str, float]:
    """"toxic=0.1,insult=0.05" -> {"toxic": 0.1, "insult": 0.05}."""
    shares = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        label, _, value = item.partition("=")
        try:
            shares[label.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--prevalence {item!r} is not LABEL=SHARE. Fix: e.g. --prevalence toxic=0.1,insult=0.05"
                              ) from None
    if not shares:
        raise ConfigError(f"--prevalence {text!r} names no label. Fix: e.g. --prevalence toxic=0.1, or --reset.")
    return shares


def cmd_calibrate(args) -> int:
    from core.recalibrate import calibrate_on_data, reset_calibration, set_prevalence

    if sum(map(bool, (args.prevalence, args.reset, args.data))) != 1:
        raise ConfigError("give one of --data FILE (labelled rows of the traffic the run will score: the maps are "
                          "refitted on them), --prevalence LABEL=SHARE,... (the label shares of that traffic) or "
                          "--reset (back to the validation split's maps).")
    if args.method and not args.data:
        raise ConfigError("--method goes with --data (the method of the maps refitted on your file).")
    run = run_path(args.run)
    if args.data:
        bars = []  # drawn from the first scored chunk: a refused file prints its one error line alone

        def progress(done: int, total: int) -> None:
            if not bars:
                bars.append(_ProgressBar())
            bars[0](done, total)

        try:
            found = calibrate_on_data(run, args.data, args.method, progress=progress)
        finally:
            for bar in bars:
                bar.close()
    elif args.reset:
        found = reset_calibration(run)
    else:
        found = set_prevalence(run, parse_shares(args.prevalence))
    print(to_json(found))
    return 0


def cmd_export(args) -> int:
    from core.export import export_run

    folder = export_run(run_path(args.run), args.out, overwrite=args.overwrite)
    print(to_json({"out": str(folder), "files": sorted(p.name for p in folder.iterdir()),
                   "usage": f"python {folder / 'score.py'} \"some comment\""}))
    return 0


def cmd_serve(args) -> int:
    from core.serve import serve

    serve(run_path(args.run), host=args.host, port=args.port, token_file=args.token_file, workers=args.workers,
          backend=args.backend, batching=not args.no_batching)
    return 0


def cmd_models(args) -> int:
    from dataclasses import asdict

    print(to_json([asdict(entry) for entry in CATALOG]))
    return 0


def _worse_than_baseline(info) -> list | None:
    """Where a run loses to its own TF-IDF baseline (label, metric, gap), [] if nowhere, None if it has none."""
    comparison = baseline_comparison(info.metrics or {})
    return None if comparison is None else comparison["worse"]


def cmd_runs(args) -> int:
    print(to_json([{"name": r.name, "state": r.state, "model_kind": r.model_kind, "base_model": r.base_model,
                    "path": str(r.path), "worse_than_tfidf": _worse_than_baseline(r)} for r in list_runs()]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    backend_help = "; ".join(f"{name}: {text}" for name, text in backends.describe().items())

    parser = _Parser(prog="python -m core", description="CleanSpeech Studio, headless.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    data = sub.add_parser("data", help="inspect and prepare datasets")
    data_sub = data.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    inspect = data_sub.add_parser("inspect", help="print the data report as JSON")
    _add_dataset_args(inspect)
    inspect.add_argument("--duplicates", action="store_true", help="also count exact/near duplicates")
    inspect.add_argument("--near-threshold", type=float, default=0.9)
    inspect.set_defaults(func=cmd_data_inspect)

    prepare = data_sub.add_parser("prepare", help="clean, de-duplicate, split and balance; write a version")
    _add_dataset_args(prepare)
    prepare.add_argument("--out", required=True, help="output folder for train/val/test + report.json")
    prepare.add_argument("--no-clean", action="store_true", help="skip URL/mention/entity/whitespace cleaning")
    prepare.add_argument("--dedup", choices=("near", "exact", "none"), default="near")
    prepare.add_argument("--near-threshold", type=float, default=0.9, help="TF-IDF cosine for near duplicates")
    prepare.add_argument("--train", type=float, default=0.7)
    prepare.add_argument("--val", type=float, default=0.15)
    prepare.add_argument("--test", type=float, default=0.15)
    prepare.add_argument("--seed", type=int, default=42)
    prepare.add_argument("--downsample-majority", "--reduce-majority-to", type=float, default=1.0,
                         help="keep this fraction of majority (clean) training rows")
    prepare.add_argument("--oversample", action="store_true", help="repeat minority training rows")
    prepare.add_argument("--oversample-ratio", type=float, default=0.5)
    prepare.add_argument("--drop-labels", nargs="+", metavar="LABEL")
    prepare.set_defaults(func=cmd_data_prepare)

    issues = data_sub.add_parser("issues", help="rank likely label errors (out-of-fold TF-IDF + cleanlab); JSON")
    _add_dataset_args(issues)
    issues.add_argument("--folds", type=int, default=5, help="cross-fitting folds (default 5)")
    issues.add_argument("--seed", type=int, default=42)
    issues.add_argument("--out", help="write the whole review queue here as JSON lines, worst first")
    issues.add_argument("--top", type=int, default=20, help="rows of the queue to print (default 20)")
    issues.add_argument("--recipe", metavar="RUN", help="cross-fit this run's recipe instead of TF-IDF (k trainings: "
                                                        "about k times the run's training time)")
    issues.add_argument("--status", action="store_true",
                        help="write progress to the version folder's .ranking.json (the Data page reads it)")
    issues.set_defaults(func=cmd_data_issues)

    train = sub.add_parser("train", help="train a model (foreground with a progress bar, or --detach)")
    train.add_argument("--config", help="TrainConfig JSON file (flags override its values)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped/failed/killed run from its checkpoint")
    train.add_argument("--detach", action="store_true", help="launch as a background job and return")
    for name, kind in _TRAIN_FLAGS.items():
        train.add_argument(f"--{name.replace('_', '-')}", type=kind, default=None)
    train.add_argument("--label-cols", nargs="+", default=None)
    train.add_argument("--oversample", action="store_true", help="repeat minority training rows")
    train.add_argument("--no-clean", action="store_true", help="skip URL/mention/entity/whitespace cleaning")
    train.add_argument("--identity-augmentation", action="store_true",
                       help="add non-toxic sentences naming identities to the training split (the default)")
    train.add_argument("--no-identity-augmentation", action="store_true",
                       help="train without the non-toxic identity sentences")
    train.add_argument("--identity-swaps", action="store_true",
                       help="add copies of training texts with their identity terms swapped")
    train.set_defaults(func=cmd_train)

    score = sub.add_parser("score", help="score texts with a run; JSON per text")
    score.add_argument("--run", required=True, help="run folder name or path (inside the models folder)")
    score.add_argument("text", nargs="*", help="texts (or lines on stdin)")
    score.add_argument("--backend", choices=backends.names(),
                       help=f"scoring backend (default: the run's saved one, else auto). {backend_help}")
    score.add_argument("--file", help="score a CSV/TSV/JSONL/Parquet file in chunks instead of texts")
    score.add_argument("--text-col", default="text", help="the file's text column (default: text)")
    score.add_argument("--out", help="output file (.csv or .jsonl; default: <file>-scored.csv beside it)")
    score.add_argument("--raw", action="store_true",
                       help="report the model's uncalibrated scores (default: calibrated when the run has "
                            "calibration.json; flags are the same either way)")
    score.set_defaults(func=cmd_score)

    explain = sub.add_parser("explain", help="explain a text's score for one label; JSON words and scores")
    explain.add_argument("--run", required=True, help="run folder name or path (inside the models folder)")
    explain.add_argument("--method", required=True, choices=("shap", "ig", "attention", "rollout", "linear"))
    explain.add_argument("--label", help="label to explain (default: the highest-scoring one)")
    explain.add_argument("--option", action="append", metavar="NAME=VALUE",
                         help="method option, e.g. max_evals=500 or n_steps=100 (repeatable)")
    explain.add_argument("--seed", type=int, default=0)
    explain.add_argument("text", nargs="*", help="the text (or stdin)")
    explain.set_defaults(func=cmd_explain)

    rewrite = sub.add_parser("rewrite", help="civil rewrites of a text, each verified by the run; JSON")
    rewrite.add_argument("--run", required=True, help="run folder name or path (inside the models folder)")
    rewrite.add_argument("--backend", choices=("local", "gemini"), default="local",
                         help="local (offline, default) or gemini (needs GEMINI_API_KEY)")
    rewrite.add_argument("--candidates", type=int, default=3, help="Gemini candidates (1-8)")
    rewrite.add_argument("--min-similarity", type=float, default=0.6, help="meaning similarity floor (cosine)")
    rewrite.add_argument("--model", help="Gemini model name (default: a current Flash model)")
    rewrite.add_argument("text", nargs="*", help="the text (or stdin)")
    rewrite.set_defaults(func=cmd_rewrite)

    embed = sub.add_parser("embed", help="sentence embeddings of texts with an SBERT run; JSON vectors")
    embed.add_argument("--run", required=True, help="SBERT run folder name or path (inside the models folder)")
    embed.add_argument("--base", action="store_true", help="use the run's base model instead of the fine-tuned one")
    embed.add_argument("text", nargs="*", help="texts (or lines on stdin)")
    embed.set_defaults(func=cmd_embed)

    search = sub.add_parser("search", help="semantic search of a corpus column with an SBERT run; JSON hits")
    search.add_argument("--run", required=True, help="SBERT run folder name or path (inside the models folder)")
    search.add_argument("--corpus", required=True, help="CSV/TSV/JSONL/Parquet file to index")
    search.add_argument("--column", required=True, help="the corpus column holding the texts")
    search.add_argument("--query", required=True)
    search.add_argument("--top-k", type=int, default=5)
    search.add_argument("--compare-base", action="store_true", help="also search with the run's base model")
    search.set_defaults(func=cmd_search)

    evaluate = sub.add_parser("evaluate", help="metrics of a run on a labelled file or dataset version; JSON")
    evaluate.add_argument("--run", required=True, help="run folder name or path (inside the models folder)")
    evaluate.add_argument("--data", required=True,
                          help="labelled file, or a dataset version folder (its test split, else validation)")
    evaluate.add_argument("--backend", choices=backends.names(),
                          help=f"scoring backend (default: the run's saved one, else auto). {backend_help}")
    evaluate.add_argument("--compare-base", action="store_true",
                          help="SBERT runs without a head: also the base model's metrics on the same data")
    evaluate.set_defaults(func=cmd_evaluate)

    audit = sub.add_parser("audit", help="identity bias, calibration and robustness of a run; JSON")
    audit.add_argument("--run", required=True, help="run folder name or path (inside the models folder)")
    audit.add_argument("--data", help="a labelled file or dataset version for bias on your own data (identity "
                                      "columns such as `muslim`, `female` in [0, 1], else identity words)")
    audit.add_argument("--label", help="the label the bias AUCs are for (default: toxic, else the first)")
    audit.add_argument("--no-robustness", action="store_true", help="skip the perturbation suite")
    audit.add_argument("--sample", type=int, default=600, help="validation texts the perturbation suite uses")
    audit.add_argument("--seed", type=int, default=0)
    audit.set_defaults(func=cmd_audit)

    calibrate = sub.add_parser("calibrate", help="what a score means on your traffic: calibration refitted on "
                                                 "labelled rows of it, or moved to its label shares; JSON")
    calibrate.add_argument("--run", required=True, help="run folder name or path (inside the models folder)")
    calibrate.add_argument("--data", help="a labelled file of the traffic the run will score (the run's labels): "
                                          "the calibration maps are refitted on it")
    calibrate.add_argument("--method", choices=("platt", "temperature", "isotonic"),
                           help="with --data: the maps' method (default: the run's)")
    calibrate.add_argument("--prevalence", help="LABEL=SHARE,... the share of texts with each label in the traffic "
                                                "the run will score (training data is often enriched in abuse)")
    calibrate.add_argument("--reset", action="store_true", help="back to the maps fitted on the validation split")
    calibrate.set_defaults(func=cmd_calibrate)

    export = sub.add_parser("export", help="a self-contained ONNX bundle of a run (numpy + onnxruntime + tokenizers)")
    export.add_argument("--run", required=True, help="run folder name or path (inside the models folder)")
    export.add_argument("--out", required=True, help="the bundle's folder (must not exist)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing bundle folder")
    export.set_defaults(func=cmd_export)

    serve = sub.add_parser("serve", help="the scoring API (FastAPI + uvicorn) for one run, with micro-batching")
    serve.add_argument("--run", required=True, help="run folder name or path (inside the models folder)")
    serve.add_argument("--host", default="127.0.0.1", help="listen address (others need --token-file)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--token-file", help="a file whose first line is the bearer token clients must send")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (each loads the model)")
    serve.add_argument("--backend", help="scoring backend (default: the run's saved choice; auto = onnx on CPU)")
    serve.add_argument("--no-batching", action="store_true", help="one forward pass per request (for comparison)")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("models", help="list the base-model catalog").set_defaults(func=cmd_models)
    sub.add_parser("runs", help="list training runs").set_defaults(func=cmd_runs)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CoreError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)  # one line, whatever a library said
        return EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C: a one-line goodbye, not a traceback (a training run is saved as stopped)
        print("interrupted", file=sys.stderr)
        return 130
