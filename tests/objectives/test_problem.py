"""The problem interface: quadratic data term, ℓ1 penalties, and the composite problem's checks."""
import numpy as np
import pytest
import torch

from l2obench.objectives.problem import (AnalysisL1, CompositeProblem, L1Penalty, QuadraticDatafit, GramForward,
                                         gram_step_forward, residual_forward)


def operator(m=6, n=9, seed=0, dtype=torch.float64):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((m, n))).to(dtype)


def batch(B, n, seed=1):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((B, n)))


def test_datafit_value_grad_and_lipschitz():
    A = operator()
    f = QuadraticDatafit(A)
    X, Z = batch(4, 6), batch(4, 9, seed=2).requires_grad_()
    value = f.value(X, Z)
    torch.testing.assert_close(value, 0.5 * ((X - Z @ A.T) ** 2).sum(dim=1))
    (autograd,) = torch.autograd.grad(value.sum(), Z)
    torch.testing.assert_close(f.grad(X, Z.detach()), autograd)
    assert isinstance(f.lipschitz, float)
    assert f.lipschitz == pytest.approx(float(torch.linalg.svdvals(A)[0] ** 2), rel=1e-12)
    torch.testing.assert_close(f.gram, A.T @ A)


@pytest.mark.parametrize("shape", [(6, 9), (20, 9)])  # residual form by default, Gram form by default
@pytest.mark.parametrize("form", ["auto", "gram", "residual"])
def test_gradient_step_forms_are_the_gradient_step(shape, form):
    f = QuadraticDatafit(operator(*shape))
    X, Y = batch(4, shape[0]), batch(4, shape[1], seed=2)
    alpha = 0.7 / f.lipschitz
    expected = Y - alpha * f.grad(X, Y)
    step = f.gradient_step(X, alpha, form)
    torch.testing.assert_close(step(Y), expected)
    out = torch.empty_like(Y)
    assert step(Y, out=out) is out
    torch.testing.assert_close(out, expected)


def test_step_weights_and_the_learned_forward_maps():
    A = operator()
    f = QuadraticDatafit(A)
    X, Z = batch(4, 6), batch(4, 9, seed=2)
    alpha = 1 / f.lipschitz
    W_x, W_z = f.step_weights(alpha)
    assert W_x.shape == (6, 9) and W_z.shape == (9, 9)
    expected = Z - alpha * f.grad(X, Z)
    torch.testing.assert_close(X @ W_x + Z @ W_z, expected)
    torch.testing.assert_close(GramForward(X @ W_x, W_z)(Z), expected)
    torch.testing.assert_close(residual_forward(X, A, alpha * A)(Z), expected)
    torch.testing.assert_close(residual_forward(X, A, A, scale=alpha)(Z), expected)
    step = torch.tensor(alpha, dtype=A.dtype, requires_grad=True)  # a learned step: gradients reach it
    learned = gram_step_forward(step, X @ A, f.gram, torch.eye(9, dtype=A.dtype))(Z)
    torch.testing.assert_close(learned, expected)
    learned.sum().backward()
    torch.testing.assert_close(step.grad, -f.grad(X, Z).sum())


@pytest.mark.parametrize("A", [
    torch.zeros(5, 8, dtype=torch.float64), torch.zeros(0, 8, dtype=torch.float64), torch.zeros(5, 0),
])
def test_all_zero_or_empty_operator_names_A(A):
    with pytest.raises(ValueError, match="A must be a non-empty matrix with a non-zero entry"):
        QuadraticDatafit(A)


@pytest.mark.parametrize("A, match", [
    (torch.ones(5, 8, dtype=torch.float16), "A must be float32 or float64"),
    (torch.ones(5, 8, dtype=torch.int64), "A must be float32 or float64"),
    (torch.full((5, 8), float("nan")), "A contains NaN or Inf"),
    (torch.ones(5), "A must have 2 dimensions"),
    ([[1.0, 2.0]], "A must be a torch tensor"),
])
def test_bad_operator_names_A(A, match):
    with pytest.raises(ValueError, match=match):
        QuadraticDatafit(A)


def test_l1_penalty():
    U = batch(3, 5)
    plain = L1Penalty()
    assert plain.K is None and plain.K_norm2 == 1.0
    torch.testing.assert_close(plain.value(U), U.abs().sum(dim=1))
    thresh = torch.tensor([[0.1], [0.5], [1.0]], dtype=torch.float64)
    expected = torch.sign(U) * (U.abs() - thresh).clamp_min(0)
    torch.testing.assert_close(plain.prox(U, thresh), expected)
    torch.testing.assert_close(plain.inner_prox(U, thresh), expected)
    out = torch.empty_like(U)
    assert plain.prox(U, 0.3, out=out) is out
    torch.testing.assert_close(out, torch.sign(U) * (U.abs() - 0.3).clamp_min(0))
    w = torch.tensor([0.0, 1.0, 2.0, 0.5, 1.0], dtype=torch.float64)
    weighted = L1Penalty(w)
    torch.testing.assert_close(weighted.value(U), (w * U.abs()).sum(dim=1))
    torch.testing.assert_close(weighted.prox(U, thresh), torch.sign(U) * (U.abs() - thresh * w).clamp_min(0))
    with pytest.raises(ValueError, match="weights"):
        L1Penalty(-w)
    with pytest.raises(ValueError, match="weights"):
        L1Penalty(torch.full((5,), float("nan")))


def test_analysis_l1():
    K = operator(4, 5, seed=3)
    penalty = AnalysisL1(K)
    U = batch(3, 5)
    torch.testing.assert_close(penalty.value(U), (U @ K.T).abs().sum(dim=1))
    assert penalty.K_norm2 == pytest.approx(float(torch.linalg.svdvals(K)[0] ** 2))
    with pytest.raises(NotImplementedError):
        penalty.prox(U, 0.1)
    V = batch(3, 4)
    torch.testing.assert_close(penalty.inner_prox(V, 0.2), torch.sign(V) * (V.abs() - 0.2).clamp_min(0))


def composite(dtype=torch.float64):
    return CompositeProblem(QuadraticDatafit(operator(dtype=dtype)), L1Penalty())


def test_composite_problem_basics():
    problem = composite()
    X, Z = batch(4, 6), batch(4, 9, seed=2)
    assert problem.shape == (6, 9) and problem.A is problem.datafit.A and not problem.has_dual
    torch.testing.assert_close(problem.value(X, Z, 0.5), problem.datafit.value(X, Z) + 0.5 * Z.abs().sum(1))
    lam = torch.linspace(0.1, 0.4, 4, dtype=torch.float64)
    for lmbd in (lam, lam[:, None]):
        torch.testing.assert_close(problem.value(X, Z, lmbd), problem.datafit.value(X, Z) + lam * Z.abs().sum(1))
    assert problem.to_output(Z) is Z and problem.from_output(Z) is Z
    assert problem.double() is problem
    with pytest.raises(NotImplementedError):
        problem.lambda_max(X)
    with pytest.raises(NotImplementedError):
        problem.dual_value(X, Z, 0.5)


def test_check_inputs_normalises_the_batch():
    problem = composite(torch.float32)
    X = batch(4, 6)
    X32, lam, Z = problem.check_inputs(X, 0.5)
    assert X32.dtype == torch.float32 and lam.shape == (4, 1) and lam.dtype == torch.float32
    assert torch.equal(Z, torch.zeros(4, 9))
    lmbd = torch.linspace(0.1, 0.4, 4, dtype=torch.float64)
    for form in (lmbd, lmbd[:, None], lmbd.numpy(), lmbd[:, None].numpy()):
        torch.testing.assert_close(problem.check_inputs(X, form)[1], lmbd.float()[:, None])
    z0 = batch(4, 9, seed=2)
    _, _, Z = problem.check_inputs(X, 0.5, z0)
    Z += 1  # a copy: the solvers write their iterates in place
    torch.testing.assert_close(Z - 1, z0.float())


@pytest.mark.parametrize("X, lmbd, match", [
    (torch.zeros(0, 6, dtype=torch.float64), 0.1, "X must hold at least one signal"),
    (torch.full((3, 6), float("nan"), dtype=torch.float64), 0.1, "X contains NaN or Inf"),
    (torch.full((3, 6), float("inf")), 0.1, "X contains NaN or Inf"),
    (torch.zeros(3, 6, dtype=torch.float16), 0.1, "X must be float32 or float64"),
    (torch.zeros(3, 6, dtype=torch.int32), 0.1, "X must be float32 or float64"),
    (torch.zeros(3, 6, dtype=torch.bool), 0.1, "X must be float32 or float64"),
    (torch.zeros(3, 5, dtype=torch.float64), 0.1, "X has shape"),
    (torch.zeros(6, dtype=torch.float64), 0.1, "X must have 2 dimensions"),
    ([[0.0] * 6], 0.1, "X must be a torch tensor"),
    (torch.zeros(3, 6, dtype=torch.float64), -0.1, "lmbd must be >= 0"),
    (torch.zeros(3, 6, dtype=torch.float64), torch.tensor([0.1, -0.1, 0.1]), "lmbd must be >= 0"),
    (torch.zeros(3, 6, dtype=torch.float64), float("nan"), "lmbd must be a finite"),
    (torch.zeros(3, 6, dtype=torch.float64), torch.tensor([0.1, float("inf"), 0.1]), "lmbd contains NaN or Inf"),
    (torch.zeros(3, 6, dtype=torch.float64), torch.tensor([0.1, 0.1]), "lmbd has shape"),
])
def test_check_inputs_rejects_bad_batches(X, lmbd, match):
    with pytest.raises(ValueError, match=match):
        composite().check_inputs(X, lmbd)


def test_values_beyond_float32_are_rejected_not_turned_into_inf():
    problem = composite(torch.float32)
    X = torch.full((3, 6), 1e300, dtype=torch.float64)
    with pytest.raises(ValueError, match="X has entries too large"):
        problem.check_inputs(X, 0.1)
    with pytest.raises(ValueError, match="lmbd"):
        problem.check_inputs(X / 1e300, 1e300)
    with pytest.raises(ValueError, match="lmbd"):
        problem.check_inputs(X / 1e300, torch.full((3,), 1e300, dtype=torch.float64))
    with pytest.raises(ValueError, match="z0"):
        problem.check_inputs(X / 1e300, 0.1, z0=torch.full((3, 9), 1e300, dtype=torch.float64))
