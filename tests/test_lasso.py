"""The Lasso library: objective pieces, the reference solve, data sets and classical solvers."""
import numpy as np
import pytest
import torch
from sklearn.linear_model import Lasso

from l2obench.datasets.sparse_coding import (load_digits_coding, make_compressed_sensing,
                                             make_equiregularized)
from l2obench.objectives.lasso import (dual_value, lambda_max, lasso_grad, lasso_value, lipschitz,
                                       nmse_db, reference_solve, support_metrics)
from l2obench.solvers.classical.admm import LassoADMM
from l2obench.solvers.classical.ista import ISTA, ista_step, ista_weights
from l2obench.solvers.classical.oracle_ista import OracleISTA
from l2obench.solvers.classical.sklearn_lasso import SklearnLasso


def problem(seed=0, m=20, n=30, B=6, reg=0.3):
    rng = np.random.default_rng(seed)
    D = torch.from_numpy(rng.standard_normal((m, n)))
    X = torch.from_numpy(rng.standard_normal((B, m)))
    return D, X, reg * lambda_max(D, X)


def sklearn_values(D, X, lmbd):
    """Per-sample objective of scikit-learn's Lasso at a very tight tolerance."""
    Dn, m = D.numpy(), D.shape[0]
    Z = np.stack([Lasso(alpha=float(l) / m, fit_intercept=False, tol=1e-14, max_iter=100_000)
                  .fit(Dn, x.numpy()).coef_ for x, l in zip(X, lmbd)])
    return lasso_value(D, X, torch.from_numpy(Z), lmbd)


SOLVERS = {
    "ISTA": (ISTA(), 2_000),
    "FISTA": (ISTA(accelerated=True), 1_000),
    "FISTA-residual-form": (ISTA(accelerated=True, form="residual"), 1_000),
    "ADMM": (LassoADMM(), 1_000),
    "OracleISTA": (OracleISTA(), 1_000),
    "sklearn-cd": (SklearnLasso("cd"), 10_000),
    "sklearn-lars": (SklearnLasso("lars"), 500),
}


@pytest.fixture(scope="module")
def reference():
    D, X, lmbd = problem()
    return D, X, lmbd, sklearn_values(D, X, lmbd)


@pytest.mark.parametrize("name", SOLVERS)
def test_solver_reaches_sklearn_solution(name, reference):
    D, X, lmbd, F_sk = reference
    solver, n_iter = SOLVERS[name]
    F = lasso_value(D, X, solver.solve(D, X, lmbd, n_iter), lmbd)
    assert torch.all((F - F_sk).abs() / F_sk <= 1e-8), (F - F_sk) / F_sk


@pytest.mark.parametrize("warm_start", [True, False])
def test_reference_is_certified_and_below_every_solver(reference, warm_start):
    D, X, lmbd, F_sk = reference
    ref = reference_solve(D, X, lmbd, tol=1e-13, warm_start=warm_start)
    assert torch.all(ref.gap <= 1e-13 * ref.value)
    assert torch.all(dual_value(D, X, ref.Z, lmbd) <= F_sk + 1e-12)
    for solver, n_iter in SOLVERS.values():
        F = lasso_value(D, X, solver.solve(D, X, lmbd, min(n_iter, 200)), lmbd)
        assert torch.all(ref.value <= F + 1e-12 * F)


@pytest.mark.parametrize("name", SOLVERS)
def test_lambda_above_lambda_max_gives_zero(name):
    D, X, _ = problem(1)
    solver, _ = SOLVERS[name]
    Z = solver.solve(D, X, 1.01 * lambda_max(D, X), 50)
    assert torch.all(Z == 0)


@pytest.mark.parametrize("name", ["ISTA", "FISTA", "ADMM", "OracleISTA", "sklearn-cd"])
def test_batched_equals_per_sample(name):
    D, X, lmbd = problem(2)
    solver, _ = SOLVERS[name]
    Z = solver.solve(D, X, lmbd, 40)
    for i in range(X.shape[0]):
        torch.testing.assert_close(solver.solve(D, X[i:i + 1], lmbd[i:i + 1], 40)[0], Z[i],
                                   rtol=1e-10, atol=1e-12)


def test_analytic_step_is_an_ista_iteration():
    D, X, lmbd = problem(3)
    W_x, W_z = ista_weights(D)
    alpha = 1 / lipschitz(D)
    z = ISTA().solve(D, X, lmbd, 5)
    manual = z - alpha * lasso_grad(D, X, z)
    expected = torch.sign(manual) * torch.clamp(manual.abs() - (lmbd * alpha)[:, None], min=0)
    torch.testing.assert_close(ista_step(z, X @ W_x, W_z, (lmbd * alpha)[:, None]), expected)
    torch.testing.assert_close(ISTA().solve(D, X, lmbd, 6), expected)


def test_float32_runs_and_stays_float32():
    D, X, lmbd = problem(4)
    Z = ISTA(accelerated=True).solve(D.float(), X.float(), lmbd.float(), 10)
    assert Z.dtype == torch.float32


def test_diverging_step_gives_nonfinite_or_huge_iterates_not_an_error():
    # a small λ keeps a large support, where the curvature is close to L: step 2.5/L > 2/L_S
    D, X, lmbd = problem(5, reg=0.05)
    Z = ISTA(step=2.5).solve(D, X, lmbd, 400)
    F0 = lasso_value(D, X, torch.zeros_like(Z), lmbd)
    F = lasso_value(D, X, Z, lmbd)
    assert not torch.isfinite(F).all() or torch.all(F > 10 * F0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lmbd=-0.1), "lmbd"),
    (dict(X=torch.zeros(3, 7, dtype=torch.float64)), "X has shape"),
    (dict(X=torch.full((3, 20), float("nan"), dtype=torch.float64)), "X contains NaN"),
    (dict(D=torch.full((20, 30), float("inf"), dtype=torch.float64)), "D contains NaN or Inf"),
    (dict(n_iter=-1), "n_iter"),
])
@pytest.mark.parametrize("name", ["ISTA", "ADMM", "OracleISTA", "sklearn-cd"])
def test_bad_input_raises_clear_error(name, kwargs, match):
    D, X, lmbd = problem(6)
    args = dict(D=D, X=X, lmbd=lmbd, n_iter=10) | kwargs
    with pytest.raises(ValueError, match=match):
        SOLVERS[name][0].solve(**args)


@pytest.mark.parametrize("solver, match", [
    (ISTA(step=0.0), "step"), (ISTA(form="dense"), "form"), (LassoADMM(rho=-1), "rho"),
    (OracleISTA(n_power=0), "n_power"), (SklearnLasso("newton"), "method"),
])
def test_bad_hyper_parameter_raises_clear_error(solver, match):
    D, X, lmbd = problem(7)
    with pytest.raises(ValueError, match=match):
        solver.solve(D, X, lmbd, 5)


def test_nmse_and_support_metrics():
    Z_true = torch.tensor([[1.0, 0.0, -2.0], [0.0, 3.0, 0.0]])
    assert nmse_db(Z_true, Z_true) == float("-inf")
    assert nmse_db(torch.zeros_like(Z_true), Z_true) == pytest.approx(0.0)
    assert nmse_db(1.1 * Z_true, Z_true) == pytest.approx(-20.0)
    Z = torch.tensor([[0.5, 0.1, 0.0], [0.0, 1.0, 0.0]])
    assert support_metrics(Z, Z_true) == pytest.approx((2 / 3, 2 / 3))


def test_compressed_sensing_matches_published_setting():
    data = make_compressed_sensing(n_train=2000, n_test=10, seed=0)
    assert data.D.shape == (250, 500)
    torch.testing.assert_close(data.D.norm(dim=0), torch.ones(500, dtype=torch.float64))
    assert abs(float((data.Z_train != 0).double().mean()) - 0.1) < 0.005
    torch.testing.assert_close(data.X_train, data.Z_train @ data.D.T)
    noisy = make_compressed_sensing(n_train=2000, n_test=10, snr=20.0, seed=0)
    noise = noisy.X_train - noisy.Z_train @ noisy.D.T
    snr = 20 * np.log10(float(data.X_train.std() / noise.std()))
    assert snr == pytest.approx(20.0, abs=0.3)


@pytest.mark.parametrize("make", [
    lambda seed: make_equiregularized(50, 20, seed=seed),
    lambda seed: load_digits_coding(50, 20, seed=seed),
])
def test_equiregularized_sets_have_lambda_max_one(make):
    data = make(0)
    assert data.D.shape == (64, 256)
    torch.testing.assert_close(lambda_max(data.D, data.X_test), torch.ones(20, dtype=torch.float64))
    assert data.X_train.shape == (50, 64) and data.X_test.shape == (20, 64)
    torch.testing.assert_close(make(0).X_test, data.X_test)   # same seed, same data
    assert not torch.equal(make(1).X_test, data.X_test)      # another seed, other data


def test_digits_split_is_disjoint_and_bounded():
    data = load_digits_coding(100, 50, seed=0)
    rows = {tuple(np.round(x.numpy(), 12)) for x in data.X_train}
    assert not rows & {tuple(np.round(x.numpy(), 12)) for x in data.X_test}
    with pytest.raises(ValueError, match="n_train"):
        load_digits_coding(n_train=5000, n_test=10)


@pytest.mark.parametrize("name", ["ISTA", "FISTA", "ADMM", "OracleISTA"])
def test_float32_iterates_track_float64(name):
    # float32 must not break a solver (OracleISTA once normalised by a float64-only epsilon)
    D, X, lmbd = problem(8)
    solver, _ = SOLVERS[name]
    Z64 = solver.solve(D, X, lmbd, 50)
    Z32 = solver.solve(D.float(), X.float(), lmbd.float(), 50)
    assert torch.isfinite(Z32).all()
    F64, F32 = lasso_value(D, X, Z64, lmbd), lasso_value(D, X, Z32.double(), lmbd)
    assert torch.all((F32 - F64).abs() <= 1e-4 * F64)
