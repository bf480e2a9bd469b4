"""The tv_deconvolution benchopt objective: metrics, and a diverged solver gives a flagged row; the
shifted test sets: rows of their own, the same training data (one training, from the cache)."""
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from benchopt.benchmark import Benchmark
from benchopt.utils.run_context import RunContext

from l2obench.datasets.tv_deconvolution import make_tv_synthetic
from l2obench.results.tables import tidy
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from support import run_benchopt

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


# quick.yml's data sets and the names their rows had before `test_set` existed (results/baselines)
QUICK = [
    ("tv-synthetic", dict(n_train=500, n_test=100, n_dim=8, n_measurements=5),
     "tv-synthetic[n_dim=8,n_measurements=5,n_test=100,n_train=500,noise=0.1,p_jump=0.3]"),
    ("fmri-like", dict(n_train=200, n_test=32, n_times=100),
     "fmri-like[design=mixed,n_test=32,n_times=100,n_train=200,snr=10.0]"),
]


@pytest.mark.parametrize("name, params, row_name", QUICK, ids=[q[0] for q in QUICK])
def test_shifted_rows_have_their_own_name_and_the_same_training_data(name, params, row_name):
    cls = next(d for d in Benchmark(BENCH).get_datasets() if d.name == name)
    default, shifted = cls.get_instance(**params), cls.get_instance(**params, test_set="shifted")
    assert str(default) == str(cls.get_instance(**params, test_set="in-distribution")) == row_name  # names kept
    assert str(shifted) == row_name[:-1] + ",test_set=shifted]"
    data = []
    for dataset in (default, shifted):
        dataset._run_context = RunContext(base_seed="0", repetition=0)  # what benchopt sets before get_data
        data.append(dataset.get_data())
    for key in ("H", "X_train", "Z_train"):
        assert torch.equal(data[0][key], data[1][key]), key
    assert not torch.equal(data[0]["X_test"], data[1]["X_test"])


@pytest.mark.slow
def test_a_learned_solver_is_trained_once_for_both_test_sets(tmp_path):
    out = tmp_path / "run.parquet"
    data = "tv-synthetic[n_train=40,n_test=8,n_dim=8,n_measurements=5,test_set=[in-distribution,shifted]]"
    proc = run_benchopt("tv_deconvolution", "-s", "LPGD-Taut[n_layers=2,n_steps=10]", "-o", "tv-deconvolution[reg=0.5]",
                        "-d", data, "-n", "3", "--seed", "0", "--output", str(out), cache=tmp_path / "cache", timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = tidy(pd.read_parquet(out))
    rows = {shifted: part for shifted, part in table.groupby(table["dataset"].str.contains("test_set=shifted"))}
    assert set(rows) == {False, True} and "test_set" not in rows[False]["dataset"].iloc[0]
    # the shifted rows' model is the cache's hit: the training's metadata, time included, is the same
    for key in ("train_time", "train_steps", "n_params"):
        assert rows[False][key].iloc[0] == rows[True][key].iloc[0] > 0, key
    assert rows[False]["value"].iloc[-1] != rows[True]["value"].iloc[-1]
