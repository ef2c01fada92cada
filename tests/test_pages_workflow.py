"""AppTest of the Score, Evaluate and Runs pages."""

import json
import time
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import runs
from core.paths import PROJECT_ROOT


def open_page(page: str, run: str | None = None) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    if run:
        at.query_params["run"] = run
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first dataframe shown that has these columns (AppTest does not expose dataframe keys)."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_score_page_first_launch_trains_a_demo_model_and_scores(isolated_dirs):
    at = open_page("pages/score.py")
    assert any("demo model" in i.value for i in at.sidebar.info), [e.value for e in at.error]
    at.text_area(key="score.text").input("you stupid idiot, I hate you")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    assert any(c.value.startswith("Scored 1 text(s) in") for c in at.caption)
    assert any(e.value.startswith("Flagged:") for e in at.error) or any(s.value == "Not flagged" for s in at.success)
    assert at.text[0].value == "you stupid idiot, I hate you"


def test_score_page_escapes_html_and_scores_one_per_line(tfidf_run):
    at = open_page("pages/score.py", tfidf_run.name)
    at.text_area(key="score.text").input("<script>alert(1)</script>\n<img src=x onerror=alert(2)>\nthank you")
    at.checkbox(key="score.per_line").check()
    at.button[0].click().run()
    assert not at.exception
    assert [t.value for t in at.text] == ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "thank you"]
    frame = at.dataframe[0].value
    assert frame["text"].tolist()[0] == "<script>alert(1)</script>" and len(frame) == 3
    assert not any("<script>" in m.value for m in at.markdown)  # never rendered as markdown/HTML
    download = next(d for d in at.get("download_button") if "Download these scores" in d.proto.label)
    assert download.proto.label == "Download these scores (CSV)"  # pasted results can be downloaded too
    codes = [c.value for c in at.code]  # the "From other programs" tab: the serve command and a curl line
    assert f"python -m core serve --run {tfidf_run.name}" in codes
    assert any(c.startswith("curl -s -X POST http://127.0.0.1:8000/v1/score") for c in codes)


def test_score_page_switches_and_saves_the_scoring_backend(bert_run):
    at = open_page("pages/score.py", bert_run.name)
    radio = at.radio(key="score.backend")
    assert radio.options == ["auto", "exact", "onnx", "int8", "bf16"] and radio.value == "auto"
    assert any("auto: onnx" in c.value for c in at.caption), [c.value for c in at.caption]
    assert not [r for r in at.sidebar.radio if r.key == "score.backend"]  # on the page's advanced options now
    at.radio(key="score.backend").set_value("onnx").run()
    button(at, "Save as this run's default").click().run()
    assert not at.exception, at.exception
    assert json.loads((bert_run / runs.INFERENCE).read_text())["backend"] == "onnx"
    at.text_area(key="score.text").input("you stupid idiot")
    next(b for b in at.button if b.label == "Score").click().run()
    assert any("(classifier, onnx)" in c.value for c in at.caption), [c.value for c in at.caption]


def test_score_page_warns_about_an_undertrained_run_and_not_about_a_tfidf_one(bert_run, tfidf_run):
    at = open_page("pages/score.py", bert_run.name)  # 8 training steps
    assert any(w.value.startswith("This run trained for only 8 step(s) (fewer than 50); validation macro ROC-AUC")
               and "Fix: train longer" in w.value for w in at.warning), [w.value for w in at.warning]
    at = open_page("pages/score.py", tfidf_run.name)
    assert not any("trained for only" in w.value for w in at.warning)


def test_score_page_explains_why_bf16_does_not_load_on_this_cpu(bert_run, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"cpu_name": "Old CPU", "avx2": True})
    at = open_page("pages/score.py", bert_run.name)
    at.radio(key="score.backend").set_value("bf16").run()
    assert not at.exception, at.exception
    assert any("Old CPU has neither AVX512-BF16 nor AMX-BF16" in e.value and "Fix: use backend 'onnx'" in e.value
               for e in at.error), [e.value for e in at.error]


def test_score_page_batch_file(tfidf_run):
    at = open_page("pages/score.py", tfidf_run.name)
    texts = ["=cmd|' /C calc'!A0", "you stupid idiot", "nice edit, thanks"] * 5
    payload = pd.DataFrame({"id": range(15), "comment": texts}).to_csv(index=False).encode()
    at.file_uploader(key="score.upload").set_value(("comments.csv", payload, "text/csv")).run()
    assert not at.exception and at.selectbox(key="score.text_col").value == "comment"  # the text column is guessed
    button(at, "Score file").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    name, scored = at.session_state["score.download"]
    out = pd.read_csv(__import__("io").BytesIO(scored), keep_default_na=False)
    assert name == "comments-scored.csv" and out["id"].tolist() == list(range(15))
    assert out["comment"][0] == "'=cmd|' /C calc'!A0" and "p_toxic" in out.columns
    assert any("rows flagged" in s.value for s in at.success)
    preview = next(d.value for d in at.dataframe if "p_toxic" in d.value.columns)  # the scored file's first rows
    assert len(preview) == 15 and preview["comment"][1] == "you stupid idiot"
    assert any(c.value == "The first 15 rows of comments-scored.csv:" for c in at.caption)


def test_evaluate_on_an_uploaded_labelled_file(tfidf_run):
    at = open_page("pages/evaluate.py", tfidf_run.name)
    at.radio(key="eval.source").set_value("uploaded labelled file").run()
    payload = (PROJECT_ROOT / "data" / "sample.csv").read_bytes()
    at.file_uploader(key="eval.upload").set_value(("labelled.csv", payload, "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(frame_with(at, "label", "threshold")) == 6
    assert any("**uploaded file** set (827 rows)" in c.value for c in at.caption)


def test_evaluate_slider_changes_metrics_and_save_writes_thresholds(tfidf_run):
    at = open_page("pages/evaluate.py", tfidf_run.name)
    table = frame_with(at, "label", "threshold")
    labels = table["label"].tolist()
    first = labels[0]
    slider = at.slider(key=f"thr.{tfidf_run.name}.{first}")
    before = table.set_index("label").loc[first]
    slider.set_value(0.99).run()
    after = frame_with(at, "label", "threshold").set_index("label").loc[first]
    assert after["threshold"] == pytest.approx(0.99)
    assert after["predicted positive"] < before["predicted positive"] and after["recall"] <= before["recall"]
    assert at.slider(key=f"thr.{tfidf_run.name}.{first}").value == pytest.approx(0.99)
    assert any(c.value.startswith(f"Not saved yet: `{first}` differ") for c in at.caption)  # marked until saved
    errors = next(m.value for m in at.markdown if m.value.startswith("**Top false positives**"))
    assert errors.startswith(f"**Top false positives** for `{first}` at 0.990")  # the error list follows
    button(at, "Save thresholds").click().run()
    saved = json.loads((tfidf_run / runs.THRESHOLDS).read_text())
    assert saved["thresholds"][first] == pytest.approx(0.99) and saved["method"] == "manual"
    assert saved["split"] == "val"
    assert any("Saved 6 thresholds" in s.value for s in at.success)
    assert not any(c.value.startswith("Not saved yet") for c in at.caption)
    assert any("Saved thresholds: method `manual`" in c.value for c in at.caption)  # the caption re-read the file
    assert frame_with(at, "label", "saved").set_index("label").loc[first, "saved"] == pytest.approx(0.99)


def test_evaluate_auto_buttons_and_test_split_guard(tfidf_run):
    at = open_page("pages/evaluate.py", tfidf_run.name)
    button(at, "Set for recall").click().run()
    table = frame_with(at, "label", "threshold")
    assert (table["recall"] >= 0.8 - 1e-9).all()
    button(at, "Save thresholds").click().run()
    assert json.loads((tfidf_run / runs.THRESHOLDS).read_text())["method"] == "target_recall"
    at.radio(key="eval.source").set_value("test").run()
    assert not at.exception
    assert button(at, "Save thresholds").disabled and button(at, "Max F1 per label").disabled
    assert any("**test** set" in c.value for c in at.caption)
    shown = [m.value for m in at.markdown if m.value.startswith("**Top false")]
    assert len(shown) == 2


def test_evaluate_multiclass_run(make_run, write):
    from core.training.job import run_job

    rows = ["text,label"] + [f"you are a {w} idiot,offensive" for w in "abcdefghijklmnopqrst"] + \
           [f"thanks for the {w} edit,neither" for w in "abcdefghijklmnopqrst"] + \
           [f"I hate all {w} people,hate" for w in "abcdefghijklmnopqrst"]
    run_dir = make_run(model_kind="tfidf", data=str(write("mc.csv", "\n".join(rows))), test_fraction=0.2,
                       val_fraction=0.25)
    assert run_job(run_dir) == "succeeded"
    at = open_page("pages/evaluate.py", run_dir.name)
    assert [m.label for m in at.metric][:2] == ["accuracy", "macro F1"]
    assert len(frame_with(at, "label", "threshold")) == 3


def test_runs_page_compares_and_deletes(tfidf_run, make_run):
    from core.training.job import run_job

    second = make_run(model_kind="tfidf", run_name="second", seed=7)
    assert run_job(second) == "succeeded"
    at = open_page("pages/runs.py")
    table = frame_with(at, "run", "state")
    assert set(table["run"]) == {tfidf_run.name, second.name} and (table["state"] == "succeeded").all()
    per_label = frame_with(at, "label", second.name, tfidf_run.name)
    assert len(per_label) == 6 and per_label[tfidf_run.name].between(0.5, 1).all()
    # the figures first, file names not paths, the curves for `toxic`, one colour per run in both charts
    assert list(table.columns[:4]) == ["run", "state", "test macro ROC-AUC", "test macro F1"]
    assert set(table["data"]) == {"sample.csv"}
    assert at.selectbox(key="runs.curve_label").value == "toxic"
    roc, pr = (json.loads(c.proto.spec)["data"] for c in at.get("plotly_chart")[1:3])
    assert [t["line"]["color"] for t in roc[1:]] == [t["line"]["color"] for t in pr] and len(pr) == 2
    at.selectbox(key="runs.one").set_value(second.name).run()
    at.text_input(key="runs.confirm").input(second.name).run()
    button(at, "Delete").click().run()
    assert not at.exception and not second.exists() and tfidf_run.exists()
    assert frame_with(at, "run", "state")["run"].tolist() == [tfidf_run.name]


def test_runs_page_empty_state():
    at = open_page("pages/runs.py")
    assert any("No runs yet" in i.value for i in at.info)


def html_blocks(at: AppTest) -> list[str]:
    return [element.proto.body for element in at.get("html")]


def test_explain_page_from_a_score_link_escapes_html(tfidf_run):
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params["run"] = tfidf_run.name
    at.query_params["text"] = "you <script>alert(1)</script> idiot & co"
    at.run()
    at.switch_page("pages/explain.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.text_area(key="explain.text").value == "you <script>alert(1)</script> idiot & co"
    blocks = html_blocks(at)
    assert len(blocks) == 4  # two methods (linear, shap), each words + legend
    assert all("<script>" not in b for b in blocks) and any("&lt;script&gt;alert(1)&lt;/script&gt;" in b
                                                             for b in blocks)
    from core.scoring.scorer import Scorer

    result = Scorer.from_run(tfidf_run).score([at.text_area(key="explain.text").value])[0]
    candidates = result.flagged or list(result.probabilities)
    assert at.selectbox(key="explain.label").value == max(candidates, key=result.probabilities.get)


def test_explain_page_runs_all_methods_on_a_transformer_run(bert_run):
    at = open_page("pages/explain.py", bert_run.name)
    at.text_area(key="explain.text").input("you are a stupid idiot").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.multiselect(key="explain.methods").value == ["shap", "ig", "attention", "rollout"]
    assert len(html_blocks(at)) == 8
    checks = [c for c in at.caption if "convergence delta" in c.value or "additivity error" in c.value]
    assert len(checks) == 2 and all(c.help for c in checks)  # the numbers are named in words and explained
    assert any("IG's completeness gap" in c.help for c in checks) and any("SHAP's gap" in c.help for c in checks)
    chips = [h for h in html_blocks(at) if "red raises the score" in h or "darker = more weight" in h]
    assert chips and all(h.count("white-space:nowrap") >= 3 for h in chips)  # legend chips never wrap
    at.selectbox(key="explain.label").set_value("threat").run()
    assert all("(threat)" in c.value for c in at.caption if c.value.startswith("p("))


def test_evaluate_error_rows_link_to_explain(tfidf_run):
    at = open_page("pages/evaluate.py", tfidf_run.name)
    first = frame_with(at, "label", "threshold")["label"][0]
    at.slider(key=f"thr.{tfidf_run.name}.{first}").set_value(0.01).run()  # plenty of false positives
    errors = [d.value for d in at.dataframe if "explain" in d.value.columns]
    assert errors and all(link.startswith(f"explain?run={tfidf_run.name}&split=val&row=")
                          for frame in errors for link in frame["explain"])
    row = int(errors[0]["row"].iloc[0])
    at2 = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at2.query_params.update({"run": tfidf_run.name, "split": "val", "row": str(row)})
    at2.run()
    at2.switch_page("pages/explain.py").run()
    assert at2.text_area(key="explain.text").value == errors[0]["text"].iloc[0]


def test_rewrite_page_local_backend_verifies_and_escapes(tfidf_run, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"run": tfidf_run.name, "text": "You <b>stupid</b> idiot & troll"})
    at.run()
    at.switch_page("pages/rewrite.py").run()
    assert not at.exception
    assert at.text_area(key="rewrite.text").value == "You <b>stupid</b> idiot & troll"
    assert at.radio(key="rewrite.backend").value == "local"  # no key anywhere: local first
    button(at, "Rewrite").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    verdicts = [m.value for m in [*at.success, *at.warning] if " · local · similarity" in m.value]
    assert len(verdicts) == 1
    diff = html_blocks(at)[0]
    assert "<b>" not in diff and "&lt;b&gt;stupid&lt;/b&gt;" in diff and "&amp;" in diff
    assert any(c.value.startswith("Edits: ") for c in at.caption)
    at.radio(key="rewrite.backend").set_value("gemini").run()
    assert any("No key found" in i.value for i in at.info)
    at.text_area(key="rewrite.text").set_value("").run()
    assert not button(at, "Rewrite").disabled  # never disabled: an empty text is answered after the click
    button(at, "Rewrite").click().run()
    assert any(w.value == "Paste a comment to rewrite first." for w in at.warning)


def test_a_rejected_rewrite_says_why_and_what_to_try(tfidf_run, monkeypatch):
    import core.rewrite.local as local

    # the local rewriter finds nothing it may edit: the text comes back unchanged and still flagged
    monkeypatch.setattr(local, "rewrite_local", lambda scorer, text: local.LocalRewrite(text, [], 0, False, 0.0))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"run": tfidf_run.name, "text": "you stupid idiot, you moron"})
    at.run()
    at.switch_page("pages/rewrite.py").run()
    button(at, "Rewrite").click().run()
    assert not at.exception
    verdict = next(w.value for w in at.warning if w.value.startswith("Not accepted · local"))
    assert "still flagged: " in verdict
    assert any(c.value.startswith("Try: the local rewriter only swaps or removes single words") for c in at.caption)


def test_evaluate_multiclass_decision_rule_sliders_follow_and_save(make_run, write):
    from core.training.job import run_job

    import random

    rng, rows = random.Random(7), ["text,label"]
    for i in range(240):  # half the hate comments read like offensive ones: no rule gets every row right
        label = ["hate", "offensive", "offensive", "offensive", "neither"][i % 5]
        word = {"hate": rng.choice(["stupid vermin", "stupid"]), "offensive": rng.choice(["stupid", "dumb"]),
                "neither": rng.choice(["lovely", "dumb"])}[label]
        rows.append(f"comment {i} about a {word} remark,{label}")
    run_dir = make_run(model_kind="tfidf", data=str(write("mc.csv", "\n".join(rows) + "\n")), test_fraction=0.2,
                       val_fraction=0.25)
    assert run_job(run_dir) == "succeeded"
    at = open_page("pages/evaluate.py", run_dir.name)
    key = f"dec.{run_dir.name}.offensive"
    fitted = json.loads((run_dir / runs.DECISION).read_text())
    assert at.slider(key=key).value == pytest.approx(round(fitted["offsets"]["offensive"], 1))
    before = next(m for m in at.metric if m.label == "macro F1").value
    at.slider(key=key).set_value(-4.0).run()  # the majority class is almost never predicted now
    assert not at.exception
    after = next(m for m in at.metric if m.label == "macro F1").value
    assert after != before
    button(at, "Save rule").click().run()
    payload = json.loads((run_dir / runs.DECISION).read_text())
    assert payload["offsets"]["offensive"] == -4.0 and payload["method"] == "manual" and payload["split"] == "val"
    button(at, "Fit: max macro F1").click().run()
    macro = float(next(m for m in at.metric if m.label == "macro F1").value)
    assert macro == pytest.approx(fitted["macro_f1"], abs=6e-4)
    # a recall target for the rarest class (hate, preselected) moves only its offset, until the caption reaches it
    assert at.selectbox(key="dec.class").value == "hate"
    others = {label: at.slider(key=f"dec.{run_dir.name}.{label}").value for label in ("offensive", "neither")}
    at.number_input(key="dec.target_recall").set_value(0.95).run()
    button(at, "Offset for recall").click().run()
    caption = next(c.value for c in at.caption if c.value.startswith("`hate` at these offsets"))
    assert float(re.search(r"recall ([0-9.]+)", caption).group(1)) >= 0.95
    assert {label: at.slider(key=f"dec.{run_dir.name}.{label}").value for label in others} == others
    at.selectbox(key="dec.class").set_value("offensive").run()
    at.number_input(key="dec.target_precision").set_value(1.0).run()
    button(at, "Offset for precision").click().run()  # "stupid" is also half the hate rows: out of reach
    assert any("No offset of `offensive` in [-4, 4] reaches precision 1.00" in w.value for w in at.warning)
    at.radio(key="eval.source").set_value("test").run()
    assert button(at, "Save rule").disabled and button(at, "Fit: max macro F1").disabled
    assert button(at, "Offset for recall").disabled


def test_a_run_worse_than_its_baseline_says_so_on_evaluate_runs_card_and_cli(bert_run, capsys):
    from core.training.card import baseline_section

    path = bert_run / runs.METRICS
    metrics = json.loads(path.read_text())
    split = "test" if metrics.get("test") else "val"
    assert metrics["baseline_tfidf"]["decisions"] == "tuned on val"  # the job tuned the baseline's decisions
    # make the recorded baseline beat the run on `threat` and lose everywhere else, whatever the tiny model learnt
    for label, values in metrics["baseline_tfidf"][split]["per_label"].items():
        values["roc_auc"], values["f1"] = (1.0, 1.0) if label == "threat" else (0.0, 0.0)
    path.write_text(json.dumps(metrics))
    gap = metrics[split]["per_label"]["threat"]["roc_auc"] - 1.0

    at = open_page("pages/evaluate.py", bert_run.name)
    warning = next(w.value for w in at.warning if "worse than the TF-IDF baseline" in w.value)
    assert f"threat ROC-AUC ({gap:+.3f})" in warning and "toxic" not in warning
    at = open_page("pages/score.py", bert_run.name)
    assert any("worse than the TF-IDF baseline" in w.value and "threat ROC-AUC" in w.value for w in at.warning)
    at = open_page("pages/runs.py")
    row = frame_with(at, "run", "worse than TF-IDF on").set_index("run").loc[bert_run.name]
    assert row["worse than TF-IDF on"].startswith("threat ") and "insult" not in row["worse than TF-IDF on"]
    assert any("offers to train such a run again blended with the TF-IDF model" in c.value for c in at.caption)
    card = baseline_section(metrics)
    assert "**Worse than the TF-IDF baseline**" in card and "| threat | ROC-AUC |" in card
    assert "`ensemble: tfidf`" in card

    # the offer: the same recipe again, blended with TF-IDF, as a new background run (this one stays as it is)
    at = open_page("pages/evaluate.py", bert_run.name)
    button(at, "Train it again blended with TF-IDF").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    started = next(s.value for s in at.success if s.value.startswith("Started run"))
    new_run = next(p for p in bert_run.parent.iterdir() if p.name.endswith("-tfidf-blend"))
    assert new_run.name in started
    old, new = (json.loads((p / runs.CONFIG).read_text()) for p in (bert_run, new_run))
    assert new["ensemble"] == "tfidf" and {k: v for k, v in new.items() if k not in ("ensemble", "run_name")} == {
        k: v for k, v in old.items() if k not in ("ensemble", "run_name")}
    deadline = time.time() + 120
    while runs.read_status(new_run).get("state") not in ("succeeded", "failed") and time.time() < deadline:
        time.sleep(0.5)
    assert runs.read_status(new_run)["state"] == "succeeded", (new_run / runs.LOG).read_text()[-2000:]
    assert "ensemble" in json.loads((new_run / runs.METRICS).read_text())
    from core.cli import main

    assert main(["runs"]) == 0
    listed = next(r for r in json.loads(capsys.readouterr().out) if r["name"] == bert_run.name)["worse_than_tfidf"]
    assert {r["label"] for r in listed} == {"threat"} and ("threat", "roc_auc") in {(r["label"], r["metric"])
                                                                                  for r in listed}


def test_runs_and_evaluate_stay_quiet_when_a_run_beats_its_baseline(bert_run):
    from core.training.card import baseline_section

    path = bert_run / runs.METRICS
    metrics = json.loads(path.read_text())
    for part in ("val", "test"):
        for values in ((metrics["baseline_tfidf"].get(part) or {}).get("per_label") or {}).values():
            values["roc_auc"], values["f1"] = 0.0, 0.0
    path.write_text(json.dumps(metrics))
    at = open_page("pages/evaluate.py", bert_run.name)
    assert not [w for w in at.warning if "TF-IDF" in w.value]
    table = frame_with(open_page("pages/runs.py"), "run", "worse than TF-IDF on")
    assert table["worse than TF-IDF on"].tolist() == [""]
    assert "at least as good on every label" in baseline_section(metrics)


def test_probability_bars_have_a_legend_and_keep_values_off_the_threshold_tick():
    from ui.charts import probability_bars

    figure = probability_bars({"toxic": 0.7, "identity_hate": 0.01}, {"toxic": 0.7, "identity_hate": 0.3})
    bars, ticks = figure.data
    assert figure.layout.showlegend and ticks.name == "threshold" and "flagged" in bars.name
    assert list(bars.y) == ["toxic 0.700", "identity_hate 0.010"] and bars.text is None  # values in the labels
    assert list(bars.marker.color) == ["#d62728", "#1f77b4"]  # at the threshold counts as flagged
