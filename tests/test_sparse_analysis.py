"""sparse_analysis: data generator, metrics and certificates, classical/learned ADMM, cached training."""
import math
from pathlib import Path

import pytest
import torch

from l2obench.datasets.sparse_analysis import make_sparse_analysis
from l2obench.objectives import sparse_analysis as sa
from l2obench.solvers.cache import WeightCache
from l2obench.solvers.implicit.learned_sparse_analysis import build_model, infer, mse_loss, train_model
from l2obench.solvers.implicit.sparse_analysis_admm import analytic_transform
from l2obench.solvers.prox import soft_threshold
from l2obench.solvers.training import TrainConfig

SMALL = dict(n=24, latent_dim=3, m=10, n_train=128, n_val=32, n_test=32, shift=2)


@pytest.fixture(scope="module")
def data():
    return make_sparse_analysis(**SMALL, seed=0)


def test_generator_is_seeded_and_consistent(data):
    again, other = make_sparse_analysis(**SMALL, seed=0), make_sparse_analysis(**SMALL, seed=1)
    assert all(torch.equal(data[k], again[k]) for k in data)
    assert not torch.equal(data["x_train"], other["x_train"])
    assert data["A"].shape == (10, 24) and data["x_test"].shape == (32, 24) and data["d_shift"].shape == (32, 10)
    torch.testing.assert_close(data["d_train"], data["x_train"] @ data["A"].T)
    proj = data["M"] @ torch.linalg.pinv(data["M"])          # x* lies in range(M), the shift not
    torch.testing.assert_close(data["x_test"] @ proj.T, data["x_test"])
    assert not torch.equal(data["M"], data["M_shift"])
    assert math.isclose(float(torch.linalg.matrix_norm(data["A"], 2)), 1.0, rel_tol=1e-12)


@pytest.mark.parametrize("bad", [dict(latent_dim=10), dict(m=30), dict(shift=-1), dict(dtype="float16"),
                                 dict(n_train=0)])
def test_generator_rejects_bad_parameters(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        make_sparse_analysis(**{**SMALL, **bad})


def test_metrics(data):
    x, A, d = data["x_test"], data["A"], data["d_test"]
    assert float(sa.relative_error(x, x).max()) == 0.0
    assert float(sa.constraint_violation(x, A, d).max()) < 1e-14
    x_ls = d @ torch.linalg.pinv(A).T
    assert float(sa.constraint_violation(x_ls, A, d).max()) < 1e-12
    assert float(sa.relative_error(x_ls, x).mean()) > 0.3
    diff = analytic_transform(24, "difference")
    assert float(sa.sparsity(x, diff).min()) >= (24 - 3 - 1) / 24      # at most latent_dim + 1 jumps
    assert float(sa.sparsity(x_ls, diff).mean()) < 0.5


def test_certificates_flag_the_tail_and_a_shift():
    g = torch.Generator().manual_seed(0)
    calib = torch.randn(4000, generator=g, dtype=torch.float64).abs()
    thresholds = sa.certificate_thresholds(calib)
    same = sa.certificate_rates(sa.certify(torch.randn(4000, generator=g, dtype=torch.float64).abs(), thresholds))
    assert abs(same["fail"] - 0.05) < 0.02 and abs(same["warning"] - 0.27) < 0.04
    shifted = sa.certificate_rates(sa.certify(3 * torch.randn(4000, generator=g, dtype=torch.float64).abs(), thresholds))
    assert shifted["fail"] > 0.5
    assert sorted(sa.certify(torch.tensor([0.0, float(thresholds[0]) + 1e-9, 1e9]), thresholds).tolist()) == [0, 1, 2]


def test_evaluate_flags_divergence_instead_of_raising(data):
    x = data["x_test"].clone()
    x[0, 0] = math.nan
    out = sa.evaluate(x, data["x_test"], data["A"], data["d_test"], calibration=(data["x_train"], data["d_train"]))
    assert out["diverged"] and math.isnan(out["rel_error"]) and math.isnan(out["cert_fidelity_fail"])
    ok = sa.evaluate(data["x_test"], data["x_test"], data["A"], data["d_test"],
                     calibration=(data["x_train"], data["d_train"]))
    assert not ok["diverged"] and ok["rel_error"] == 0.0


def test_untrained_model_is_the_classical_admm_iteration(data):
    A, d = data["A"], data["d_test"]
    alpha, beta, lam = 1.0, 0.45, 1.0
    theta = analytic_transform(24, "difference")
    theta = theta / torch.linalg.matrix_norm(theta, 2)
    x = d @ torch.linalg.pinv(A).T          # REFERENCES.md, "Sparse analysis", written out here
    p, nu, om = x @ theta.T, torch.zeros(32, 24, dtype=d.dtype), torch.zeros_like(d)
    for _ in range(6):
        p_new = soft_threshold(p + lam * (nu + alpha * (x @ theta.T - p)), lam)
        nu_new = nu + alpha * (x @ theta.T - p_new)
        om_new = om + alpha * (x @ A.T - d)
        x = x - beta * ((2 * nu_new - nu) @ theta + (2 * om_new - om) @ A)
        p, nu, om = p_new, nu_new, om_new
    for learn in (True, False):
        model = build_model(A, init="difference", learn_theta=learn, alpha=alpha, beta=beta, lam=lam)
        torch.testing.assert_close(infer(model, d, 6), x)


def test_training_improves_on_least_squares_and_is_cached(data, tmp_path):
    train_data, val_data = (data["d_train"], data["x_train"]), (data["d_val"], data["x_val"])
    config = TrainConfig(n_steps=40, batch_size=32, lr=1e-2, eval_every=10, patience=0, seed=0)
    cache = WeightCache(tmp_path)
    model = build_model(data["A"], init="identity", backward="jfb", depth=30)
    with torch.no_grad():
        before = float(mse_loss(model, *val_data))
    meta = train_model(model, train_data, val_data, config, cache=cache)
    assert not meta["cache_hit"] and meta["best_val"] < before and meta["peak_memory"] > 0
    err = float(sa.relative_error(infer(model, data["d_test"], 30), data["x_test"]).mean())
    x_ls = data["d_test"] @ torch.linalg.pinv(data["A"]).T
    assert err < float(sa.relative_error(x_ls, data["x_test"]).mean())
    again = build_model(data["A"], init="identity", backward="jfb", depth=30)
    assert train_model(again, train_data, val_data, config, cache=cache)["cache_hit"]
    torch.testing.assert_close(again.operator.theta, model.operator.theta)
    other = build_model(data["A"], init="identity", backward="unrolled", depth=30)
    assert not train_model(other, train_data, val_data, config, cache=cache)["cache_hit"]


def test_benchmark_objective_flags_a_diverged_solver(data):
    from benchopt.benchmark import Benchmark  # the objective as benchopt loads it

    bench = Benchmark(Path(__file__).resolve().parents[1] / "benchmarks" / "sparse_analysis")
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
