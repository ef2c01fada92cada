"""The scoring API: `python -m core serve --run RUN` (FastAPI + uvicorn), with dynamic micro-batching (issue 27).

Endpoints: `POST /v1/score` {"texts": [...]} -> per text the probabilities (calibrated where the run has a
calibration), flags at the run's thresholds, token count and truncation (and a multiclass run's `predicted`);
`POST /v1/explain` {"text", "method": "attention" | "ig", "label"?}; `GET /v1/model`; `GET /healthz`;
`GET /metrics` (Prometheus text); OpenAPI docs at `/docs`.

Micro-batching: requests wait in a queue; one worker takes what has arrived (up to `max_batch_texts`, waiting at
most `max_wait_ms` for more) and scores it in one forward pass, so 32 clients sending one comment each cost a few
forward passes, not 32. Forward passes run one at a time, off the event loop.

Limits answer with a reason: a body over `max_body_bytes` or more than `max_texts` texts -> 413, a text longer
than `max_chars` -> 413, malformed JSON -> 400, a body of the wrong shape -> 422. With a token (read from a file by
the CLI, never passed on the command line or logged), every endpoint but /healthz needs `Authorization: Bearer`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
import time
from collections import Counter, defaultdict
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from core import runs
from core.errors import ConfigError, CoreError
from core.evaluation.calibration import describe as describe_calibration
from core.scoring.scorer import Scorer

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class Limits:
    """What one request may hold, and how the batcher gathers requests."""

    max_texts: int = 64
    max_chars: int = 5000
    max_body_bytes: int = 1_000_000
    max_batch_texts: int = 64
    max_wait_ms: float = 5.0


class Metrics:
    """Counters and histograms in the Prometheus text format (no client library needed)."""

    def __init__(self):
        self.requests: Counter = Counter()  # (path, status) -> count
        self.latency: dict[str, list[int]] = defaultdict(lambda: [0] * (len(LATENCY_BUCKETS) + 1))
        self.latency_sum: Counter = Counter()
        self.batches = [0] * (len(BATCH_BUCKETS) + 1)
        self.batch_texts = 0
        self.lock = threading.Lock()

    def request(self, path: str, status: int, seconds: float) -> None:
        with self.lock:
            self.requests[(path, status)] += 1
            self.latency[path][_bucket(seconds, LATENCY_BUCKETS)] += 1
            self.latency_sum[path] += seconds

    def batch(self, size: int) -> None:
        with self.lock:
            self.batches[_bucket(size, BATCH_BUCKETS)] += 1
            self.batch_texts += size

    def render(self) -> str:
        lines = ["# HELP cleanspeech_requests_total Requests by path and status.",
                 "# TYPE cleanspeech_requests_total counter"]
        with self.lock:
            for (path, status), count in sorted(self.requests.items()):
                lines.append(f'cleanspeech_requests_total{{path="{path}",status="{status}"}} {count}')
            errors = sum(c for (_, status), c in self.requests.items() if status >= 400)
            lines += ["# TYPE cleanspeech_errors_total counter", f"cleanspeech_errors_total {errors}",
                      "# TYPE cleanspeech_request_seconds histogram"]
            for path, counts in sorted(self.latency.items()):
                lines += _histogram("cleanspeech_request_seconds", counts, LATENCY_BUCKETS, self.latency_sum[path],
                                    f'path="{path}",')
            lines.append("# TYPE cleanspeech_batch_texts histogram")
            lines += _histogram("cleanspeech_batch_texts", self.batches, BATCH_BUCKETS, self.batch_texts, "")
        return "\n".join(lines) + "\n"


def _bucket(value: float, bounds: tuple) -> int:
    return next((i for i, bound in enumerate(bounds) if value <= bound), len(bounds))


def _histogram(name: str, counts: list[int], bounds: tuple, total: float, labels: str) -> list[str]:
    lines, running = [], 0
    for bound, count in zip([*bounds, "+Inf"], counts):
        running += count
        lines.append(f'{name}_bucket{{{labels}le="{bound}"}} {running}')
    return lines + [f"{name}_sum{{{labels.rstrip(',')}}} {total}", f"{name}_count{{{labels.rstrip(',')}}} {running}"]


class MicroBatcher:
    """Gathers concurrent score requests into one forward pass (at most `max_batch_texts` texts, waiting at most
    `max_wait_ms` after the first), scored off the event loop one batch at a time."""

    def __init__(self, score, limits: Limits, metrics: Metrics):
        self.score, self.limits, self.metrics = score, limits, metrics
        self.queue: asyncio.Queue = asyncio.Queue()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Finish what is queued, then stop (graceful shutdown)."""
        await self.queue.join()
        if self.task:
            self.task.cancel()

    async def submit(self, texts: list[str]) -> list[dict]:
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((texts, future))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            items = [await self.queue.get()]
            size = len(items[0][0])
            deadline = loop.time() + self.limits.max_wait_ms / 1000
            while size < self.limits.max_batch_texts:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self.queue.get(), left)
                except asyncio.TimeoutError:
                    break
                items.append(item)
                size += len(item[0])
            texts = [text for batch, _ in items for text in batch]
            try:
                results = await loop.run_in_executor(None, self.score, texts)
                self.metrics.batch(len(texts))
                start = 0
                for batch, future in items:
                    if not future.done():
                        future.set_result(results[start:start + len(batch)])
                    start += len(batch)
            except Exception as error:  # the requests of this batch get the error; the server keeps serving
                for _, future in items:
                    if not future.done():
                        future.set_exception(error)
            finally:
                for _ in items:
                    self.queue.task_done()


def _result_dict(result) -> dict:
    found = asdict(result)
    if found.get("predicted") is None:
        found.pop("predicted", None)
    return found


def card_summary(run_dir: Path) -> str:
    """The model card's first paragraph after its title."""
    card = run_dir / runs.CARD
    if not card.exists():
        return ""
    paragraphs = [p.strip() for p in card.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return next((p.replace("\n", " ") for p in paragraphs if not p.startswith("#")), "")


def create_app(run_dir: str | Path, token: str | None = None, limits: Limits | None = None,
               backend: str | None = None, batching: bool = True):
    """The FastAPI app serving one run. `batching=False`: one forward pass per request (the benchmark's baseline).

    Raises:
        ModelNotAvailable / ConfigError: the run cannot be loaded with `backend`.
    """
    run_dir = Path(run_dir)
    limits = limits or Limits()
    scorer = Scorer.from_run(run_dir, backend=backend)
    metrics = Metrics()
    forward_lock = threading.Lock()
    explainer: dict = {}

    def score(texts: list[str]) -> list[dict]:
        with forward_lock:  # one forward pass at a time, as on one device
            return [_result_dict(r) for r in scorer.score(texts)]

    batcher = MicroBatcher(score, limits, metrics)

    @asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="CleanSpeech Studio scoring API", version="1",
                  description=f"Scores comments with run `{run_dir.name}`.", lifespan=lifespan)

    @app.middleware("http")
    async def count(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        metrics.request(request.url.path, response.status_code, time.perf_counter() - started)
        return response

    def authorised(request: Request) -> None:
        if token is None:
            return
        given = request.headers.get("authorization", "")
        if not (given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())):
            raise HTTPException(401, "missing or wrong bearer token (Authorization: Bearer <token>)",
                                headers={"WWW-Authenticate": "Bearer"})

    async def body_of(request: Request) -> dict:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limits.max_body_bytes:
            raise HTTPException(413, f"the body has {int(length):,} bytes; the limit is {limits.max_body_bytes:,}")
        raw = await request.body()
        if len(raw) > limits.max_body_bytes:
            raise HTTPException(413, f"the body has {len(raw):,} bytes; the limit is {limits.max_body_bytes:,}")
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise HTTPException(400, f"the body is not valid JSON: {error}") from None
        if not isinstance(body, dict):
            raise HTTPException(422, f"the body must be a JSON object, not {type(body).__name__}")
        return body

    def texts_of(body: dict) -> list[str]:
        texts = body.get("texts")
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise HTTPException(422, 'give "texts": a list of strings, e.g. {"texts": ["first comment"]}')
        if not texts:
            raise HTTPException(422, '"texts" is empty: give at least one text')
        if len(texts) > limits.max_texts:
            raise HTTPException(413, f"{len(texts)} texts in one request; the limit is {limits.max_texts}")
        longest = max(len(t) for t in texts)
        if longest > limits.max_chars:
            raise HTTPException(413, f"a text has {longest:,} characters; the limit is {limits.max_chars:,}")
        return texts

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        return JSONResponse({"error": error.detail}, status_code=error.status_code, headers=error.headers)

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok", "run": run_dir.name}

    @app.get("/v1/model", dependencies=[Depends(authorised)])
    async def model() -> dict:
        return {"run": run_dir.name, "model_kind": scorer.model_kind, "task": scorer.task, "labels": scorer.labels,
                "thresholds": scorer.thresholds, "score_thresholds": scorer.score_thresholds,
                "backend": scorer.backend, "calibration": (scorer.calibration or {}).get("method"),
                "calibration_note": describe_calibration(scorer.calibration),
                "normalize": scorer.normalize, "max_length": scorer.max_length, "card": card_summary(run_dir),
                "limits": asdict(limits), "batching": batching}

    score_schema = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["texts"],
        "properties": {"texts": {"type": "array", "items": {"type": "string"}, "maxItems": limits.max_texts}}}}}}}

    @app.post("/v1/score", dependencies=[Depends(authorised)], openapi_extra=score_schema)
    async def score_texts(request: Request) -> dict:
        texts = texts_of(await body_of(request))
        if batching:
            results = await batcher.submit(texts)
        else:
            results = await asyncio.get_running_loop().run_in_executor(None, score, texts)
            metrics.batch(len(texts))
        return {"run": run_dir.name, "results": results}

    explain_schema = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["text"],
        "properties": {"text": {"type": "string"}, "method": {"type": "string", "enum": ["attention", "ig"]},
                       "label": {"type": "string"}}}}}}}

    @app.post("/v1/explain", dependencies=[Depends(authorised)], openapi_extra=explain_schema)
    async def explain_text(request: Request) -> dict:
        from core.explain import explain

        body = await body_of(request)
        text, method = body.get("text"), body.get("method", "attention")
        if not isinstance(text, str) or not text.strip():
            raise HTTPException(422, 'give "text": one non-empty string')
        if len(text) > limits.max_chars:
            raise HTTPException(413, f"the text has {len(text):,} characters; the limit is {limits.max_chars:,}")
        allowed = ("linear",) if scorer.model_kind == "tfidf" else ("attention", "ig")
        if method not in allowed:
            raise HTTPException(422, f'"method" must be one of {list(allowed)}, not {method!r}')

        def run() -> dict:
            if "scorer" not in explainer:  # gradients and attention need the fp32 PyTorch model
                explainer["scorer"] = Scorer.from_run(run_dir, backend="exact")
            with forward_lock:
                return explain(explainer["scorer"], text, method, label=body.get("label")).to_dict()

        try:
            return await asyncio.get_running_loop().run_in_executor(None, run)
        except CoreError as error:
            raise HTTPException(422, str(error)) from None

    @app.get("/metrics", dependencies=[Depends(authorised)])
    async def prometheus() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    return app


def read_token(path: str | None) -> str | None:
    """The bearer token from a file (first line, stripped); None without a file.

    Raises:
        ConfigError: the file is missing or empty.
    """
    if path is None:
        return None
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"token file {str(file)!r} does not exist. Fix: write the token into a file readable "
                          "only by you (chmod 600) and give its path.")
    lines = file.read_text(encoding="utf-8").strip().splitlines()
    token = lines[0].strip() if lines else ""
    if not token:
        raise ConfigError(f"token file {str(file)!r} is empty. Fix: put the token on its first line.")
    return token


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token."""
    if host not in LOCAL_HOSTS and token is None:
        raise ConfigError(f"--host {host} would expose the API beyond this machine without a token. Fix: add "
                          "--token-file FILE, or keep the default --host 127.0.0.1.")


def app_from_env():
    """The app of `python -m core serve` (uvicorn builds it in each worker from these variables; the token file's
    path travels, never the token)."""
    import os

    return create_app(os.environ["CLEANSPEECH_SERVE_RUN"], read_token(os.environ.get("CLEANSPEECH_SERVE_TOKEN_FILE")),
                      backend=os.environ.get("CLEANSPEECH_SERVE_BACKEND") or None,
                      batching=os.environ.get("CLEANSPEECH_SERVE_BATCHING", "1") == "1")


def serve(run_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, token_file: str | None = None,
          workers: int = 1, backend: str | None = None, batching: bool = True) -> None:
    """Run the API with uvicorn until interrupted (SIGINT/SIGTERM finish the requests in flight).

    Raises:
        ConfigError: a non-local host without a token, a bad token file, or workers < 1.
    """
    import os

    import uvicorn

    token = read_token(token_file)
    check_bind(host, token)
    if workers < 1:
        raise ConfigError(f"--workers {workers}: give 1 or more.")
    runs.check_loadable(Path(run_dir))
    os.environ.update({"CLEANSPEECH_SERVE_RUN": str(Path(run_dir).resolve()),
                       "CLEANSPEECH_SERVE_BATCHING": "1" if batching else "0"})
    if token_file:
        os.environ["CLEANSPEECH_SERVE_TOKEN_FILE"] = str(Path(token_file).resolve())
    if backend:
        os.environ["CLEANSPEECH_SERVE_BACKEND"] = backend
    uvicorn.run("core.serve:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="info", timeout_graceful_shutdown=30)
