"""Benchmark (issue 27): the scoring API with micro-batching against the same server with one forward per request.

Starts `python -m core serve --run RUN` twice on a free local port (`--no-batching` the second time), and for each
runs 32 concurrent clients, each sending one comment of ../shared/data/jigsaw/test.csv (else the bundled sample) per
request, back to back, for `--seconds` (default 120). Prints requests/s, p50 and p99 latency, errors, and the ratio
(goal: batching >= 3x). Then, for the batching server, 32 clients paced to half of its measured peak rate, with the
latency at that load.

Run: .venv/bin/python bench/serve_throughput.py [RUN] [--seconds 120]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

from _common import JIGSAW_TEST, ROOT, run_from_args  # noqa: E402  (puts the project on sys.path)

CLIENTS = 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(run, batching: bool):
    port = free_port()
    command = [sys.executable, "-m", "core", "serve", "--run", str(run), "--port", str(port)]
    process = subprocess.Popen(command + ([] if batching else ["--no-batching"]), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    sys.exit("the server did not start")


def load(url: str, texts: list[str], seconds: float, rate: float | None = None) -> dict:
    """CLIENTS threads, each posting one text per request until time is up (paced to `rate` req/s in all)."""
    import httpx

    latencies, errors, lock = [], [0], threading.Lock()
    stop = time.perf_counter() + seconds

    def client(number: int) -> None:
        with httpx.Client(timeout=60) as http:
            i, gap = number, (CLIENTS / rate if rate else 0.0)
            next_at = time.perf_counter()
            while time.perf_counter() < stop:
                if gap:
                    time.sleep(max(0.0, next_at - time.perf_counter()))
                    next_at += gap
                started = time.perf_counter()
                try:
                    answer = http.post(f"{url}/v1/score", json={"texts": [texts[i % len(texts)]]})
                    ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                with lock:
                    latencies.append(time.perf_counter() - started) if ok else None
                    errors[0] += 0 if ok else 1
                i += CLIENTS

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return {"requests_per_s": len(latencies) / elapsed, "p50_ms": 1000 * statistics.median(ordered),
            "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))], "errors": errors[0], "requests": len(latencies)}


def main(argv: list[str]) -> int:
    import pandas as pd

    from core.paths import SAMPLE_MULTILABEL

    parser = argparse.ArgumentParser()
    parser.add_argument("run", nargs="?")
    parser.add_argument("--seconds", type=float, default=120)
    args = parser.parse_args(argv)
    run = run_from_args([args.run] if args.run else [])
    source = JIGSAW_TEST if JIGSAW_TEST.exists() else SAMPLE_MULTILABEL
    texts = [t for t in pd.read_csv(source)["comment_text"].astype(str).tolist() if len(t) <= 5000]
    found = {}
    for name, batching in (("micro-batching", True), ("one forward per request", False)):
        process, url = start(run, batching)
        try:
            found[name] = load(url, texts, args.seconds)
            if batching:
                half = found[name]["requests_per_s"] / 2
                found["micro-batching at 50% of its peak"] = load(url, texts, min(args.seconds, 60), rate=half)
        finally:
            process.terminate()
            process.wait(timeout=60)
    print(f"run {run.name}, {CLIENTS} clients, one comment of {source.name} per request, {args.seconds:.0f} s each")
    print("\n| server | requests/s | p50 ms | p99 ms | errors | requests |\n|---|---|---|---|---|---|")
    for name, row in found.items():
        print(f"| {name} | {row['requests_per_s']:.1f} | {row['p50_ms']:.0f} | {row['p99_ms']:.0f} | {row['errors']} "
              f"| {row['requests']} |")
    ratio = found["micro-batching"]["requests_per_s"] / found["one forward per request"]["requests_per_s"]
    print(f"\nmicro-batching / one forward per request: {ratio:.2f}x (goal >= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
