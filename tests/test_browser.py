"""Real-browser test: the running app in headless Debian Chromium, driven by Playwright."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.paths import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.browser
FOLDERS: dict[str, Path] = {}  # the server's models and datasets folders
OUTSIDE: list[str] = []  # every request the browser made to anything but the app's own server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_app(models: Path, datasets: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py --server.headless true` on a free localhost port with these runs and dataset
    folders; returns the process and its URL once it answers its health check."""
    port = _free_port()
    env = {**os.environ, "CLEANSPEECH_MODELS_DIR": str(models), "CLEANSPEECH_DATASETS_DIR": str(datasets)}
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                                "--server.port", str(port), "--server.address", "127.0.0.1"],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    pytest.fail(f"streamlit did not start: {process.stdout.read().decode()[-2000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a free localhost port, with its own runs and datasets folders."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    FOLDERS.update(models=tmp_path_factory.mktemp("models"), datasets=tmp_path_factory.mktemp("datasets"))
    process, url = launch_app(FOLDERS["models"], FOLDERS["datasets"])
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.on("request", lambda request: None if request.url.startswith((server, "data:", "blob:", "about:"))
                else OUTSIDE.append(request.url))
        yield page
        browser.close()


def test_a_deep_link_as_first_request_still_runs_through_app_py(server, page):
    """The first request after a server start is /data: it must get our navigation, not Streamlit's
    legacy pages/ mode (file names as links, no page config)."""
    page.goto(f"{server}/data")
    page.get_by_role("heading", name="Report").wait_for()
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_text("Home", exact=True).wait_for()
    assert nav.get_by_text("app", exact=True).count() == 0


def test_home_and_data_pages_render_in_a_real_browser(server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(server)
    page.get_by_role("heading", name="CleanSpeech Studio").wait_for()
    page.get_by_text("No runs yet").wait_for()
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
    page.goto(f"{server}/data")
    page.get_by_role("heading", name="Report").wait_for()
    from playwright.sync_api import expect

    # expect() retries: the metrics arrive one delta at a time, and a rerun can briefly show another first.
    expect(page.get_by_test_id("stMetricValue").first).to_have_text("827")
    page.screenshot(path=str(ARTIFACTS / "data.png"), full_page=True)


def test_score_page_scores_a_pasted_comment_in_a_real_browser(server, page):
    """First visit trains the demo model; a pasted comment gets probabilities; HTML in it stays text."""
    ARTIFACTS.mkdir(exist_ok=True)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{server}/score")
    page.get_by_role("heading", name="Score").wait_for()
    comment = 'you are a stupid idiot <img src=x onerror="alert(1)">'
    box = page.get_by_label("Comment(s)")
    box.wait_for(timeout=120_000)  # the demo model trains first (seconds)
    box.fill(comment)
    page.get_by_role("button", name="Score", exact=True).click()
    page.get_by_text("Scored 1 text(s) in").wait_for()
    page.get_by_test_id("stText").get_by_text(comment, exact=True).wait_for()  # shown as text, not as an element
    assert page.locator("img[src='x']").count() == 0 and not dialogs
    verdict = page.get_by_text(re.compile(r"^(Flagged: \w+|Not flagged)"))
    verdict.first.wait_for()
    assert verdict.count() == 1
    page.locator(".js-plotly-plot").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "score.png"), full_page=True)


def test_label_review_by_keyboard_survives_a_reload(server, page):
    """Review labels tab: rank a noisy version, keep a row with the `k` key, reload: the decision is still there."""
    import json

    from playwright.sync_api import expect

    from tests.test_pages_review import noisy_version

    version = noisy_version("browser-noisy", root=FOLDERS["datasets"])
    page.goto(f"{server}/data")
    page.get_by_role("tab", name="Review labels").click()
    page.get_by_role("button", name="Find label issues").click()
    status = page.get_by_text(re.compile(r"^\d+ of [\d,]+ queued rows reviewed"))
    expect(status).to_have_text(re.compile(r"^0 of "), timeout=120_000)
    page.get_by_text("Keys: k keep").wait_for()  # drawn after the buttons: their shortcuts are bound
    page.wait_for_timeout(500)
    status.click()  # focus the page itself, not an input: shortcuts skip focused text fields
    page.keyboard.press("k")
    expect(status).to_have_text(re.compile(r"^1 of "))
    decisions = [json.loads(line) for line in (version / "review.jsonl").read_text().splitlines()]
    assert [d["action"] for d in decisions] == ["keep"]
    page.reload()
    page.get_by_role("tab", name="Review labels").click()
    expect(page.get_by_text(re.compile(r"^\d+ of [\d,]+ queued rows reviewed"))).to_have_text(re.compile(r"^1 of "))
    page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
    # save the reviewed data as a new version, then retrain on it with a previous run's config
    from core import runs
    from core.config import TrainConfig
    from core.paths import SAMPLE_MULTILABEL
    from core.training.job import run_job

    previous = runs.new_run_dir("browser-tfidf", FOLDERS["models"])
    TrainConfig(model_kind="tfidf", data=str(SAMPLE_MULTILABEL)).to_json(previous / runs.CONFIG)
    assert run_job(previous) == "succeeded"
    page.get_by_role("button", name="Save as new version").click()
    page.get_by_text(re.compile(r"^Saved browser-noisy-reviewed with the decisions applied")).wait_for()
    changelog = json.loads((FOLDERS["datasets"] / "browser-noisy-reviewed" / "changelog.json").read_text())
    assert changelog["actions"] == {"keep": 1} and changelog["source_version"] == "browser-noisy"
    page.get_by_role("button", name="Train on the reviewed version").click()
    page.wait_for_url(re.compile(r"/train\?run="), timeout=60_000)
    started = [r for r in runs.list_runs(FOLDERS["models"]) if r.name != previous.name
               and (r.config.get("data") or "").endswith("browser-noisy-reviewed")]
    assert len(started) == 1 and started[0].config["model_kind"] == "tfidf"
    page.screenshot(path=str(ARTIFACTS / "review-retrain.png"), full_page=True)



def test_evaluate_error_list_follows_a_slider_in_a_real_browser(server, page):
    """Moving a threshold slider reruns only its fragment; the error list must follow it, not keep the old value."""
    from playwright.sync_api import expect

    page.goto(f"{server}/evaluate")
    page.get_by_role("heading", name="Error analysis").wait_for(timeout=120_000)  # the demo model may train first
    heading = page.get_by_text(re.compile(r"^Top false positives for")).first
    before = heading.inner_text()
    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(25):
        page.keyboard.press("ArrowLeft")
    shown = page.get_by_test_id("stSliderThumbValue").first
    expect(heading).not_to_have_text(before)  # the fragment reran, the list with it
    expect(heading).to_contain_text(f"at {float(shown.inner_text()):.3f}")
    page.get_by_text("Not saved yet").wait_for()
    page.screenshot(path=str(ARTIFACTS / "evaluate.png"), full_page=True)


def test_rewrite_runs_on_the_first_click_after_typing(server, page):
    """Typing then clicking at once (the text area still focused) must rewrite, not just blur the text area."""
    page.goto(f"{server}/rewrite")
    box = page.get_by_label("Comment")
    box.wait_for(timeout=120_000)
    box.click()
    page.keyboard.type("you are a stupid idiot")
    page.get_by_role("button", name="Rewrite", exact=True).click()
    page.get_by_text(re.compile(r"^(Accepted|Not accepted) · local")).first.wait_for(timeout=60_000)


def test_the_app_requests_nothing_from_outside_its_own_server(server, page):
    """Offline use: after the pages above (home, data, score, review, evaluate), no request left 127.0.0.1."""
    page.goto(server)
    page.get_by_role("heading", name="CleanSpeech Studio").wait_for()
    page.wait_for_timeout(1000)
    assert OUTSIDE == []
