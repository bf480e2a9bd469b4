# The two commands of the README: `make run` and `make test`. Both create the virtual
# environment on first use; the CPU build of torch is installed before the suite so that
# pip never pulls the CUDA packages (see DEVELOPERS.md to use another build).
# `make run` is the main job: benchmarks/lasso/configs/main.yml (learned solvers trained long
# enough to show the papers' effect; about 2 minutes on 2 quiet cores from an empty weight
# cache, longer when other jobs share the cores), its report and its break-even table. CI's regression
# baselines come from configs/quick.yml.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.l2obench-installed
RUN_CONFIG := benchmarks/lasso/configs/main.yml
RUN_OUT := benchmarks/lasso/outputs/main.parquet

.PHONY: run test install clean figures baselines regression

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	rm -f $(RUN_OUT)  # benchopt never overwrites: it would write main_1.parquet
	# --no-cache: benchopt's cache does not see edits to the l2obench library itself
	$(BIN)/benchopt run benchmarks/lasso --config $(RUN_CONFIG) \
		--no-plot --no-cache --output $(RUN_OUT)
	$(BIN)/python -m l2obench.results.report $(RUN_OUT) --config $(RUN_CONFIG) \
		--figure benchmarks/lasso/outputs/main_convergence.png
	$(BIN)/python -m l2obench.results.breakeven lasso=$(RUN_OUT) --csv benchmarks/lasso/outputs/main_break_even.csv

# -n auto: one pytest worker per core (the slow end-to-end tests run side by side; worksteal evens them out)
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist worksteal

# results/: paper figures from the quick configs (benchopt cache kept; the lasso from the main
# job's results when `make run` has written them), CI baselines (fresh, uncached runs of the
# quick configs; review the diff of results/baselines/ before committing), the regression check
figures: $(STAMP)
	$(BIN)/python -m l2obench.results.figures $(if $(wildcard $(RUN_OUT)),--results lasso=$(RUN_OUT))

baselines: $(STAMP)
	$(BIN)/python -m l2obench.results.regression --update

regression: $(STAMP)
	$(BIN)/python -m l2obench.results.regression

clean:
	rm -rf $(VENV) benchmarks/*/outputs benchmarks/*/__cache__
