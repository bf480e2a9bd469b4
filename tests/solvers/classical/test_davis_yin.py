"""Davis–Yin splitting of the regularised LP: it converges to the QP's solution (SLSQP and the KKT
conditions), to the LP's vertex for small γ, it is the fixed-point layer's iteration, and its checks."""
import numpy as np
import pytest
import torch
from scipy.optimize import linprog, minimize

from l2obench.objectives.shortest_path import GridShortestPath
from l2obench.solvers.classical.davis_yin import DavisYin, DavisYinOperator, check_davis_yin
from l2obench.solvers.implicit.fixed_point import FixedPointLayer

DT = torch.float64


def _costs(n, B=4, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).uniform(0.5, 2.0, (B, n)))


def _slsqp(w, gamma, E, b):
    """min w·x + γ/2‖x‖² s.t. Ex = b, x ≥ 0 by SLSQP (the last, redundant flow row dropped)."""
    E, b = E[:-1], b[:-1]
    res = minimize(lambda x: w @ x + 0.5 * gamma * x @ x, np.full(len(w), 0.5), jac=lambda x: w + gamma * x,
                   method="SLSQP", bounds=[(0, None)] * len(w),
                   constraints=[{"type": "eq", "fun": lambda x: E @ x - b, "jac": lambda x: E}],
                   options={"ftol": 1e-14, "maxiter": 1000})
    assert res.success, res.message
    return res.x


def _kkt_residual(x, w, gamma, E, b):
    """The smallest s with multipliers λ such that the KKT conditions hold up to s: stationarity
    |(w + γx − Eᵀλ)_i| ≤ s where x_i > 0, (w + γx − Eᵀλ)_i ≥ −s where x_i = 0 (μ ≥ 0), plus
    the primal feasibility of x. An LP in (λ, s), solved by HiGHS."""
    grad, free = w + gamma * x, x > 1e-8
    m = E.shape[0]
    Ef, Ea = E[:, free].T, E[:, ~free].T
    ones_f, ones_a = np.ones((Ef.shape[0], 1)), np.ones((Ea.shape[0], 1))
    A_ub = np.vstack([np.hstack([Ef, -ones_f]), np.hstack([-Ef, -ones_f]), np.hstack([Ea, -ones_a])])
    b_ub = np.concatenate([grad[free], -grad[free], grad[~free]])
    cost = np.zeros(m + 1)
    cost[-1] = 1.0
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=[(None, None)] * m + [(0, None)], method="highs")
    assert res.status == 0
    return max(res.fun, np.abs(E @ x - b).max(), max(0.0, -x.min()))


def test_converges_to_the_strongly_convex_qp_solution():
    problem, gamma = GridShortestPath(3), 0.5
    W = _costs(problem.n_costs)
    X = DavisYin(alpha=1.0, gamma=gamma, tol=1e-10, max_iter=20_000).solve(problem, W)
    E, b = problem.E.numpy(), problem.b.numpy()
    fractional = 0
    for w, x in zip(W.numpy(), X.numpy()):
        ref = _slsqp(w, gamma, E, b)
        np.testing.assert_allclose(x, ref, atol=1e-5)
        assert _kkt_residual(x, w, gamma, E, b) < 1e-8
        fractional += bool(((x > 1e-6) & (x < 1 - 1e-6)).any())
    assert fractional > 0                                  # γ = 0.5 smooths: not every solution is a vertex
    assert float(problem.infeasibility(X).max()) < 1e-9
    # the paper's step size reaches the same point
    X_small_step = DavisYin(alpha=0.05, gamma=gamma, tol=1e-12, max_iter=20_000).solve(problem, W)
    torch.testing.assert_close(X_small_step, X, rtol=0, atol=1e-7)


def test_small_gamma_gives_the_oracles_path():
    problem = GridShortestPath(4)
    W = _costs(problem.n_costs, B=6, seed=3)
    X = DavisYin(alpha=0.05, gamma=5e-4, tol=1e-10, max_iter=20_000).solve(problem, W)
    X_oracle, _ = problem.solve(W)
    assert torch.equal(X.round(), X_oracle)
    assert float((X - X_oracle).abs().max()) < 1e-6


def test_n_iter_iterations_are_the_fixed_point_layers():
    problem = GridShortestPath(3)
    W = _costs(problem.n_costs, seed=5)
    alpha, gamma = 0.3, 0.1
    solver = DavisYin(alpha=alpha, gamma=gamma)
    layer = FixedPointLayer(DavisYinOperator(problem, alpha, gamma))
    z = torch.zeros_like(W)
    for n in range(6):
        x = solver.solve(problem, W, n_iter=n)
        assert torch.equal(x, torch.relu(layer.iterate(W, n)))
        torch.testing.assert_close(x, torch.relu(z), rtol=0, atol=1e-14)
        # the written-out Davis–Yin step
        x_h = torch.relu(z)
        y = 2 * x_h - z - alpha * (W + gamma * x_h)
        x_g = y - (y @ problem.E.T - problem.b) @ torch.linalg.pinv(problem.E).T
        z = z + x_g - x_h
    assert solver.solve(problem, W, n_iter=0).abs().max() == 0


def test_float32_problem_and_costs():
    problem = GridShortestPath(3)
    W = _costs(problem.n_costs, seed=6)
    X64 = DavisYin(alpha=1.0, gamma=0.5, tol=1e-10).solve(problem, W)
    X32 = DavisYin(alpha=1.0, gamma=0.5, tol=1e-5).solve(problem.astype(torch.float32), W.float())
    assert X32.dtype == torch.float32
    torch.testing.assert_close(X32.double(), X64, rtol=0, atol=1e-4)


@pytest.mark.parametrize("alpha, gamma, name", [(4.0, 0.5, "alpha"), (5.0, 0.5, "alpha"), (0.0, 0.5, "alpha"),
                                                (-0.1, 0.5, "alpha"), (0.05, -1e-3, "gamma"),
                                                (float("nan"), 0.5, "alpha"), (0.05, float("inf"), "gamma")])
def test_check_davis_yin_names_the_parameter(alpha, gamma, name):
    with pytest.raises(ValueError, match=name):
        check_davis_yin(alpha, gamma)
    with pytest.raises(ValueError, match=name):
        DavisYinOperator(GridShortestPath(2), alpha, gamma)
    with pytest.raises(ValueError, match=name):
        DavisYin(alpha=alpha, gamma=gamma).check()


def test_check_accepts_valid_settings():
    assert check_davis_yin(3.99, 0.5) == (3.99, 0.5)
    assert check_davis_yin(100.0, 0.0) == (100.0, 0.0)       # γ = 0: any positive step
    for kwargs, name in (({"tol": -1.0}, "tol"), ({"max_iter": 0}, "max_iter")):
        with pytest.raises(ValueError, match=name):
            DavisYin(**kwargs).check()
    with pytest.raises(ValueError, match="costs must have 4 columns"):
        DavisYin().solve(GridShortestPath(2), torch.ones(2, 3, dtype=DT))
