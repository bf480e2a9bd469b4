"""The Lasso problem: value, λ_max, dual value, weights, and the support metrics."""
import pytest
import torch

from l2obench.objectives.lasso import LassoProblem, lambda_max, lasso_value, support_metrics
from support import assert_dual_is_a_tight_lower_bound
from support import random_lasso as lasso


def test_value_and_lambda_max():
    problem, X, lmbd = lasso()
    Z = torch.randn(6, 30, dtype=torch.float64)
    expected = 0.5 * ((X - Z @ problem.D.T) ** 2).sum(1) + lmbd * Z.abs().sum(1)
    torch.testing.assert_close(problem.value(X, Z, lmbd), expected)
    torch.testing.assert_close(lasso_value(problem.D, X, Z, lmbd), expected)
    torch.testing.assert_close(problem.value(X, Z, lmbd[:, None]), expected)
    torch.testing.assert_close(lambda_max(problem.D, X), (X @ problem.D).abs().amax(dim=1))
    # z = 0 is optimal iff λ >= λ_max: the gradient at 0 is −Dᵀx
    grad0 = problem.datafit.grad(X, torch.zeros_like(Z))
    torch.testing.assert_close(grad0.abs().amax(dim=1), problem.lambda_max(X))


def test_dual_value_is_a_lower_bound_and_tight_at_the_optimum():
    problem, X, lmbd = lasso(1)
    assert_dual_is_a_tight_lower_bound(problem, X, lmbd, tol=1e-13)
    # at λ >= λ_max the dual point at z = 0 is x itself: dual = ½‖x‖² = F(0)
    lmax = problem.lambda_max(X)
    zero = torch.zeros(6, 30, dtype=torch.float64)
    torch.testing.assert_close(problem.dual_value(X, zero, lmax), problem.value(X, zero, lmax))


def test_weighted_lasso():
    problem, X, lmbd = lasso(2)
    w = torch.linspace(0.0, 2.0, 30, dtype=torch.float64)
    weighted = LassoProblem(problem.D, weights=w)
    Z = torch.randn(6, 30, dtype=torch.float64)
    expected = 0.5 * ((X - Z @ problem.D.T) ** 2).sum(1) + lmbd * (w * Z.abs()).sum(1)
    torch.testing.assert_close(weighted.value(X, Z, lmbd), expected)
    assert problem.has_dual and not weighted.has_dual
    with pytest.raises(NotImplementedError):
        weighted.dual_value(X, Z, lmbd)
    with pytest.raises(ValueError, match="weights"):
        LassoProblem(problem.D, weights=-w)


def test_double_keeps_the_weights():
    D = torch.randn(5, 8)
    assert LassoProblem(D).double().D.dtype == torch.float64
    weighted = LassoProblem(D, weights=torch.ones(8)).double()
    assert weighted.D.dtype == torch.float64 and weighted.penalty.weights.dtype == torch.float64
    problem = LassoProblem(D.double())
    assert problem.double() is problem


def test_bad_dictionary_raises_clear_error():
    # the problem validates the dictionary once, at construction, under its own name
    with pytest.raises(ValueError, match="D contains NaN or Inf"):
        LassoProblem(torch.full((20, 30), float("inf"), dtype=torch.float64))
    with pytest.raises(ValueError, match="D must be a non-empty matrix with a non-zero entry"):
        LassoProblem(torch.zeros(20, 30, dtype=torch.float64))


def test_support_metrics():
    Z_true = torch.tensor([[1.0, 0.0, -2.0], [0.0, 3.0, 0.0]])
    Z = torch.tensor([[0.5, 0.1, 0.0], [0.0, 1.0, 0.0]])
    assert support_metrics(Z, Z_true) == pytest.approx((2 / 3, 2 / 3))
    assert support_metrics(Z, Z_true, tol=0.2) == pytest.approx((1.0, 2 / 3))
    assert support_metrics(torch.zeros_like(Z), Z_true) == (1.0, 0.0)
