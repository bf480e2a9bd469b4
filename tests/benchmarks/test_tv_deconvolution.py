"""The tv_deconvolution benchopt objective: metrics, and a diverged solver gives a flagged row."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from benchopt.benchmark import Benchmark

from l2obench.datasets.tv_deconvolution import make_tv_synthetic
from l2obench.solvers.classical.proximal_gradient import ProximalGradient

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "tv_deconvolution"


@pytest.fixture(scope="module")
def objective():
    bench = Benchmark(BENCH)
    obj = bench.get_benchmark_objective().get_instance(reg=0.3, dtype="float64")
    obj.set_data(**make_tv_synthetic(20, 10, seed=0).as_dict())  # what the tv-synthetic dataset returns
    return obj


def test_metrics_at_the_reference_and_at_zero(objective):
    at_ref = objective.evaluate_result(Z=objective.ref.Z)
    assert abs(at_ref["suboptimality"]) < 1e-9 and not at_ref["diverged"]
    at_zero = objective.evaluate_result(**objective.get_one_result())
    assert at_zero["suboptimality"] > 0 and np.isfinite(at_zero["nmse_db"])


def test_divergence_is_flagged_not_raised(objective):
    nan = objective.evaluate_result(Z=np.full(tuple(objective.ref.Z.shape), np.nan))
    # value is a finite sentinel, P(0), so that benchopt keeps the row; every other metric is NaN
    sentinel = float(objective.P0.mean())
    assert nan["diverged"] and nan["value"] == sentinel and math.isnan(nan["suboptimality"])
    o = objective
    Z = ProximalGradient(step=20.0).solve(o.problem, o.X_test, o.lmbd, 200)  # step far above 2/L
    blown = objective.evaluate_result(Z=Z)
    assert blown["diverged"] and blown["value"] == sentinel and math.isnan(blown["suboptimality"])


def test_learned_metadata_is_reported(objective):
    res = objective.evaluate_result(Z=torch.zeros_like(objective.ref.Z), train_time=1.5, n_params=7, trained_depth=3,
                                    train_diverged=True, train_steps=4, train_stopped_early=True,
                                    trained_metric="value")
    assert (res["train_time"], res["n_params"], res["trained_depth"], res["train_diverged"]) == (1.5, 7, 3, True)
    assert (res["train_steps"], res["train_stopped_early"], res["trained_metric"]) == (4, True, "value")
