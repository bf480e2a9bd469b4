"""Linearized ADMM: the operator solves the sparse-analysis problem, the classical solver iterates it,
step-size and input checks."""
import math

import pytest
import torch

from l2obench.objectives.prox import soft_threshold
from l2obench.objectives.sparse_analysis import SparseAnalysisProblem
from l2obench.solvers.classical.linearized_admm import (LinearizedADMM, LinearizedADMMOperator, analytic_transform,
                                                        check_step_sizes)
from l2obench.solvers.implicit.fixed_point import FixedPointLayer

DT = torch.float64


def _admm_problem(seed=0, n=12, m=6):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(m, n, generator=g, dtype=DT)
    A /= torch.linalg.matrix_norm(A, 2)
    x = torch.cumsum((torch.rand(5, n, generator=g, dtype=DT) < 0.15) * torch.randn(5, n, generator=g, dtype=DT), 1)
    return A, x @ A.T, x


def test_admm_layer_forward_is_the_classical_iteration_and_solves_the_problem():
    A, d, _ = _admm_problem()
    problem = SparseAnalysisProblem(A, analytic_transform(12, "difference"))
    op = LinearizedADMMOperator(problem, analytic_transform(12, "difference"), learn_theta=False)
    layer = FixedPointLayer(op, max_iter=20000, tol=1e-11)
    z, info = layer.solve(d)
    x = op.readout(z)
    classical = op.readout(layer.iterate(d, info.n_iter))
    torch.testing.assert_close(x, classical)
    assert torch.equal(LinearizedADMM().solve(problem, d, info.n_iter), classical)   # the classical solver
    assert float((x @ A.T - d).norm() / d.norm()) < 1e-8
    # the analysis-l1 value is not beaten by feasible perturbations along null(A)
    null = torch.linalg.svd(A, full_matrices=True)[2][6:]
    theta = op.normalized_theta()
    base = (x @ theta.T).abs().sum(1)
    g = torch.Generator().manual_seed(3)
    for _ in range(20):
        xp = x + 1e-3 * torch.randn(5, 6, generator=g, dtype=DT) @ null
        assert bool(((xp @ theta.T).abs().sum(1) >= base - 1e-9).all())


@pytest.mark.parametrize("transform", ["identity", "difference", "random", "redundant"])
def test_classical_solver_is_the_written_out_iteration(transform):
    A, d, _ = _admm_problem(seed=1)
    g = torch.Generator().manual_seed(7)
    if transform in ("random", "redundant"):   # redundant: (k, n) = (20, 12), the problem allows any k
        K = torch.randn(12 if transform == "random" else 20, 12, generator=g, dtype=DT)
    else:
        K = analytic_transform(12, transform)
    problem = SparseAnalysisProblem(A, K)
    alpha, beta, lam = 0.9, 0.4, 0.7
    theta = K / torch.linalg.matrix_norm(K, 2)           # the problem's transform, normalised
    x = d @ torch.linalg.pinv(A).T
    p, nu, om = x @ theta.T, torch.zeros(5, K.shape[0], dtype=DT), torch.zeros_like(d)
    solver = LinearizedADMM(alpha=alpha, beta=beta, lam=lam)
    torch.testing.assert_close(solver.solve(problem, d, 0), x)
    for k in range(1, 9):
        p_new = soft_threshold(p + lam * (nu + alpha * (x @ theta.T - p)), lam)
        nu_new = nu + alpha * (x @ theta.T - p_new)
        om_new = om + alpha * (x @ A.T - d)
        x = x - beta * ((2 * nu_new - nu) @ theta + (2 * om_new - om) @ A)
        p, nu, om = p_new, nu_new, om_new
        torch.testing.assert_close(solver.solve(problem, d, k), x)
    op = solver.operator(problem)
    assert not any(True for _ in op.parameters()) and torch.equal(op.theta, K)   # a buffer, the problem's K


def test_the_problem_scale_of_theta_is_irrelevant():
    A, d, _ = _admm_problem(seed=2)
    K = analytic_transform(12, "difference")
    x1 = LinearizedADMM().solve(SparseAnalysisProblem(A, K), d, 50)
    x2 = LinearizedADMM().solve(SparseAnalysisProblem(A, 7.5 * K), d, 50)
    torch.testing.assert_close(x1, x2, rtol=1e-12, atol=1e-12)


def test_analytic_transforms():
    D = analytic_transform(5, "difference", dtype=torch.float32)
    assert D.dtype == torch.float32
    torch.testing.assert_close(torch.arange(5.0) @ D.T, torch.tensor([0.0, 1, 1, 1, 1]))
    assert torch.equal(analytic_transform(4, "identity"), torch.eye(4, dtype=DT))
    with pytest.raises(ValueError, match="^transform"):
        analytic_transform(5, "wavelet")


def test_bad_input_is_rejected():
    A, d, _ = _admm_problem()
    problem = SparseAnalysisProblem(A)
    with pytest.raises(ValueError, match="theta"):
        LinearizedADMMOperator(problem, torch.eye(11, dtype=DT))
    with pytest.raises(ValueError, match="theta"):
        LinearizedADMMOperator(problem, torch.eye(12, dtype=DT) * math.nan)
    with pytest.raises(ValueError, match="theta"):
        LinearizedADMMOperator(problem, torch.eye(12, dtype=DT)[:0])
    with pytest.raises(ValueError, match="alpha\\*lam"):
        check_step_sizes(1.0, 0.1, 2.0, A)
    with pytest.raises(ValueError, match="alpha\\*beta"):
        LinearizedADMMOperator(problem, torch.eye(12, dtype=DT), beta=0.6)
    with pytest.raises(ValueError, match="alpha\\*beta"):
        LinearizedADMM(beta=0.6).solve(problem, d, 3)
    for name in ("alpha", "beta", "lam"):
        with pytest.raises(ValueError, match=f"^{name}"):
            check_step_sizes(**{"alpha": 1.0, "beta": 0.1, "lam": 1.0, name: 0.0}, A=A)
    op = LinearizedADMMOperator(problem, torch.eye(12, dtype=DT))
    with pytest.raises(ValueError, match="d must have shape"):
        FixedPointLayer(op).solve(d[:, :5])
    d_nan = d.clone()
    d_nan[0, 0] = math.nan
    with pytest.raises(ValueError, match="d contains NaN"):   # the problem's data check, before any step
        FixedPointLayer(op, max_iter=50).solve(d_nan)
    with pytest.raises(ValueError, match="d contains NaN"):
        op.step_fn(d_nan)
    for d_bad, match in ((d_nan, "NaN"), (d[:0], "at least one"), (d[:, :5], "d must have shape"),
                         (d[0], "d must have shape")):
        with pytest.raises(ValueError, match=match):
            LinearizedADMM().solve(problem, d_bad, 3)
    with pytest.raises(ValueError, match="n_iter"):
        LinearizedADMM().solve(problem, d, -1)
    with pytest.raises(ValueError, match="n_iter"):
        LinearizedADMM().solve(problem, d, 2.0)


class _Ball:
    """The sparse-analysis problem with its equality written as a ball of radius ``radius`` around d."""

    def __init__(self, problem, radius):
        self.problem, self.radius = problem, radius

    def __getattr__(self, name):
        return getattr(self.problem, name)

    def constraint(self, d):
        apply, adjoint, target, _ = self.problem.constraint(d)
        return apply, adjoint, target, torch.full((d.shape[0], 1), self.radius, dtype=d.dtype)


def test_a_ball_of_radius_zero_is_the_equality_step():
    # the ball step (CT, Heaton & Wu Fung's Appendix D) with delta = 0 gives the equality iterates
    A, d, _ = _admm_problem(seed=2)
    problem = SparseAnalysisProblem(A, analytic_transform(12, "difference"))
    x_eq = LinearizedADMM().solve(problem, d, 40)
    torch.testing.assert_close(LinearizedADMM().solve(_Ball(problem, 0.0), d, 40), x_eq, rtol=0, atol=1e-13)
    # a positive radius: the solution moves off the affine set to at most that distance
    x = LinearizedADMM().solve(_Ball(problem, 0.05), d, 3000)
    assert float((x @ A.T - d).norm(dim=1).max()) <= 0.05 * (1 + 1e-3)
    assert bool(((x @ problem.penalty.K.T).abs().sum(1) < (x_eq @ problem.penalty.K.T).abs().sum(1)).all())


def test_auto_beta_comes_from_the_norm_of_A_and_solves_an_unnormalised_problem():
    # unit-norm columns (||A||^2 about 3 here): the old fixed beta = 0.45 is refused, 'auto' is not
    A, d, x_true = _admm_problem(seed=4)
    A_cols = A / A.norm(dim=0, keepdim=True)
    problem = SparseAnalysisProblem(A_cols, analytic_transform(12, "difference"))
    norm2 = float(torch.linalg.matrix_norm(A_cols, 2)) ** 2
    assert norm2 > 2.0
    with pytest.raises(ValueError, match="alpha\\*beta"):
        LinearizedADMMOperator(problem, analytic_transform(12, "difference"), beta=0.45)
    op = LinearizedADMMOperator(problem, analytic_transform(12, "difference"), learn_theta=False)
    assert op.beta == pytest.approx(0.9 / (1.0 + norm2))
    # on a normalised A 'auto' is the historical default 0.45
    assert LinearizedADMMOperator(SparseAnalysisProblem(A), torch.eye(12, dtype=DT)).beta == pytest.approx(0.45)
    d_cols = x_true @ A_cols.T
    x = LinearizedADMM().solve(problem, d_cols, 5000)
    assert float((x @ A_cols.T - d_cols).norm() / d_cols.norm()) < 1e-5
    # the same feasible set written with ||A|| = 1 (A and d divided by ||A||): the same minimiser
    scale = norm2 ** 0.5
    rescaled = SparseAnalysisProblem(A_cols / scale, analytic_transform(12, "difference"))
    torch.testing.assert_close(x, LinearizedADMM().solve(rescaled, d_cols / scale, 5000), atol=2e-3, rtol=0)


@pytest.mark.parametrize("beta", ["fast", -0.1, math.nan])
def test_bad_beta_names_the_parameter(beta):
    with pytest.raises(ValueError, match="^beta"):
        LinearizedADMM(beta=beta).check()
