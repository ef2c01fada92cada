"""The analyst's journey in a real browser (issue 26), from an empty models folder to a search, in one session:

Data (load the sample, prepare, save a version) -> Train (a TF-IDF run, then a tiny transformer run: its chart
updates, stop, resume) -> Runs (compare both) -> Evaluate (a slider moves the error list; save) -> Score (pasted
text and a file, both downloaded) -> Explain (every method) -> Rewrite (local) -> Search (the SBERT Q&A demo).

Each step saves a screenshot under test-artifacts/journey/ and fails on an exception box or a console error.
It is its own suite (`make test-journey`, about 3 minutes), which .ci/run runs after `make test`.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, launch_app

pytestmark = [pytest.mark.browser, pytest.mark.journey]
SHOTS = ARTIFACTS / "journey"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """A fresh app server (empty models and datasets folders) and a tiny local BERT to fine-tune."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    from tests.models_tiny import build_tiny_bert

    folders = {name: tmp_path_factory.mktemp(name) for name in ("models", "datasets")}
    tiny = build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))
    process, url = launch_app(folders["models"], folders["datasets"])
    yield {"url": url, "tiny": tiny, **folders}
    process.terminate()
    process.wait(timeout=20)


# Streamlit's own frontend, opened on a page's URL (/data), first looks for its server under that path
# (/data/_stcore/health), gets a 404 and falls back to the root: not our code, and harmless.
STREAMLIT_PROBE = re.compile(r"/[\w-]+/_stcore/(health|host-config)$")


class Journey:
    """The browser page plus the checks every step ends with: console errors and failed requests, except
    Streamlit's base-path probe."""

    def __init__(self, page, url: str):
        self.page, self.url, self.console = page, url, []

        def on_console(message) -> None:
            where = message.location.get("url") or ""
            if message.type == "error" and not STREAMLIT_PROBE.search(where):
                self.console.append(f"{message.text} ({where})")

        def on_response(response) -> None:
            if response.status >= 400 and not STREAMLIT_PROBE.search(response.url):
                self.console.append(f"HTTP {response.status}: {response.url}")

        page.on("console", on_console)
        page.on("response", on_response)
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.url}{path}")

    def select(self, label: str, option: str | re.Pattern) -> None:
        """Pick `option` in the Streamlit selectbox labelled `label`."""
        self.page.get_by_label(label).first.click()
        self.page.get_by_role("option", name=option).first.click()

    def step(self, number: int, name: str) -> None:
        """End of a step: no exception box on the page, no console error, a screenshot."""
        self.page.wait_for_timeout(300)
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{number:02d}-{name}.png"), full_page=True)
        exceptions = self.page.get_by_test_id("stException")
        assert exceptions.count() == 0, f"step {name}: {exceptions.first.inner_text()[:2000]}"
        assert not self.console, f"step {name}: console errors {self.console}"


def wait_state(page, run: str, state: str, timeout: float = 240) -> None:
    """Wait until the Train page's monitor says the run is in `state` (it polls every 2 s)."""
    page.get_by_role("heading", name=re.compile(rf"{re.escape(run)}.* — {state}$")).wait_for(timeout=timeout * 1000)


def test_the_analyst_journey(app, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from core import runs

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(60_000)
        journey = Journey(page, app["url"])

        # 1. Data: the bundled sample -> prepare -> save a version
        journey.goto("/data")
        page.get_by_role("button", name="Prepare").click()
        page.get_by_role("button", name="Save version").wait_for(timeout=120_000)
        page.get_by_label("Version name").fill("journey-v1")
        page.get_by_role("button", name="Save version").click()
        page.get_by_text(re.compile(r"Saved .*journey-v1")).first.wait_for()
        assert (app["datasets"] / "journey-v1" / "dataset.json").exists()
        journey.step(1, "data")

        # 2. Train: a TF-IDF run (seconds), then a tiny transformer whose chart updates; stop it and resume it
        journey.goto("/train")
        page.get_by_text("TF-IDF baseline", exact=False).first.click()
        journey.select("Data", re.compile(r"^journey-v1 \(multilabel"))
        page.get_by_label("Run name").fill("journey-tfidf")
        page.get_by_role("button", name="Start training").click()
        wait_state(page, "journey-tfidf", "succeeded")
        journey.goto("/train")
        page.get_by_text("Transformer classifier").first.click()
        journey.select("Base model", re.compile(r"^Other"))
        page.get_by_label("Local folder or Hub id (when 'Other')").fill(str(app["tiny"]))
        journey.select("Data", re.compile(r"^journey-v1 \(multilabel"))
        page.get_by_label("Max steps (0 = use epochs)").fill("3000")
        page.get_by_label("Run name").fill("journey-bert")
        page.get_by_text("Advanced").first.click()
        page.get_by_label("Evaluate every N steps (0 = each epoch)").fill("20")
        page.get_by_label("Max length (0 = auto: 95th percentile, at least 128)").fill("32")
        page.get_by_label("Learning rate (0 = auto)").fill("0.001")
        # no early stopping: the run must still be running when the test stops it
        page.get_by_label("Early-stopping patience (0 = off)").fill("0")
        page.get_by_role("button", name="Start training").click()
        wait_state(page, "journey-bert", "running")
        chart = page.get_by_test_id("stPlotlyChart")
        expect(chart.first).to_be_visible(timeout=120_000)  # the loss chart appears as the first steps log
        first = page.get_by_test_id("stProgress").first.inner_text()
        expect(page.get_by_test_id("stProgress").first).not_to_have_text(first, timeout=30_000)  # it moves
        journey.step(2, "train-running")
        page.get_by_role("button", name="Stop").click()
        wait_state(page, "journey-bert", "stopped")
        bert = next(r for r in runs.list_runs(app["models"]) if r.name.endswith("journey-bert"))
        stopped_at = runs.read_progress(bert.path)[-1]["step"]
        assert stopped_at < 3000
        journey.step(3, "train-stopped")
        page.get_by_role("button", name="Resume").click()
        wait_state(page, "journey-bert", "succeeded", timeout=600)
        assert runs.read_status(bert.path).get("resumed") is True
        page.get_by_text(re.compile(r"^Done\. Test macro ROC-AUC")).wait_for()
        journey.step(4, "train-done")

        # 3. Runs: the two runs side by side
        journey.goto("/runs")
        page.get_by_text("Runs to compare (two or more)").wait_for()
        expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible()
        journey.step(5, "runs")

        # 4. Evaluate: a slider moves the error list with it; save the thresholds
        journey.goto(f"/evaluate?run={bert.name}")
        heading = page.get_by_text(re.compile(r"^Top false positives for")).first
        heading.wait_for(timeout=120_000)
        before = heading.inner_text()
        page.get_by_role("slider").first.focus()
        for _ in range(25):
            page.keyboard.press("ArrowLeft")
        expect(heading).not_to_have_text(before)
        page.get_by_role("button", name="Save thresholds").click()
        page.get_by_text(re.compile(r"^Saved \d+ thresholds")).wait_for()
        journey.step(6, "evaluate")

        # 5. Score: pasted text and a file, both downloaded
        journey.goto(f"/score?run={bert.name}")
        page.get_by_label("Comment(s)").fill("you are a stupid idiot\nthanks for fixing the table")
        page.get_by_text("One comment per line").click()
        page.get_by_role("button", name="Score", exact=True).click()
        with page.expect_download() as pasted:
            page.get_by_role("button", name="Download these scores (CSV)").click()
        assert "you are a stupid idiot" in Path(pasted.value.path()).read_text()
        upload = tmp_path / "comments.csv"
        upload.write_text("id,comment\n1,you are a stupid idiot\n2,thanks for the fix\n3,nice edit\n")
        page.get_by_role("tab", name="Score a file").click()
        page.locator("input[type=file]").set_input_files(str(upload))
        page.get_by_role("button", name="Score file").click()
        page.get_by_text(re.compile(r"rows flagged")).first.wait_for()
        page.get_by_text("The first 3 rows of comments-scored.csv:").wait_for()
        with page.expect_download() as scored:
            page.get_by_role("button", name="Download comments-scored.csv").click()
        assert "p_toxic" in Path(scored.value.path()).read_text().splitlines()[0]
        journey.step(7, "score")

        # 6. Explain: every method the run offers, each column filled
        journey.goto(f"/explain?run={bert.name}")
        page.get_by_label("Comment").fill("you are a stupid idiot")
        page.keyboard.press("Control+Enter")
        # SHAP runs last (fastest first): its additivity check in the caption means every column is done
        page.get_by_text(re.compile(r"additivity error")).first.wait_for(timeout=180_000)
        done = page.get_by_text(re.compile(r"^(p|logit)\(.+\) = [-\d.]+"))
        assert done.count() >= 3, done.count()  # attention, integrated gradients and SHAP at least
        assert page.get_by_text(re.compile(r"convergence delta")).count() >= 1  # IG's check
        journey.step(8, "explain")

        # 7. Rewrite, offline
        journey.goto(f"/rewrite?run={bert.name}")
        box = page.get_by_label("Comment")
        box.fill("you are a stupid idiot")
        page.get_by_role("button", name="Rewrite", exact=True).click()
        page.get_by_text(re.compile(r"^(Accepted|Not accepted) · local")).first.wait_for(timeout=120_000)
        journey.step(9, "rewrite")

        # 8. Search: the SBERT Q&A demo, then a query
        journey.goto("/search")
        page.get_by_role("button", name=re.compile(r"^Train the SBERT Q&A demo")).click()
        page.get_by_text(re.compile(r"^Watch .* on the Train page")).wait_for()
        deadline = time.time() + 600
        while time.time() < deadline and not any(r.state == "succeeded" for r in runs.list_runs(app["models"])
                                                 if r.model_kind == "sbert"):
            time.sleep(2)
        journey.goto("/search")
        page.get_by_label("Query").fill("how do I appeal a removed comment")
        page.get_by_role("button", name="Search").click()
        page.get_by_text("Full texts of the results").first.wait_for(timeout=120_000)
        journey.step(10, "search")
        browser.close()
