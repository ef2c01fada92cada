"""AppTest of the home and Data pages."""

import re

from streamlit.testing.v1 import AppTest

from core.paths import PROJECT_ROOT


def app() -> AppTest:
    return AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=90)


def test_home_shows_sample_runs_and_next_steps():
    at = app().run()
    assert not at.exception
    assert at.title[0].value == "CleanSpeech Studio"
    assert any("827 synthetic comments" in c.value for c in at.caption)
    assert any("No runs yet" in i.value for i in at.info)
    linked = {link.proto.page for link in at.get("page_link")}  # url names: "data", "audit", ...
    pages = set(re.findall(r'st\.Page\("pages/(\w+)\.py"', (PROJECT_ROOT / "app.py").read_text())) - {"home"}
    assert pages and pages <= linked  # every page is among the next steps


def test_data_page_reports_prepares_and_saves_a_version(isolated_dirs):
    at = app().run()
    at.switch_page("pages/data.py").run()
    assert not at.exception and not at.error
    assert [m.value for m in at.metric][:2] == ["827", "multilabel"]
    prepare = next(b for b in at.button if b.label == "Prepare")
    prepare.click().run()
    assert not at.exception and not at.error
    assert any(s.value.startswith("Prepared in") for s in at.success)
    at.text_input(key="data.version_name").set_value("demo set")
    next(b for b in at.button if b.label == "Save version").click().run()
    assert any("Saved dataset version `demo-set`" in s.value for s in at.success)
    assert (isolated_dirs[1] / "demo-set" / "train.csv").exists()


def test_data_page_shows_errors_for_bad_uploads():
    at = app().run()
    at.switch_page("pages/data.py").run()
    at.radio(key="data.source").set_value("Upload a file").run()
    assert any("upload a file" in i.value for i in at.info)
