"""ADMM, one implementation: the Lasso (K = I) and TV (K = first differences)."""
import pytest
import torch

from l2obench.datasets.tv_deconvolution import make_tv_synthetic
from l2obench.objectives.tv_deconvolution import TVProblem
from l2obench.solvers.classical.admm import ADMM
from l2obench.solvers.classical.reference import certified_solve
from support import random_lasso as lasso
from support import assert_reaches


def test_reaches_the_certified_tv_optimum(tv_problems):
    for problem, X, lam, ref in tv_problems:
        assert_reaches(problem, X, lam, ref.value, ADMM(rho=3.0).solve(problem, X, lam, 2_000))


def test_lasso_iterate_is_exactly_sparse():
    problem, X, lmbd = lasso()
    Z = ADMM().solve(problem, X, lmbd, 1_000)
    ref = certified_solve(problem, X, lmbd, tol=1e-13)
    assert torch.equal(Z == 0, ref.Z == 0)


@pytest.mark.parametrize("make", [lambda: lasso(7)[0], lambda: TVProblem(torch.eye(3, dtype=torch.float64))])
@pytest.mark.parametrize("rho", [-1.0, 0.0, float("nan")])
def test_bad_rho_names_the_parameter(make, rho):
    problem = make()
    X = torch.ones(1, problem.shape[0], dtype=torch.float64)
    with pytest.raises(ValueError, match="rho"):
        ADMM(rho=rho).solve(problem, X, 0.1, 5)


def test_callback_sees_the_iterates():
    data = make_tv_synthetic(2, 4, seed=7)
    problem = TVProblem(data.H)
    lam = 0.2 * problem.lambda_max(data.X_test)
    seen = {}
    ADMM(rho=3.0).solve(problem, data.X_test, lam, 6, callback=lambda k, z: seen.setdefault(k, z.clone()))
    assert sorted(seen) == list(range(1, 7))
    assert torch.allclose(seen[4], ADMM(rho=3.0).solve(problem, data.X_test, lam, 4), atol=1e-13)
