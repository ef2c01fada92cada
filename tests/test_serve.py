"""The scoring API (issue 27, part 1): scores as the Scorer does, auth, limits, malformed bodies, concurrency with
micro-batching, explain, metrics, and the CLI's refusals."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from core.scoring.scorer import Scorer
from core.serve import Limits, create_app

TEXTS = ["you are a stupid idiot", "thanks for fixing the table", "I will hurt you"]


@pytest.fixture
def client(tfidf_run):
    with TestClient(create_app(tfidf_run, limits=Limits(max_texts=8, max_chars=200, max_body_bytes=4000))) as c:
        yield c


def test_score_matches_the_scorer_and_model_describes_the_run(client, tfidf_run):
    answer = client.post("/v1/score", json={"texts": TEXTS})
    assert answer.status_code == 200
    expected = Scorer.from_run(tfidf_run).score(TEXTS)
    for got, want in zip(answer.json()["results"], expected):
        assert got["text"] == want.text and got["flagged"] == want.flagged
        assert got["probabilities"] == pytest.approx(want.probabilities, abs=1e-6)
        assert got["tokens"] == want.tokens and got["truncated"] == want.truncated
    model = client.get("/v1/model").json()
    assert model["run"] == tfidf_run.name and model["labels"][0] == "toxic" and model["calibration"] == "platt"
    assert model["calibration_note"] == "platt fitted on validation"
    assert client.get("/healthz").json()["status"] == "ok"


@pytest.mark.parametrize("body,status,message", [
    (b'{"texts": ["a", ', 400, "the body is not valid JSON"),
    (b'["a"]', 422, "the body must be a JSON object, not list"),
    (b'{"texts": "just one"}', 422, 'give "texts": a list of strings'),
    (b'{"texts": []}', 422, '"texts" is empty'),
    (json.dumps({"texts": ["x"] * 9}).encode(), 413, "9 texts in one request; the limit is 8"),
    (json.dumps({"texts": ["y" * 201]}).encode(), 413, "a text has 201 characters; the limit is 200"),
    (json.dumps({"texts": ["z" * 150] * 30}).encode(), 413, "bytes; the limit is 4,000"),
])
def test_bad_bodies_get_a_status_and_a_reason(client, body, status, message):
    answer = client.post("/v1/score", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == status and message in answer.json()["error"]


def test_a_token_guards_everything_but_health(tfidf_run):
    with TestClient(create_app(tfidf_run, token="s3cret-token")) as client:
        assert client.post("/v1/score", json={"texts": TEXTS}).status_code == 401
        wrong = client.post("/v1/score", json={"texts": TEXTS}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "bearer token" in wrong.json()["error"]
        assert client.get("/metrics").status_code == 401 and client.get("/v1/model").status_code == 401
        assert client.get("/healthz").status_code == 200
        good = client.post("/v1/score", json={"texts": TEXTS}, headers={"Authorization": "Bearer s3cret-token"})
        assert good.status_code == 200 and len(good.json()["results"]) == 3


def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(tfidf_run):
    texts = [f"comment number {i} says you are an idiot" if i % 2 else f"comment {i}: thanks" for i in range(32)]
    expected = {r.text: r.probabilities for r in Scorer.from_run(tfidf_run).score(texts)}
    with TestClient(create_app(tfidf_run, limits=Limits(max_wait_ms=50))) as client:
        with ThreadPoolExecutor(32) as pool:
            answers = list(pool.map(lambda t: client.post("/v1/score", json={"texts": [t]}), texts))
        assert all(a.status_code == 200 for a in answers)
        for text, answer in zip(texts, answers):
            (result,) = answer.json()["results"]
            assert result["text"] == text and result["probabilities"] == pytest.approx(expected[text], abs=1e-6)
        metrics = client.get("/metrics").text
    batches = int(re.search(r"^cleanspeech_batch_texts_count\{\} (\d+)$", metrics, re.M).group(1))
    assert int(re.search(r"^cleanspeech_batch_texts_sum\{\} (\d+)$", metrics, re.M).group(1)) == 32
    assert batches < 32  # requests shared forward passes
    assert 'cleanspeech_requests_total{path="/v1/score",status="200"} 32' in metrics


def test_explain_endpoint(bert_run, tfidf_run):
    with TestClient(create_app(bert_run)) as client:
        found = client.post("/v1/explain", json={"text": "you are a stupid idiot", "method": "attention"})
        assert found.status_code == 200 and found.json()["words"] == ["you", "are", "a", "stupid", "idiot"]
        assert client.post("/v1/explain", json={"text": "x", "method": "shap"}).status_code == 422
    with TestClient(create_app(tfidf_run)) as client:
        found = client.post("/v1/explain", json={"text": "you idiot", "method": "linear", "label": "insult"})
        assert found.status_code == 200 and found.json()["label"] == "insult"


def test_cli_refuses_an_open_host_without_a_token_and_a_bad_token_file(capsys, tfidf_run, tmp_path):
    from core.cli import main

    assert main(["serve", "--run", tfidf_run.name, "--host", "0.0.0.0"]) == 2
    assert "would expose the API beyond this machine without a token" in capsys.readouterr().err
    assert main(["serve", "--run", tfidf_run.name, "--token-file", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").write_text("\n")
    assert main(["serve", "--run", tfidf_run.name, "--token-file", str(tmp_path / "empty")]) == 2
    assert "is empty" in capsys.readouterr().err


def test_the_cli_server_serves_with_a_token_file_and_stops_gracefully(tfidf_run, tmp_path):
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    from core.paths import PROJECT_ROOT

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token_file = tmp_path / "token"
    token_file.write_text("file-token-123\n")
    process = subprocess.Popen([sys.executable, "-m", "core", "serve", "--run", str(tfidf_run), "--port", str(port),
                                "--token-file", str(token_file)], cwd=PROJECT_ROOT, env=dict(os.environ),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert httpx.post(f"{url}/v1/score", json={"texts": TEXTS}).status_code == 401
        answer = httpx.post(f"{url}/v1/score", json={"texts": TEXTS},
                            headers={"Authorization": "Bearer file-token-123"})
        assert answer.status_code == 200 and len(answer.json()["results"]) == 3
        assert httpx.get(f"{url}/docs").status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0]
    # uvicorn shuts down (lifespan: the batcher drains its queue), then re-raises SIGTERM to exit with it
    assert process.returncode in (0, -signal.SIGTERM), output[-2000:]
    assert "Application shutdown complete" in output and "Finished server process" in output
    assert "file-token-123" not in output  # the token never reaches the log
