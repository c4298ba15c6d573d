# The whole set-up: `make run` (the quickstart study on the SQLite default) and `make test`.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip --disable-pip-version-check

.PHONY: run test lint docs screenshots bench clean

$(PYTHON):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PYTHON)
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PYTHON)
	$(PIP) install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/gapsearch run studies/quickstart.yaml

# The JAX backend, for the tests that train under KERAS_BACKEND=jax. It sits in its own folder, put on
# PYTHONPATH by those tests alone, so that the rest of the suite also sees a machine without JAX (whose
# missing backend must be one line). Its dependencies (numpy, scipy, ml_dtypes, opt_einsum) are TensorFlow's.
JAX_SITE := $(VENV)/jax-site
$(JAX_SITE): | $(PYTHON)
	$(PIP) install --quiet --no-deps --target $(JAX_SITE) jax==0.10.2 jaxlib==0.10.2

# The dashboard tests drive a real browser: Debian's chromium, installed where it is missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The deployment tests check docker/compose.yaml with a real compose client (no engine needed).
/usr/bin/docker-compose:
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose

# The suite on TEST_WORKERS processes (pytest-xdist), each test module on one of them, so that a module's
# shared fixture (a study run once for all its tests) runs once: about 15 minutes on 2 cores, 20 serially.
TEST_WORKERS ?= 2
test: $(VENV)/.installed-test $(JAX_SITE) /usr/bin/chromium /usr/bin/docker-compose
	$(PYTHON) -m pytest -n $(TEST_WORKERS) --dist loadscope

# The documentation's screenshots of the report, the dashboard and the explain page (docs/pages/images/). The
# tests that take them write build/screenshots/, so that make test leaves the work tree clean; this runs those
# tests (CI=true: a missing Chromium fails instead of skipping) and copies their screenshots over the pictures.
SCREENSHOTS := report.png dashboard.png explain.png
screenshots: $(VENV)/.installed-test /usr/bin/chromium
	rm -f $(addprefix build/screenshots/,$(SCREENSHOTS))
	CI=true $(PYTHON) -m pytest -q tests/test_report.py::test_the_report_of_the_quickstart_study \
		tests/test_dashboard.py::test_the_dashboard_page_renders_the_study_and_its_trials_in_chromium \
		tests/explain/test_explain_cli.py::test_the_html_page_shows_shaded_tokens_and_the_method_in_chromium
	cp $(addprefix build/screenshots/,$(SCREENSHOTS)) docs/pages/images/

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check gapsearch tests
	$(VENV)/bin/mypy gapsearch

# The documentation site (docs/mkdocs.yml, pages in docs/pages/) in build/site; make test builds it too, --strict.
docs: $(VENV)/.installed-test
	$(VENV)/bin/mkdocs build --strict -f docs/mkdocs.yml -d ../build/site

# Speed and accuracy benchmarks (tests/benchmarks/, not part of the test suite): hours on 2 cores, most of
# them the learning-curve tables (tests.benchmarks.curves), which a rerun finds done and skips.
# Each writes tests/benchmarks/results/NAME.json; the last step rewrites the tables of docs/pages/benchmarks.md.
bench: $(VENV)/.installed-test
	$(PYTHON) -m tests.benchmarks.trial_overhead
	$(PYTHON) -m tests.benchmarks.pruners
	$(PYTHON) -m tests.benchmarks.kerastuner_search
	$(PYTHON) -m tests.benchmarks.optuna_alone
	$(PYTHON) -m tests.benchmarks.masked_pooling
	$(PYTHON) -m tests.benchmarks.data_cache
	$(PYTHON) -m tests.benchmarks.vectors_read
	$(PYTHON) -m tests.benchmarks.vectors_help
	$(PYTHON) -m tests.benchmarks.workers
	$(PYTHON) -m tests.benchmarks.soak  # a worker's memory over 500 trials, with and without recycling
	$(PYTHON) -m tests.benchmarks.checkpoints
	$(PYTHON) -m tests.benchmarks.mo_pruning
	$(PYTHON) -m tests.benchmarks.quickstart_output
	$(PYTHON) -m tests.benchmarks.explain_example
	$(PYTHON) -m tests.benchmarks.objectives_examples
	$(PYTHON) -m tests.benchmarks.poolings  # before accuracy, which pins the pooling it finds best on SST-2's dev set
	$(PYTHON) -m tests.benchmarks.vocabulary  # after masked_pooling (its pooling), before accuracy (its max_tokens)
	$(PYTHON) -m tests.benchmarks.optimizers  # after poolings (SST-5's pooling); studies/sst5.yaml ships its choice
	$(PYTHON) -m tests.benchmarks.accuracy
	$(PYTHON) -m tests.benchmarks.seed_article
	$(PYTHON) -m tests.benchmarks.curves  # hours: about two per data set; resumes where a stopped run left off
	$(PYTHON) -m tests.benchmarks.replay_overheads
	$(PYTHON) -m tests.benchmarks.portfolio  # gapsearch/search/portfolio.json, from the curves' tables
	$(PYTHON) -m tests.benchmarks.replay
	$(PYTHON) -m tests.benchmarks.report

clean:
	rm -rf $(VENV) gapsearch.db .gapsearch-cache studies/.gapsearch-cache .pytest_cache
