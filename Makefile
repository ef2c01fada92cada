# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-slow bench samples clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m streamlit run app.py --server.address 127.0.0.1 --server.port 8501

test: $(STAMP)
	$(PY) -m pytest

test-slow: $(STAMP)
	$(PY) -m pytest -m slow

# the analyst's journey in a real browser (about 3 minutes; .ci/run calls it after `make test`)
test-journey: $(STAMP)
	$(PY) -m pytest -m journey

bench: $(STAMP)
	$(PY) bench/dedup.py
	$(PY) bench/train_throughput.py
	$(PY) bench/evaluate_slider.py
	$(PY) bench/score_throughput.py
	$(PY) bench/explain_speed.py
	$(PY) bench/rewrite_local.py
	$(PY) bench/page_rerun.py
	$(PY) bench/sbert_quality.py all 1 128

samples: $(STAMP)
	$(PY) data/make_samples.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
