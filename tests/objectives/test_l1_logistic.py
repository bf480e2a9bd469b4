"""ℓ1-logistic regression, one data set per row: value and gradient against autograd, the Lipschitz
constant, λ_max, the certified dual and scikit-learn's liblinear as an independent reference."""
import warnings

import numpy as np
import pytest
import torch

from l2obench.objectives.l1_logistic import L1LogisticProblem, LogisticDatafit, entropy, softplus
from l2obench.solvers.classical.reference import certified_solve


def instances(B=4, N=60, p=8, seed=0, noise=0.5):
    """Gaussian features, labels of a sparse linear model with noise: ``(problem, y)``."""
    g = torch.Generator().manual_seed(seed)
    F = torch.randn(B, N, p, generator=g, dtype=torch.float64)
    w = torch.randn(B, p, generator=g, dtype=torch.float64) * (torch.arange(p) < 3)
    y = torch.einsum("bnp,bp->bn", F, w) + noise * torch.randn(B, N, generator=g, dtype=torch.float64)
    return L1LogisticProblem(F), torch.where(y >= 0, 1.0, -1.0).double()


def test_value_and_gradient_match_the_formula_and_autograd():
    problem, y = instances()
    F = problem.F
    W = torch.randn(4, 8, dtype=torch.float64, requires_grad=True)
    value = problem.datafit.value(y, W)
    expected = torch.stack([torch.log1p(torch.exp(-y[i] * (F[i] @ W[i]))).mean() for i in range(4)])
    torch.testing.assert_close(value, expected)
    (autograd,) = torch.autograd.grad(value.sum(), W)
    torch.testing.assert_close(problem.datafit.grad(y, W.detach()), autograd)
    torch.testing.assert_close(problem.value(y, W.detach(), 0.1), expected.detach() + 0.1 * W.detach().abs().sum(1))


def test_softplus_and_entropy_are_exact_at_large_arguments():
    t = torch.tensor([-800.0, -30.0, 0.0, 30.0, 800.0], dtype=torch.float64)
    torch.testing.assert_close(softplus(t), torch.tensor([0.0, float(np.log1p(np.exp(-30.0))), np.log(2.0),
                                                          30.0 + float(np.log1p(np.exp(-30.0))), 800.0],
                                                         dtype=torch.float64), rtol=1e-15, atol=0)
    u = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    torch.testing.assert_close(entropy(u, 1 - u), torch.tensor([0.0, -np.log(2.0), 0.0], dtype=torch.float64))


def test_lipschitz_bounds_the_hessian():
    problem, y = instances()
    L = problem.datafit.lipschitz
    assert L.shape == (4, 1)
    expected = torch.stack([torch.linalg.svdvals(F)[0] ** 2 / (4 * 60) for F in problem.F])
    torch.testing.assert_close(L[:, 0], expected, rtol=1e-12, atol=0)
    # the Hessian (1/N) Fᵀ diag(σ'(m)) F is at most L, with equality at w = 0 (σ'(0) = 1/4)
    for W in (torch.zeros(4, 8, dtype=torch.float64), torch.randn(4, 8, dtype=torch.float64)):
        for i in range(4):
            row = problem.datafit.index([i])
            hess = torch.autograd.functional.hessian(lambda w: row.value(y[i:i + 1], w[None])[0], W[i])
            top = torch.linalg.eigvalsh(hess)[-1]
            assert top <= L[i, 0] * (1 + 1e-12)
            if not W.any():
                torch.testing.assert_close(top, L[i, 0])


def test_lambda_max_is_the_threshold_of_the_zero_solution():
    problem, y = instances(seed=1)
    lmax = problem.lambda_max(y)
    torch.testing.assert_close(lmax, problem.datafit.grad(y, torch.zeros(4, 8, dtype=torch.float64)).abs().amax(1))
    zero = torch.zeros(4, 8, dtype=torch.float64)
    # at λ >= λ_max, w = 0 is optimal: the gap closes there
    torch.testing.assert_close(problem.dual_value(y, zero, lmax), problem.value(y, zero, lmax), rtol=1e-14, atol=0)
    torch.testing.assert_close(problem.value(y, zero, lmax), torch.full((4,), np.log(2.0), dtype=torch.float64))
    below = certified_solve(problem, y, 0.9 * lmax, tol=1e-12)
    assert bool((below.Z != 0).any(dim=1).all())


def test_dual_is_a_lower_bound_and_certifies():
    problem, y = instances(seed=2)
    lam = 0.3 * problem.lambda_max(y)
    gen = torch.Generator().manual_seed(0)
    for scale in (0.1, 1.0, 10.0):  # weak duality anywhere, far from the solution too
        W1, W2 = (scale * torch.randn(4, 8, generator=gen, dtype=torch.float64) for _ in range(2))
        assert torch.all(problem.dual_value(y, W1, lam) <= problem.value(y, W2, lam) + 1e-12)
    ref = certified_solve(problem, y, lam, tol=1e-12)
    assert ref.certified(1e-12) and torch.all(ref.gap >= -1e-13 * ref.value)
    assert 0 < ref.n_iter < 5_000


@pytest.mark.parametrize("seed", [3, 4])
def test_certified_solve_agrees_with_sklearn_liblinear(seed):
    from sklearn.linear_model import LogisticRegression

    problem, y = instances(B=3, N=80, p=10, seed=seed)
    lam = 0.2 * problem.lambda_max(y)
    ref = certified_solve(problem, y, lam, tol=1e-12)
    N, coefs = y.shape[1], []
    for i in range(3):  # liblinear: min ‖w‖₁ + C Σ log(1 + e^{−y⟨f, w⟩}), i.e. λ = 1 / (C N)
        model = LogisticRegression(l1_ratio=1.0, C=1 / (N * float(lam[i])), fit_intercept=False, solver="liblinear",
                                   tol=1e-12, max_iter=100_000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            coefs.append(model.fit(problem.F[i].numpy(), y[i].numpy()).coef_[0])
    F_sk = problem.value(y, torch.from_numpy(np.stack(coefs)), lam)
    torch.testing.assert_close(ref.value, F_sk, rtol=1e-9, atol=0)
    assert torch.all(ref.value <= F_sk * (1 + 1e-12))  # nobody beats the certified optimum


def test_gradient_step_and_index():
    problem, y = instances()
    W = torch.randn(4, 8, dtype=torch.float64)
    f = problem.datafit
    for alpha in (0.3, 1 / f.lipschitz):
        expected = W - alpha * f.grad(y, W)
        step = f.gradient_step(y, alpha)
        torch.testing.assert_close(step(W), expected)
        out = torch.empty_like(W)
        assert step(W, out=out) is out
        torch.testing.assert_close(out, expected)
    L = f.lipschitz
    sub = problem.index(torch.tensor([2, 0]))
    assert isinstance(sub, L1LogisticProblem) and torch.equal(sub.F, problem.F[[2, 0]])
    torch.testing.assert_close(sub.datafit.lipschitz, L[[2, 0]], rtol=0, atol=0)
    torch.testing.assert_close(sub.value(y[[2, 0]], W[[2, 0]], 0.1), problem.value(y, W, 0.1)[[2, 0]])
    assert problem.double() is problem and problem.to("cpu") is problem
    single = L1LogisticProblem(problem.F.float())
    assert single.double().F.dtype == torch.float64 and single.shape == (60, 8) and single.n_instances == 4
    assert problem.fingerprint_tensors()[0] is problem.F and problem.has_dual
    assert isinstance(f, LogisticDatafit) and f.per_instance


@pytest.mark.parametrize("labels, match", [
    (lambda y: torch.where(y > 0, 1.0, 0.0).double(), "X must hold the labels, -1 or \\+1"),
    (lambda y: y[:3], r"one row per instance of the problem \(4\)"),
    (lambda y: y[:, :10], "X has shape"),
    (lambda y: y.long(), "X must be float32 or float64"),
])
def test_bad_labels_raise_clear_errors(labels, match):
    problem, y = instances()
    with pytest.raises(ValueError, match=match):
        problem.check_inputs(labels(y), 0.1)


def test_bad_features_name_F():
    with pytest.raises(ValueError, match="F must have 3 dimensions"):
        L1LogisticProblem(torch.ones(5, 3))
    with pytest.raises(ValueError, match="F contains NaN or Inf"):
        L1LogisticProblem(torch.full((2, 5, 3), float("inf")))
