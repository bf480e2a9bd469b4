"""The Lasso problem: value, λ_max, dual value, weights, and the support metrics."""
import pytest
import torch

from l2obench.objectives.lasso import BatchedLassoProblem, LassoProblem, lambda_max, lasso_value, support_metrics
from l2obench.solvers.classical.reference import certified_solve
from support import assert_dual_is_a_tight_lower_bound, sklearn_lasso_values
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


def batched_lasso(B=5, m=12, n=20, seed=0, reg=0.3):
    """Gaussian dictionaries, one per row, Gaussian signals, λ = reg·λ_max: ``(problem, X, lmbd)``."""
    g = torch.Generator().manual_seed(seed)
    D = torch.randn(B, m, n, generator=g, dtype=torch.float64)
    X = torch.randn(B, m, generator=g, dtype=torch.float64)
    problem = BatchedLassoProblem(D)
    return problem, X, reg * problem.lambda_max(X)


def test_batched_lasso_is_the_lasso_of_each_row():
    problem, X, lmbd = batched_lasso()
    assert problem.shape == (12, 20) and problem.n_instances == 5 and problem.has_dual
    Z = torch.randn(5, 20, dtype=torch.float64)
    per_row = [LassoProblem(D) for D in problem.D]
    loop = lambda method, *args: torch.cat([getattr(p, method)(*(a[i:i + 1] for a in args))  # noqa: E731
                                            for i, p in enumerate(per_row)])
    torch.testing.assert_close(problem.value(X, Z, lmbd), loop("value", X, Z, lmbd))
    torch.testing.assert_close(problem.lambda_max(X), loop("lambda_max", X))
    torch.testing.assert_close(problem.dual_value(X, Z, lmbd), loop("dual_value", X, Z, lmbd))
    torch.testing.assert_close(problem.datafit.lipschitz[:, 0],
                               torch.tensor([p.datafit.lipschitz for p in per_row], dtype=torch.float64))
    assert problem.fingerprint_tensors()[0] is problem.D
    assert torch.equal(problem.analysis_matrix(), torch.eye(20, dtype=torch.float64))  # K = I on the codes


def test_batched_dual_is_a_tight_lower_bound_and_agrees_with_sklearn():
    problem, X, lmbd = batched_lasso(seed=1)
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):  # weak duality anywhere
        Z1, Z2 = (torch.randn(5, 20, generator=gen, dtype=torch.float64) for _ in range(2))
        assert torch.all(problem.dual_value(X, Z1, lmbd) <= problem.value(X, Z2, lmbd) + 1e-12)
    ref = certified_solve(problem, X, lmbd, tol=1e-12)
    assert ref.certified(1e-12) and torch.all(ref.gap >= -1e-12 * ref.value)
    F_sk = torch.cat([sklearn_lasso_values(LassoProblem(D), X[i:i + 1], lmbd[i:i + 1])
                      for i, D in enumerate(problem.D)])
    torch.testing.assert_close(ref.value, F_sk, rtol=1e-10, atol=0)
    lmax, zero = problem.lambda_max(X), torch.zeros(5, 20, dtype=torch.float64)
    torch.testing.assert_close(problem.dual_value(X, zero, lmax), problem.value(X, zero, lmax))


def test_batched_check_inputs_wants_one_row_per_instance():
    problem, X, lmbd = batched_lasso()
    X32, lam, Z = problem.check_inputs(X, lmbd)
    assert lam.shape == (5, 1) and Z.shape == (5, 20)
    with pytest.raises(ValueError, match=r"X must have one row per instance of the problem \(5\), got 4 rows"):
        problem.check_inputs(X[:4], lmbd[:4])
    with pytest.raises(ValueError, match="X has shape"):
        problem.check_inputs(X[:, :11], lmbd)
    with pytest.raises(ValueError, match="z0"):
        problem.check_inputs(X, lmbd, z0=torch.zeros(4, 20))
    with pytest.raises(ValueError, match="D must have 3 dimensions"):
        BatchedLassoProblem(torch.ones(12, 20))
    with pytest.raises(ValueError, match="D must have a non-zero entry in every instance"):
        BatchedLassoProblem(torch.zeros(2, 12, 20))


def test_batched_index_double_and_to():
    problem, X, lmbd = batched_lasso()
    L = problem.datafit.lipschitz
    idx = torch.tensor([4, 1])
    sub = problem.index(idx)
    assert isinstance(sub, BatchedLassoProblem) and torch.equal(sub.D, problem.D[idx])
    torch.testing.assert_close(sub.datafit.lipschitz, L[idx], rtol=0, atol=0)
    torch.testing.assert_close(sub.value(X[idx], X[idx] @ torch.ones(12, 20, dtype=torch.float64), lmbd[idx]),
                               problem.value(X, X @ torch.ones(12, 20, dtype=torch.float64), lmbd)[idx])
    assert problem.double() is problem and problem.to("cpu") is problem
    single = BatchedLassoProblem(problem.D.float())
    assert single.double().D.dtype == torch.float64 and torch.equal(single.double().D, problem.D.float().double())
    shared = LassoProblem(problem.D[0])
    assert shared.n_instances is None and shared.index(idx) is shared
