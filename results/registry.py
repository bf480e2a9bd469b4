"""The benchmarks the results tooling covers: a new benchmark joins with one line here.

Each entry names the run config whose table is the CI baseline (``results/baselines/<name>.csv``)
and the metric used for accuracy in the break-even summary (lower is better), with the metric
each training loss makes small (a learned solver is compared on the metric it was trained for).
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
BASELINE_DIR = ROOT / "results" / "baselines"


def n_test_instances(row):
    """Instances a solver run handles: the test split (``n_test`` dataset parameter)."""
    return int(row["p_dataset_n_test"])


def sparse_analysis_batch(row):
    """sparse_analysis solvers infer test + shifted test (``n_test`` each) + calibration samples."""
    return int(2 * row["p_dataset_n_test"] + min(row["p_obj_n_calibration"], row["p_dataset_n_train"]))


def ct_batch(row):
    """ct solvers infer the test measurements and the calibration ones (from the training split)."""
    return int(row["p_dataset_n_test"] + min(row["p_obj_n_calibration"], row["p_dataset_n_train"]))


@dataclass(frozen=True)
class Benchmark:
    """One benchmark of the suite.

    Parameters
    ----------
    name : str
        Folder name under ``benchmarks/``.
    config : str
        Quick run config, relative to the repository root.
    accuracy : str
        Metric (lower is better) for accuracy at a budget and the break-even analysis.
    max_budget : int
        Largest budget (iterations) kept in the baseline: small budgets are reached on any
        machine before benchopt's timeout.
    timeout : int
        benchopt ``timeout`` (seconds per curve) of the regression runs, at least the config's:
        ``max_runs`` already bounds their work, so a generous timeout only stops a hang and
        keeps a loaded machine from cutting curves short (the quick configs' 10-60 s do).
    instances : callable
        Row of the tidy table → number of problem instances one solver run solves (the time
        per instance of the break-even analysis is ``time_s / instances``).
    max_runs : int
        ``max-runs`` of the regression runs (capped by the config's): enough points to pass
        ``max_budget`` (benchopt's iteration schedule is 0, 1, 2, 3, 4, 6, 9, 13, ...), so the
        check skips the long tail of each curve, which the baseline does not keep anyway.
    trained_metrics : dict
        ``{loss: metric}``: the column (lower is better) a learned solver trained with ``loss``
        (its ``loss=`` parameter) is compared on in the break-even analysis; a loss not listed,
        or a solver without a ``loss`` parameter, is compared on ``accuracy``. The same pairs as
        the benchmark's ``BenchmarkData.trained_metrics``, with ``value`` read as
        ``suboptimality`` (F − F* orders solvers as F does, on the same test set).
    """

    name: str
    config: str
    accuracy: str = "suboptimality"
    max_budget: int = 10
    max_runs: int = 8
    timeout: int = 300
    instances: Callable = n_test_instances
    trained_metrics: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def path(self):
        return ROOT / "benchmarks" / self.name

    @property
    def config_path(self):
        return ROOT / self.config

    @property
    def baseline_path(self):
        return BASELINE_DIR / f"{self.name}.csv"


BENCHMARKS = {b.name: b for b in [
    Benchmark("lasso", "benchmarks/lasso/configs/quick.yml", accuracy="suboptimality",
              trained_metrics={"supervised": "nmse_db", "semi-supervised": "nmse_lasso_db",
                               "unsupervised": "suboptimality", "trajectory": "suboptimality"}),
    Benchmark("sparse_analysis", "benchmarks/sparse_analysis/configs/quick.yml", accuracy="rel_error",
              instances=sparse_analysis_batch),
    Benchmark("tv_deconvolution", "benchmarks/tv_deconvolution/configs/quick.yml", accuracy="suboptimality"),
    Benchmark("l1_logistic", "benchmarks/l1_logistic/configs/quick.yml", accuracy="rel_suboptimality",
              trained_metrics={"trajectory": "rel_suboptimality"}),
    Benchmark("shortest_path", "benchmarks/shortest_path/configs/quick.yml", accuracy="regret", max_budget=1),
    Benchmark("ct", "benchmarks/ct/configs/quick.yml", accuracy="rel_error", max_budget=64, instances=ct_batch),
]}


def get(names=None):
    """Registered benchmarks, all or those named (an unknown name is an error listing the known)."""
    if not names:
        return list(BENCHMARKS.values())
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise ValueError(f"unknown benchmark(s) {unknown}; registered: {sorted(BENCHMARKS)} "
                         "(add a line to l2obench/results/registry.py).")
    return [BENCHMARKS[n] for n in names]
