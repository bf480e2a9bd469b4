"""Fixed-point layer: forward solves, IFT / JFB / unrolled gradients, the ADMM operator."""
import math

import pytest
import torch

from l2obench.solvers.implicit.anderson import anderson, plain_iteration
from l2obench.solvers.implicit.fixed_point import FixedPointLayer
from l2obench.solvers.implicit.memory import SavedTensorMeter
from l2obench.solvers.implicit.sparse_analysis_admm import (SparseAnalysisADMM, analytic_transform,
                                                            check_step_sizes)

DT = torch.float64


class TanhOperator(torch.nn.Module):
    """T(z; d) = gamma * tanh(z W^T + d U^T + b) with ||W||_2 = 1: a gamma-contraction."""

    def __init__(self, n, p, gamma, seed):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        W = torch.randn(n, n, generator=g, dtype=DT)
        self.W = torch.nn.Parameter(W / torch.linalg.matrix_norm(W, 2))
        self.U = torch.nn.Parameter(torch.randn(n, p, generator=g, dtype=DT))
        self.b = torch.nn.Parameter(torch.randn(n, generator=g, dtype=DT))
        self.gamma = gamma

    def step_fn(self, d):
        return lambda z: self.gamma * torch.tanh(z @ self.W.T + d @ self.U.T + self.b)

    def init_state(self, d):
        return torch.zeros(d.shape[0], self.W.shape[0], dtype=d.dtype)

    def readout(self, z):
        return z


def _grads(layer, d, target):
    layer.zero_grad()
    loss = ((layer.operator.readout(layer(d)) - target) ** 2).sum()
    loss.backward()
    return torch.cat([p.grad.flatten() for p in layer.parameters()])


def _tanh_problem(gamma=0.7, seed=0):
    op = TanhOperator(6, 3, gamma, seed)
    g = torch.Generator().manual_seed(seed + 1)
    return op, torch.randn(4, 3, generator=g, dtype=DT), torch.randn(4, 6, generator=g, dtype=DT)


@pytest.mark.parametrize("solver", ["plain", "anderson"])
def test_forward_reaches_fixed_point(solver):
    op, d, _ = _tanh_problem(gamma=0.9)
    layer = FixedPointLayer(op, forward_solver=solver, max_iter=500, tol=1e-12)
    z, info = layer.solve(d)
    assert info.residual <= 1e-12 and not info.diverged
    torch.testing.assert_close(op.step_fn(d)(z), z, atol=1e-11, rtol=0)
    torch.testing.assert_close(z, layer.iterate(d, 400), atol=1e-11, rtol=0)  # = classical iteration


def test_anderson_needs_fewer_iterations():
    op, d, _ = _tanh_problem(gamma=0.95)
    f = op.step_fn(d)
    with torch.no_grad():
        _, n_plain, _ = plain_iteration(f, op.init_state(d), tol=1e-10, max_iter=2000)
        _, n_anderson, res = anderson(f, op.init_state(d), tol=1e-10, max_iter=2000)
    assert res <= 1e-10 and n_anderson < n_plain / 2


def test_ift_gradient_matches_finite_differences_and_long_unroll():
    op, d, target = _tanh_problem()
    ift = FixedPointLayer(op, backward="ift", max_iter=400, tol=1e-14, backward_tol=1e-14)
    g_ift = _grads(ift, d, target)
    g_unrolled = _grads(FixedPointLayer(op, backward="unrolled", max_iter=150), d, target)
    torch.testing.assert_close(g_ift, g_unrolled, rtol=1e-5, atol=1e-8)
    eps, b = 1e-6, op.b
    for i in range(b.shape[0]):
        with torch.no_grad():
            vals = []
            for sign in (1, -1):
                b[i] += sign * eps
                vals.append(float(((ift.solve(d)[0] - target) ** 2).sum()))
                b[i] -= sign * eps
        fd = (vals[0] - vals[1]) / (2 * eps)
        assert math.isclose(fd, float(op.b.grad[i]), rel_tol=1e-5, abs_tol=1e-7)


@pytest.mark.parametrize("seed", range(5))
def test_jfb_is_a_descent_direction_for_contractions(seed):
    # Fung et al. (AAAI 2022), Thm 3.1: with T gamma-contractive and dT/dTheta well
    # conditioned, <g_JFB, g_true> > 0. Here gamma = 0.3.
    op, d, target = _tanh_problem(gamma=0.3, seed=seed)
    g_true = _grads(FixedPointLayer(op, backward="ift", max_iter=200, tol=1e-13), d, target)
    g_jfb = _grads(FixedPointLayer(op, backward="jfb", max_iter=200, tol=1e-13), d, target)
    assert float(g_jfb @ g_true) > 0
    assert not torch.allclose(g_jfb, g_true)  # an approximation, not the same gradient


def test_jfb_memory_is_flat_and_unrolled_grows():
    op, d, target = _tanh_problem()
    sizes = {}
    for mode in ("jfb", "unrolled"):
        for depth in (5, 40):
            meter = SavedTensorMeter()
            layer = FixedPointLayer(op, backward=mode, max_iter=depth, tol=0.0)
            meter.measure(lambda: ((layer(d) - target) ** 2).sum())
            sizes[mode, depth] = meter.peak_bytes_
    assert sizes["jfb", 5] == sizes["jfb", 40]
    assert sizes["unrolled", 40] > 5 * sizes["unrolled", 5]


def _admm_problem(seed=0, n=12, m=6):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(m, n, generator=g, dtype=DT)
    A /= torch.linalg.matrix_norm(A, 2)
    x = torch.cumsum((torch.rand(5, n, generator=g, dtype=DT) < 0.15) * torch.randn(5, n, generator=g, dtype=DT), 1)
    return A, x @ A.T, x


def test_admm_layer_forward_is_the_classical_iteration_and_solves_the_problem():
    A, d, _ = _admm_problem()
    op = SparseAnalysisADMM(A, analytic_transform(12, "difference"), learn_theta=False)
    layer = FixedPointLayer(op, max_iter=20000, tol=1e-11)
    z, info = layer.solve(d)
    x = op.readout(z)
    torch.testing.assert_close(x, op.readout(layer.iterate(d, info.n_iter)))
    assert float((x @ A.T - d).norm() / d.norm()) < 1e-8
    # the analysis-l1 value is not beaten by feasible perturbations along null(A)
    null = torch.linalg.svd(A, full_matrices=True)[2][6:]
    theta = op.normalized_theta()
    base = (x @ theta.T).abs().sum(1)
    g = torch.Generator().manual_seed(3)
    for _ in range(20):
        xp = x + 1e-3 * torch.randn(5, 6, generator=g, dtype=DT) @ null
        assert bool(((xp @ theta.T).abs().sum(1) >= base - 1e-9).all())


def test_admm_ift_gradient_matches_finite_differences():
    # A problem without exact recovery (dense x_true), so the gradient is not ~0; Anderson
    # makes the forward solve reach 1e-14 (plain ADMM is slow on such instances).
    g = torch.Generator().manual_seed(3)
    A = torch.randn(3, 6, generator=g, dtype=DT)
    A /= torch.linalg.matrix_norm(A, 2)
    x_true = torch.randn(3, 6, generator=g, dtype=DT)
    d = x_true @ A.T
    op = SparseAnalysisADMM(A, analytic_transform(6, "difference") + 0.3 * torch.randn(6, 6, generator=g, dtype=DT),
                            beta=0.49)
    layer = FixedPointLayer(op, backward="ift", forward_solver="anderson", anderson_memory=10,
                            max_iter=3000, tol=1e-14, backward_tol=1e-14)
    grad = _grads(layer, d, x_true).reshape(6, 6)
    assert layer.last_info_.residual < 1e-13 and layer.last_backward_info_.residual < 1e-13
    direction = torch.randn(6, 6, generator=g, dtype=DT)
    eps, vals = 1e-6, []
    for sign in (1, -1):
        with torch.no_grad():
            op.theta += sign * eps * direction
            z, info = layer.solve(d)
            op.theta -= sign * eps * direction
        assert info.residual < 1e-13
        vals.append(float(((op.readout(z) - x_true) ** 2).sum()))
    fd = (vals[0] - vals[1]) / (2 * eps)
    assert math.isclose(fd, float((grad * direction).sum()), rel_tol=1e-5)


def test_bad_input_is_rejected_or_flagged():
    A, d, _ = _admm_problem()
    with pytest.raises(ValueError, match="theta"):
        SparseAnalysisADMM(A, torch.eye(11, dtype=DT))
    with pytest.raises(ValueError, match="underdetermined"):
        SparseAnalysisADMM(A.T, torch.eye(6, dtype=DT))
    with pytest.raises(ValueError, match="NaN"):
        SparseAnalysisADMM(A * math.nan, torch.eye(12, dtype=DT))
    with pytest.raises(ValueError, match="alpha\\*lam"):
        check_step_sizes(1.0, 0.1, 2.0, A)
    with pytest.raises(ValueError, match="alpha\\*beta"):
        SparseAnalysisADMM(A, torch.eye(12, dtype=DT), beta=0.6)
    op = SparseAnalysisADMM(A, torch.eye(12, dtype=DT))
    with pytest.raises(ValueError, match="backward"):
        FixedPointLayer(op, backward="newton")
    with pytest.raises(ValueError, match="d must have shape"):
        FixedPointLayer(op).solve(d[:, :5])
    d_nan = d.clone()
    d_nan[0, 0] = math.nan
    z, info = FixedPointLayer(op, max_iter=50).solve(d_nan)   # no exception: a flagged result
    assert info.diverged and not bool(torch.isfinite(z).all())


def test_zero_tolerance_runs_exactly_max_iter():
    op, d, _ = _tanh_problem(gamma=0.5)
    for solver in ("plain", "anderson"):
        layer = FixedPointLayer(op, forward_solver=solver, max_iter=7, tol=0.0)
        assert layer.solve(d)[1].n_iter == 7
    torch.testing.assert_close(FixedPointLayer(op, max_iter=7, tol=0.0).solve(d)[0], FixedPointLayer(op).iterate(d, 7))
