"""Fixed-point layer: forward solves (plain, Anderson), IFT / JFB / unrolled gradients, divergence
flags. The solvers themselves: test_anderson.py."""
import math

import pytest
import torch

from l2obench.solvers.implicit.fixed_point import FixedPointLayer
from l2obench.solvers.memory import SavedTensorMeter

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


class AffineOperator(torch.nn.Module):
    """T(z; d) = scale * z + d: expansive for scale > 1 (no bounded iterate), a translation at 1."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def step_fn(self, d):
        return lambda z: self.scale * z + d

    def init_state(self, d):
        return torch.zeros_like(d)

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


def test_bad_input_is_rejected_or_flagged():
    op, d, _ = _tanh_problem()
    with pytest.raises(ValueError, match="backward"):
        FixedPointLayer(op, backward="newton")
    with pytest.raises(ValueError, match="forward_solver"):
        FixedPointLayer(op, forward_solver="broyden")
    with pytest.raises(ValueError, match="max_iter"):
        FixedPointLayer(op, max_iter=0)
    d_nan = d.clone()
    d_nan[0, 0] = math.nan
    for solver in ("plain", "anderson"):   # an operator without input checks: no exception, a flag
        z, info = FixedPointLayer(op, forward_solver=solver, max_iter=50).solve(d_nan)
        assert info.diverged and not bool(torch.isfinite(z).all()) and info.n_iter == 1


def test_zero_tolerance_runs_exactly_max_iter():
    op, d, _ = _tanh_problem(gamma=0.5)
    for solver in ("plain", "anderson"):
        layer = FixedPointLayer(op, forward_solver=solver, max_iter=7, tol=0.0)
        assert layer.solve(d)[1].n_iter == 7
    torch.testing.assert_close(FixedPointLayer(op, max_iter=7, tol=0.0).solve(d)[0], FixedPointLayer(op).iterate(d, 7))


def test_a_blown_up_iterate_is_flagged_not_converged():
    # T(z) = 2z + d runs off to infinity under plain iteration: the relative residual
    # ||z + d|| / ||2z + d|| tends to 1/2, so nothing stops the solve but the blow-up test (before,
    # 200 iterations returned a finite z ~ 2^200 |d| with diverged=False).
    d = torch.ones(3, 4, dtype=DT)
    z, info = FixedPointLayer(AffineOperator(2.0), max_iter=200, tol=1e-10).solve(d)
    assert info.diverged and info.residual == math.inf and info.n_iter < 60
    assert bool(torch.isfinite(z).all())
    # Anderson extrapolates to its (repelling) fixed point -d: an affine map is solved exactly
    z, info = FixedPointLayer(AffineOperator(2.0), forward_solver="anderson", max_iter=200, tol=1e-10).solve(d)
    assert not info.diverged and info.residual <= 1e-10
    torch.testing.assert_close(z, -d, rtol=0, atol=1e-10)


@pytest.mark.parametrize("solver", ["plain", "anderson"])
def test_a_far_fixed_point_is_no_blow_up(solver):
    # a contraction whose fixed point is far from the start (100 d, from z0 = 0)
    d = torch.ones(3, 4, dtype=DT)
    z, info = FixedPointLayer(AffineOperator(0.99), forward_solver=solver, max_iter=5000, tol=1e-12).solve(d)
    assert not info.diverged and info.residual <= 1e-12
    torch.testing.assert_close(z, 100 * d, rtol=1e-9, atol=0)
