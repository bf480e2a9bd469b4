"""The sparse-analysis benchmark objective as benchopt loads it: a diverged solver is flagged, not lost."""
import math
from pathlib import Path

import pytest

from l2obench.datasets.sparse_analysis import make_sparse_analysis

SMALL = dict(n=24, latent_dim=3, m=10, n_train=128, n_val=32, n_test=32, shift=2)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data():
    return make_sparse_analysis(**SMALL, seed=0)


def test_benchmark_objective_flags_a_diverged_solver(data):
    from benchopt.benchmark import Benchmark  # the objective as benchopt loads it

    bench = Benchmark(ROOT / "benchmarks" / "sparse_analysis")
    objective = bench.get_benchmark_objective().get_instance(dtype="float64", n_calibration=16)
    keys = ("A", "x_train", "d_train", "x_val", "d_val", "x_test", "d_test", "x_shift", "d_shift")
    objective.set_data(**{k: data[k] for k in keys})
    x = objective.get_one_result()["x"]
    x[3, 2] = math.inf
    row = objective.evaluate_result(x=x)
    # value is a finite sentinel (1.0, the error of x = 0) so that benchopt keeps the row
    assert row["diverged"] and row["value"] == 1.0 and math.isnan(row["rel_error"])
    with pytest.raises(ValueError, match="x must have shape"):
        objective.evaluate_result(x=x[:, :5])
