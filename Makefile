# The two commands of the README: `make run` and `make test`. Both create the virtual
# environment on first use; the CPU build of torch is installed before the suite so that
# pip never pulls the CUDA packages (see DEVELOPERS.md to use another build).
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.l2obench-installed
RUN_OUT := benchmarks/lasso/outputs/quick.parquet

.PHONY: run test install clean figures baselines regression

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	rm -f $(RUN_OUT)  # benchopt never overwrites: it would write quick_1.parquet
	# --no-cache: benchopt's cache does not see edits to the l2obench library itself
	$(BIN)/benchopt run benchmarks/lasso --config benchmarks/lasso/configs/quick.yml \
		--no-plot --no-cache --output $(RUN_OUT)
	$(BIN)/python -m l2obench.results.report $(RUN_OUT) --config benchmarks/lasso/configs/quick.yml \
		--figure benchmarks/lasso/outputs/quick_convergence.png

test: $(STAMP)
	$(BIN)/python -m pytest

# results/: paper figures from the quick configs (benchopt cache kept), CI baselines (fresh,
# uncached runs; review the diff of results/baselines/ before committing), the regression check
figures: $(STAMP)
	$(BIN)/python -m l2obench.results.figures

baselines: $(STAMP)
	$(BIN)/python -m l2obench.results.regression --update

regression: $(STAMP)
	$(BIN)/python -m l2obench.results.regression

clean:
	rm -rf $(VENV) benchmarks/*/outputs benchmarks/*/__cache__
