"""The fused FISTA pass: the same iterates as the step-then-momentum path, used exactly where it applies."""
import pytest
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.objectives.problem import L1Penalty, GramForward, residual_forward
from l2obench.solvers.classical import fused_fista
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from support import random_lasso

MODULE = "l2obench.solvers.classical.proximal_gradient"


def solve(monkeypatch, fuse, problem, X, lmbd, n_iter, **options):
    """FISTA's iterates with the fused pass allowed (``fuse``) or not; also says whether it ran."""
    calls = []

    def spy(*args):
        calls.append(fused_fista.fusable(*args))
        return fuse and calls[-1]

    monkeypatch.setattr(f"{MODULE}.fusable", spy)
    Z = ProximalGradient(accelerated=True, **options).solve(problem, X, lmbd, n_iter)
    return Z, any(calls) and fuse


@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-12), (torch.float32, 2e-5)])
@pytest.mark.parametrize("one_threshold", [False, True])
@pytest.mark.parametrize("form", ["gram", "residual"])
def test_fused_iterates_equal_the_unfused_ones(monkeypatch, dtype, atol, one_threshold, form):
    problem, X, lmbd = random_lasso(seed=3, B=7)
    problem, X = LassoProblem(problem.D.to(dtype)), X.to(dtype)
    lmbd = (torch.full_like(lmbd, float(lmbd.mean())) if one_threshold else lmbd).to(dtype)
    for n_iter in (1, 2, 30, 300):
        fused, ran = solve(monkeypatch, True, problem, X, lmbd, n_iter, form=form)
        plain, _ = solve(monkeypatch, False, problem, X, lmbd, n_iter, form=form)
        assert ran  # on CPU, ℓ1, either form: the fused pass is the default path
        torch.testing.assert_close(fused, plain, rtol=0, atol=atol)


@pytest.mark.parametrize("form", ["gram", "residual"])
def test_fused_callback_sees_each_iterate_and_stops(monkeypatch, form):
    """The fused pass overwrites z in place and swaps its buffers: the callback still sees z_k."""
    problem, X, lmbd = random_lasso(seed=8, B=5)
    seen = {True: {}, False: {}}
    for fuse in (True, False):
        def record(k, z, fuse=fuse):
            seen[fuse][k] = z.clone()
            return k == 7
        monkeypatch.setattr(f"{MODULE}.fusable", lambda *args, fuse=fuse: fuse and fused_fista.fusable(*args))
        Z = ProximalGradient(accelerated=True, form=form).solve(problem, X, lmbd, 50, callback=record)
        torch.testing.assert_close(Z, seen[fuse][7], rtol=0, atol=0)  # stopped at 7, returned z_7
    assert sorted(seen[True]) == sorted(seen[False]) == list(range(1, 8))
    for k in range(1, 8):
        torch.testing.assert_close(seen[True][k], seen[False][k], rtol=0, atol=1e-12)


def test_fused_blocks_of_rows_equal_the_whole_batch(monkeypatch):
    problem, X, lmbd = random_lasso(seed=4, B=9)
    whole, _ = solve(monkeypatch, True, problem, X, lmbd, 50)
    monkeypatch.setattr(f"{MODULE}.block_rows", lambda *args: 4)  # blocks of 4, 4 and 1 rows
    blocks, ran = solve(monkeypatch, True, problem, X, lmbd, 50)
    assert ran
    torch.testing.assert_close(blocks, whole, rtol=0, atol=1e-12)


def test_a_diverging_step_gives_the_same_non_finite_rows(monkeypatch):
    problem, X, lmbd = random_lasso(seed=5, B=4)
    fused, _ = solve(monkeypatch, True, problem, X, lmbd, 2000, step=3.0)
    plain, _ = solve(monkeypatch, False, problem, X, lmbd, 2000, step=3.0)
    assert not bool(torch.isfinite(plain).all())  # the step diverges...
    assert torch.equal(torch.isfinite(fused), torch.isfinite(plain))  # ...and the fused pass keeps its NaN / inf


def test_fusable_only_where_exact():
    problem, X, _ = random_lasso(seed=6, B=3)
    D, z = problem.D, torch.zeros(3, problem.D.shape[1], dtype=torch.float64)
    forward = problem.datafit.gradient_step(X, 0.01, "gram")
    penalty, column = L1Penalty(), torch.full((3, 1), 0.1, dtype=torch.float64)
    assert fused_fista.fusable(forward, penalty, 0.1, z)
    assert fused_fista.fusable(forward, penalty, column, z)
    assert not fused_fista.fusable(forward, penalty, torch.full((3, D.shape[1]), 0.1, dtype=torch.float64), z)
    assert not fused_fista.fusable(forward, L1Penalty(torch.ones(D.shape[1], dtype=torch.float64)), 0.1, z)
    assert fused_fista.fusable(problem.datafit.gradient_step(X, 0.01, "residual"), penalty, 0.1, z)
    assert not fused_fista.fusable(residual_forward(X, D, 0.01 * D), penalty, 0.1, z)  # a learned map: opaque
    assert not fused_fista.fusable(forward, penalty, 0.1, z.float())  # dtypes differ
    learned = GramForward(forward.bias, forward.W.clone().requires_grad_())
    assert not fused_fista.fusable(learned, penalty, 0.1, z)  # autograd needs the torch kernels
    with torch.no_grad():
        assert fused_fista.fusable(learned, penalty, 0.1, z)


def test_restart_and_weighted_penalties_keep_the_torch_path(monkeypatch):
    problem, X, lmbd = random_lasso(seed=7, B=3)
    _, ran = solve(monkeypatch, True, problem, X, lmbd, 20, restart=True)
    assert not ran
    weighted = LassoProblem(problem.D, weights=torch.linspace(0.5, 1.5, problem.D.shape[1], dtype=torch.float64))
    _, ran = solve(monkeypatch, True, weighted, X, lmbd, 20)
    assert not ran
