"""Adam and AdamHD as classical solvers: torch.optim.Adam's iterates on f + λ‖z‖₁ (autograd takes the
same subgradient), the paper's hypergradient rule per row, rate tuning, input checks."""
import math

import pytest
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.objectives.problem import AnalysisL1, CompositeProblem, QuadraticDatafit
from l2obench.objectives.tv_deconvolution import TVProblem
from l2obench.solvers.classical.adam import DEFAULT_GRID, Adam
from support import lasso_batch


def _lasso(weights=None, seed=0):
    D, X, lmbd = lasso_batch(batch=6, seed=seed)
    return LassoProblem(D, weights), X, lmbd


def _trajectory(solver, problem, X, lmbd, n_iter, z0=None):
    out = []
    solver.solve(problem, X, lmbd, n_iter, z0=z0, callback=lambda k, z: out.append(z.clone()))
    return out


def _torch_adam(problem, X, lmbd, n_iter, lr, z0=None, betas=(0.9, 0.999), eps=1e-8, hypergradient=0.0):
    """torch.optim.Adam on F(z) = f(z) + λ g(z), one optimizer per row (its own rate); with
    ``hypergradient`` the rate of each row follows Baydin et al. (2018)'s Adam-HD rule, read from
    the optimizer's state: α ← α + β⟨∇F(z_{t−1}), m̂_{t−1}/(√v̂_{t−1} + ε)⟩."""
    rows = [torch.zeros(problem.shape[1], dtype=X.dtype) if z0 is None else z0[i].clone()
            for i in range(X.shape[0])]
    params = [torch.nn.Parameter(z[None]) for z in rows]
    optims = [torch.optim.Adam([p], lr=lr, betas=betas, eps=eps, foreach=False) for p in params]
    out = []
    for _ in range(n_iter):
        for i, (p, opt) in enumerate(zip(params, optims)):
            opt.zero_grad()
            problem.value(X[i:i + 1], p, lmbd[i:i + 1]).sum().backward()
            state = opt.state.get(p)
            if hypergradient and state:
                t = float(state["step"])
                m_hat = state["exp_avg"] / (1 - betas[0] ** t)
                v_hat = state["exp_avg_sq"] / (1 - betas[1] ** t)
                opt.param_groups[0]["lr"] += hypergradient * float((p.grad * m_hat / (v_hat.sqrt() + eps)).sum())
            opt.step()
        out.append(torch.cat([p.detach() for p in params]))
    return out


@pytest.mark.parametrize("weighted", [False, True])
def test_iterates_are_torch_adams(weighted):
    weights = torch.linspace(0.0, 2.0, 40, dtype=torch.float64) if weighted else None
    problem, X, lmbd = _lasso(weights)
    z0 = 0.1 * torch.randn(6, 40, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    z0[:, :5] = 0  # sign(0) = 0, as autograd's |·|
    for solver in (Adam(lr=0.05), Adam(lr=0.05, hypergradient=0.0), Adam(lr=0.02, betas=(0.5, 0.9), eps=1e-6)):
        ours = _trajectory(solver, problem, X, lmbd, 40, z0=z0)
        theirs = _torch_adam(problem, X, lmbd, 40, solver.lr, z0=z0, betas=solver.betas, eps=solver.eps)
        for a, b in zip(ours, theirs):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
        assert torch.all(solver.lr_ == solver.lr)


def test_adamhd_follows_the_papers_rule_per_row_and_decreases_f():
    problem, X, lmbd = _lasso()
    solver = Adam(lr=0.01, hypergradient=1e-3)
    ours = _trajectory(solver, problem, X, lmbd, 60)
    theirs = _torch_adam(problem, X, lmbd, 60, 0.01, hypergradient=1e-3)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    # the rates moved, each row its own way, and the objective went down from z = 0
    assert torch.all(solver.lr_ != 0.01) and solver.lr_.unique().numel() == 6
    F0 = problem.value(X, torch.zeros(6, 40, dtype=torch.float64), lmbd)
    F = problem.value(X, ours[-1], lmbd)
    assert torch.all(F < 0.8 * F0)
    plain = problem.value(X, Adam(lr=0.01).solve(problem, X, lmbd, 60), lmbd)
    assert float(F.mean()) < float(plain.mean())  # from a small rate, the adapted one gets further


def test_callback_stops_and_n_iter_zero_returns_the_start():
    problem, X, lmbd = _lasso()
    seen = []
    Adam().solve(problem, X, lmbd, 50, callback=lambda k, z: seen.append(k) or k == 3)
    assert seen == [1, 2, 3]
    z0 = torch.ones(6, 40, dtype=torch.float64)
    assert torch.equal(Adam().solve(problem, X, lmbd, 0, z0=z0), z0)


def test_tune_rate_picks_the_best_rate_of_the_grid():
    problem, X, lmbd = _lasso()
    grid = [1e-3, 1e-2, 1e-1, 1.0, 1e3]  # 1e3 diverges far: it must not win
    rate = Adam().tune_rate(problem, X, lmbd, 30, grid=grid)
    finals = {r: float(problem.value(X, Adam(lr=r).solve(problem, X, lmbd, 30), lmbd).mean()) for r in grid}
    assert rate == min((v, r) for r, v in finals.items() if math.isfinite(v))[1]
    assert len(DEFAULT_GRID) == 13 and DEFAULT_GRID[0] == pytest.approx(1e-4) and DEFAULT_GRID[-1] == 1.0
    assert Adam().tune_rate(problem, X, lmbd, 5) in DEFAULT_GRID
    with pytest.raises(ValueError, match="grid"):
        Adam().tune_rate(problem, X, lmbd, 5, grid=[])
    with pytest.raises(ValueError, match="grid"):
        Adam().tune_rate(problem, X, lmbd, 5, grid=[0.1, -1.0])


def test_penalty_without_a_subgradient_is_refused_and_an_own_one_is_used():
    D, X, lmbd = lasso_batch(batch=4)
    with pytest.raises(ValueError, match="subgradient"):
        Adam().solve(TVProblem(D), X, lmbd, 3)
    with pytest.raises(ValueError, match="problem.*AnalysisL1"):
        Adam().solve(CompositeProblem(QuadraticDatafit(D), AnalysisL1(torch.eye(40, dtype=D.dtype))), X, lmbd, 3)

    class Squared:  # g(z) = ½‖z‖², through its own subgradient
        def value(self, Z):
            return 0.5 * (Z ** 2).sum(1)

        def subgradient(self, Z):
            return Z

    problem = CompositeProblem(QuadraticDatafit(D), Squared())
    ours = _trajectory(Adam(lr=0.05), problem, X, lmbd, 20)
    theirs = _torch_adam(problem, X, lmbd, 20, 0.05)
    torch.testing.assert_close(ours[-1], theirs[-1], rtol=0, atol=1e-6)


@pytest.mark.parametrize("kwargs, name", [({"lr": 0.0}, "lr"), ({"lr": float("nan")}, "lr"),
                                          ({"betas": (0.9,)}, "betas"), ({"betas": (1.0, 0.999)}, r"betas\[0\]"),
                                          ({"betas": (0.9, -0.1)}, r"betas\[1\]"), ({"eps": 0.0}, "eps"),
                                          ({"hypergradient": -1e-3}, "hypergradient")])
def test_check_names_the_bad_hyper_parameter(kwargs, name):
    problem, X, lmbd = _lasso()
    with pytest.raises(ValueError, match=name):
        Adam(**kwargs).check()
    with pytest.raises(ValueError, match=name):
        Adam(**kwargs).solve(problem, X, lmbd, 3)
    assert Adam().check().lr == 1e-2
    with pytest.raises(ValueError, match="n_iter"):
        Adam().solve(problem, X, lmbd, -1)
    with pytest.raises(ValueError, match="lmbd"):
        Adam().solve(problem, X, -lmbd, 3)


def test_one_operator_per_row_is_each_rows_own_adam():
    lasso = pytest.importorskip("l2obench.objectives.lasso")
    if not hasattr(lasso, "BatchedLassoProblem"):
        pytest.skip("BatchedLassoProblem not in this tree")
    g = torch.Generator().manual_seed(3)
    A = torch.randn(4, 15, 30, generator=g, dtype=torch.float64) * torch.tensor([0.3, 1.0, 2.0, 3.0],
                                                                               dtype=torch.float64)[:, None, None]
    X = torch.randn(4, 15, generator=g, dtype=torch.float64)
    lmbd = 0.1 * torch.einsum("bmn,bm->bn", A, X).abs().amax(1)
    solver = Adam(lr=0.05, hypergradient=1e-3)
    Z = solver.solve(lasso.BatchedLassoProblem(A), X, lmbd, 30)
    for i in range(4):
        row = Adam(lr=0.05, hypergradient=1e-3).solve(LassoProblem(A[i]), X[i:i + 1], lmbd[i:i + 1], 30)
        # batched products round differently, and sign(z) near 0 amplifies it (measured 3e-8)
        torch.testing.assert_close(Z[i:i + 1], row, rtol=0, atol=1e-6)
