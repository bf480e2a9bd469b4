"""Fixed-point solvers: plain iteration and safeguarded Anderson acceleration; stopping, divergence."""
import math

import pytest
import torch

from l2obench.objectives.sparse_analysis import SparseAnalysisProblem
from l2obench.solvers.classical.linearized_admm import LinearizedADMMOperator, analytic_transform
from l2obench.solvers.implicit.anderson import anderson, plain_iteration, relative_residual

DT = torch.float64
SOLVERS = {"plain": plain_iteration, "anderson": anderson}


def _tanh_map(gamma, seed=0, n=6, p=3, batch=4):
    """z -> gamma * tanh(z W^T + d U^T + b) with ||W||_2 = 1 (a gamma-contraction), and z0 = 0."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(n, n, generator=g, dtype=DT)
    W /= torch.linalg.matrix_norm(W, 2)
    U, b = torch.randn(n, p, generator=g, dtype=DT), torch.randn(n, generator=g, dtype=DT)
    d = torch.randn(batch, p, generator=g, dtype=DT)
    return (lambda z: gamma * torch.tanh(z @ W.T + d @ U.T + b)), torch.zeros(batch, n, dtype=DT)


def test_anderson_needs_fewer_iterations():
    f, z0 = _tanh_map(0.95)
    _, n_plain, _ = plain_iteration(f, z0, tol=1e-10, max_iter=2000)
    z, n_anderson, res = anderson(f, z0, tol=1e-10, max_iter=2000)
    assert res <= 1e-10 and n_anderson < n_plain / 2
    assert res == relative_residual(f(z), z) or relative_residual(f(z), z) <= 1e-10


@pytest.mark.parametrize("solver", SOLVERS)
def test_stopping_rule_and_returned_values(solver):
    f, z0 = _tanh_map(0.8, seed=1)
    z, n_iter, res = SOLVERS[solver](f, z0, tol=1e-9, max_iter=500)
    assert 1 < n_iter < 500 and res <= 1e-9 and relative_residual(f(z), z) < 1e-8
    z, n_iter, res = SOLVERS[solver](f, z0, tol=0.0, max_iter=9)           # tol = 0: exactly max_iter
    assert n_iter == 9 and res > 0
    z, n_iter, res = SOLVERS[solver](f, z0, tol=1e-30, max_iter=5)         # unreachable: the cap
    assert n_iter == 5 and res > 1e-30
    z, n_iter, res = SOLVERS[solver](f, z0, tol=1e-6, max_iter=0)
    assert z is z0 and n_iter == 0 and math.isnan(res)
    # f = 0 has the fixed point 0: an infinite relative residual at z0 is no divergence
    z, n_iter, res = SOLVERS[solver](lambda z: 0 * z, torch.ones(2, 3, dtype=DT), tol=1e-6, max_iter=10)
    assert n_iter == 2 and res == 0.0 and not bool(z.any())


@pytest.mark.parametrize("solver", SOLVERS)
def test_non_finite_and_blown_up_iterates_end_the_solve_flagged(solver):
    f, z0 = _tanh_map(0.8)
    z, n_iter, res = SOLVERS[solver](lambda z: f(z) * math.nan, z0, tol=1e-6, max_iter=50)
    assert n_iter == 1 and math.isnan(res) and not bool(torch.isfinite(z).any())
    z, n_iter, res = SOLVERS[solver](lambda z: f(z) * math.nan, z0, tol=0.0, max_iter=50)
    assert math.isnan(res)
    # z -> 2|z| + 1 has no fixed point (f(z) - z >= 1): it blows up, its relative residual -> 1/2
    z, n_iter, res = SOLVERS[solver](lambda z: 2 * z.abs() + 1, torch.ones(2, 3, dtype=DT), tol=1e-10,
                                     max_iter=300, blowup=1e6)
    assert res == math.inf and n_iter < 100 and bool(torch.isfinite(z).all())
    assert float(z.norm(dim=1).min()) > 1e6 * math.sqrt(3)


def test_plain_iteration_flags_a_run_off_it_would_have_called_converged():
    # z -> z + c with c = 1e-3 z0: ||f(z) - z|| / ||f(z)|| = ||c|| / ||z|| falls under tol = 1e-9 only
    # once ||z|| ~ 1e9 ||c||: "converged" at an iterate 1e6 x its start. A run-off is flagged instead.
    z0 = torch.ones(2, 3, dtype=DT)
    z, n_iter, res = plain_iteration(lambda z: z + 1e-3 * z0, z0, tol=1e-5, max_iter=200000, blowup=10.0)
    assert res == math.inf and float(z.norm(dim=1).max()) > 10 * math.sqrt(3) and n_iter < 20000


def _admm_instance(seed, perturb=False):
    """Linearized ADMM with a dense x_true and a perturbed difference transform. Seed 3 with
    ``perturb`` is the perturbed solve of the sparse-analysis IFT test, on which plain Anderson
    (memory 10) ran off to ||z|| ~ 1e14 and reported convergence (relative residual 8e-15)."""
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(3, 6, generator=g, dtype=DT)
    A /= torch.linalg.matrix_norm(A, 2)
    d = torch.randn(3, 6, generator=g, dtype=DT) @ A.T
    theta = analytic_transform(6, "difference") + 0.3 * torch.randn(6, 6, generator=g, dtype=DT)
    if perturb:
        theta = theta + 1e-6 * torch.randn(6, 6, generator=g, dtype=DT)
    return LinearizedADMMOperator(SparseAnalysisProblem(A), theta, beta=0.49), d


@pytest.mark.parametrize("seed, perturb", [(3, True), (6, False), (12, False)])
def test_anderson_on_admm_converges_and_never_reports_a_run_off(seed, perturb):
    # Without the safeguard, Anderson runs off on these instances: the iterate follows a direction
    # along which the piecewise-affine ADMM map is a translation (||f(z) - z|| ~ 1 while ||z||
    # grows). With it, the solve converges to a genuine (bounded) fixed point.
    op, d = _admm_instance(seed, perturb)
    f = op.step_fn(d)
    with torch.no_grad():
        z, n_iter, res = anderson(f, op.init_state(d), tol=1e-14, max_iter=3000, memory=10)
        assert res <= 1e-14 and float(z.norm(dim=1).max()) < 100
        assert float((f(z) - z).norm(dim=1).max()) < 1e-12
        # whatever the unsafeguarded method does, a run-off ends flagged (inf), never converged
        z_raw, _, res_raw = anderson(f, op.init_state(d), tol=1e-14, max_iter=3000, memory=10, safeguard=math.inf)
    assert res_raw == math.inf or (res_raw <= 1e-14 and float(z_raw.norm(dim=1).max()) < 100)
