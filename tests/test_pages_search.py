"""AppTest of the Search page and of SBERT on the Train page."""

import copy

from streamlit.testing.v1 import AppTest

from core import runs
from core.paths import PROJECT_ROOT, SAMPLE_QA
from core.training.job import run_job


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page(page).run()
    return at


def test_search_page_empty_state_offers_the_demo():
    at = open_page("pages/search.py")
    assert not at.exception
    assert any("No SBERT run yet" in i.value for i in at.info)
    assert any(b.label.startswith("Train the SBERT Q&A demo") for b in at.button)


def test_search_page_shows_fine_tuned_and_base_results(make_run, tiny_sbert, tiny_sbert_model):
    run_dir = make_run(model_kind="sbert", base_model=str(tiny_sbert), data=str(SAMPLE_QA), learning_rate=1e-3)
    assert run_job(run_dir, model=copy.deepcopy(tiny_sbert_model)) == "succeeded"
    at = open_page("pages/search.py")
    assert not at.exception and at.sidebar.selectbox[0].value == run_dir.name
    assert any("nearest-neighbour library" in c.value for c in at.caption)  # faiss is said what it is
    assert next(s for s in at.selectbox if s.label == "Text column to index").value == "answer"  # pre-selected
    query = "<img src=x onerror=alert(1)> Yes, the reported user never sees who flagged the comment."
    at.text_input(key="search.query").set_value(query)
    next(b for b in at.button if b.label == "Search").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.subheader] == ["Fine-tuned", f"Base ({tiny_sbert})"]
    tables = [df.value for df in at.dataframe]
    assert len(tables) == 2 and all(len(t) == 5 for t in tables)
    assert list(tables[0].columns) == ["rank", "score", "row", "text"]
    assert tables[0]["score"].is_monotonic_decreasing
    # whole texts under the tables (a table cell cannot wrap): rank, cosine and the complete answer, as text
    full = [t.value for t in at.text if t.value.startswith("1. (")]
    assert len(full) == 2 and full[0].endswith(tables[0]["text"][0])


def test_train_page_refuses_qa_data_for_a_classifier_and_launches_sbert(isolated_dirs):
    at = open_page("pages/train.py")
    data_box = next(s for s in at.selectbox if s.label == "Data")
    data_box.set_value(next(o for o in data_box.options if o.startswith("Bundled moderation Q&A")))
    next(b for b in at.button if b.label == "Start training").click().run()
    assert any("only SBERT runs train on pairs, triplets or Q&A" in e.value for e in at.error)
    assert not any(isolated_dirs[0].glob("*/config.json"))
    at.radio[0].set_value("sbert")
    assert "MultipleNegativesRankingLoss: each question must find its own answer" in next(
        s for s in at.selectbox if s.label == "Loss").help  # the acronym is spelled out
    next(s for s in at.selectbox if s.label == "Loss").set_value("cached_mnrl")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.error, [e.value for e in at.error]
    configs = list(isolated_dirs[0].glob("*/config.json"))
    assert len(configs) == 1
    config = runs.read_run(configs[0].parent).config
    assert config["model_kind"] == "sbert" and config["loss"] == "cached_mnrl" and config["data"] == str(SAMPLE_QA)
    from core import jobs

    jobs.stop(configs[0].parent)  # the real MiniLM job is not needed here


def test_live_chart_follows_the_runs_main_metric():
    from ui import charts

    sbert = [{"event": "start", "step": 0, "main_metric": "knn_macro_f1"},
             {"event": "eval", "step": 5, "knn_macro_f1": 0.4, "knn_accuracy": 0.6, "loss": 1.0},
             {"event": "eval", "step": 10, "knn_macro_f1": 0.5, "knn_accuracy": 0.7, "loss": 0.9}]
    figure = charts.auc_chart(sbert)
    assert {t.name for t in figure.data} == {"macro-F1 (knn)", "accuracy (knn)"}
    assert list(next(t for t in figure.data if t.name == "macro-F1 (knn)").y) == [0.4, 0.5]
    assert figure.layout.yaxis.title.text == "validation macro-F1 (knn)"
    # a retrieval evaluator logs a dozen keys: the chart keeps the main one and three readable cosine ones
    keys = [f"qa_{s}_{m}" for s in ("cosine", "dot") for m in ("accuracy@1", "accuracy@3", "precision@1", "recall@10",
                                                             "ndcg@10", "mrr@10", "map@100")]
    retrieval = [{"event": "start", "step": 0, "main_metric": "qa_cosine_ndcg@10"},
                 {"event": "eval", "step": 5, **{k: 0.5 for k in keys}}]
    names = [t.name for t in charts.auc_chart(retrieval).data]
    assert names == ["accuracy@1 (qa, cosine)", "MRR@10 (qa, cosine)", "recall@10 (qa, cosine)",
                     "nDCG@10 (qa, cosine)"]
    classifier = [{"event": "start", "step": 0, "main_metric": "macro_roc_auc"},
                  {"event": "eval", "step": 5, "macro_roc_auc": 0.8, "roc_auc/toxic": 0.7}]
    assert {t.name for t in charts.auc_chart(classifier).data} == {"macro", "toxic"}
