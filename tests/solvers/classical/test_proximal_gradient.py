"""ProximalGradient (ISTA / FISTA / restarted FISTA), one implementation run on the Lasso, on TV
(analysis form, exact prox) and on the synthesis form of TV (a weighted Lasso)."""
import math

import pytest
import torch

from l2obench.datasets.tv_deconvolution import make_tv_synthetic
from l2obench.objectives.l1_logistic import L1LogisticProblem
from l2obench.objectives.lasso import BatchedLassoProblem, LassoProblem
from l2obench.objectives.problem import GramForward
from l2obench.objectives.tv_deconvolution import TVProblem, synthesis_problem
from l2obench.solvers.classical.proximal_gradient import ProximalGradient, momentum, prox_grad_step
from support import random_lasso as lasso

SOLVERS = {
    "ISTA": (ProximalGradient(), 2_000),
    "FISTA": (ProximalGradient(accelerated=True), 1_000),
    "FISTA-residual-form": (ProximalGradient(accelerated=True, form="residual"), 1_000),
    "FISTA-restart": (ProximalGradient(accelerated=True, restart=True), 1_000),
}
# iterations to reach the certified TV optimum (ISTA and FISTA: the old TVProximalGradient budgets)
TV_ITERS = {"ISTA": 1_500, "FISTA": 600, "FISTA-residual-form": 600, "FISTA-restart": 300}


def assert_reaches(problem, X, lam, ref, Z, name):
    rel = (problem.value(X, Z, lam) - ref.value) / ref.value
    assert float(rel.max()) < 1e-8, (name, float(rel.max()))
    assert float(rel.min()) > -1e-10, (name, float(rel.min()))  # nobody beats a certified optimum


@pytest.mark.parametrize("name", SOLVERS)
def test_reaches_the_certified_tv_optimum(name, tv_problems):
    solver = SOLVERS[name][0]
    for problem, X, lam, ref in tv_problems:
        assert_reaches(problem, X, lam, ref, solver.solve(problem, X, lam, TV_ITERS[name]), name)


def test_synthesis_fista_reaches_the_tv_optimum(tv_problems):
    """The old TVSynthesisFISTA: FISTA on the synthesis Lasso, mapped back by ``to_output``."""
    for problem, X, lam, ref in tv_problems:
        synthesis = synthesis_problem(problem.H)
        U = ProximalGradient(accelerated=True).solve(synthesis, X, lam, 20_000)
        assert_reaches(problem, X, lam, ref, synthesis.to_output(U), "synthesis FISTA")


def test_synthesis_solution_is_the_analysis_solution(tv_problems):
    solver = ProximalGradient(accelerated=True, restart=True)
    for problem, X, lam, ref in tv_problems:
        synthesis = synthesis_problem(problem.H)
        U = solver.solve(synthesis, X, lam, 5_000)
        Z_syn, Z_ana = synthesis.to_output(U), solver.solve(problem, X, lam, 600)
        torch.testing.assert_close(synthesis.value(X, U, lam), problem.value(X, Z_syn, lam), rtol=1e-13, atol=0)
        torch.testing.assert_close(Z_syn, Z_ana, rtol=0, atol=1e-9)
        torch.testing.assert_close(Z_ana, ref.Z, rtol=0, atol=1e-9)


def test_analytic_step_is_an_ista_iteration():
    problem, X, lmbd = lasso(3)
    alpha = 1 / problem.datafit.lipschitz
    W_x, W_z = problem.datafit.step_weights(alpha)
    z = ProximalGradient().solve(problem, X, lmbd, 5)
    manual = z - alpha * problem.datafit.grad(X, z)
    expected = torch.sign(manual) * torch.clamp(manual.abs() - (lmbd * alpha)[:, None], min=0)
    step = prox_grad_step(z, GramForward(X @ W_x, W_z), problem.penalty.prox, (lmbd * alpha)[:, None])
    torch.testing.assert_close(step, expected)
    torch.testing.assert_close(ProximalGradient().solve(problem, X, lmbd, 6), expected)


def test_warm_start_continues_ista():
    problem, X, lmbd = lasso(3)
    z5 = ProximalGradient().solve(problem, X, lmbd, 5)
    torch.testing.assert_close(ProximalGradient().solve(problem, X, lmbd, 3, z0=z5),
                               ProximalGradient().solve(problem, X, lmbd, 8), rtol=1e-12, atol=1e-14)


def test_float32_runs_and_stays_float32():
    problem, X, lmbd = lasso(4)
    Z = ProximalGradient(accelerated=True).solve(LassoProblem(problem.D.float()), X.float(), lmbd.float(), 10)
    assert Z.dtype == torch.float32


def test_diverging_step_gives_nonfinite_or_huge_iterates_not_an_error():
    # a small λ keeps a large support, where the curvature is close to L: step 2.5/L > 2/L_S
    problem, X, lmbd = lasso(5, reg=0.05)
    Z = ProximalGradient(step=2.5).solve(problem, X, lmbd, 400)
    F0 = problem.value(X, torch.zeros_like(Z), lmbd)
    F = problem.value(X, Z, lmbd)
    assert not torch.isfinite(F).all() or torch.all(F > 10 * F0)


@pytest.mark.parametrize("solver, match", [
    (ProximalGradient(step=0.0), "step"), (ProximalGradient(form="dense"), "form"),
    (ProximalGradient(accelerated="yes"), "accelerated"), (ProximalGradient(restart=1.5), "restart"),
])
def test_bad_hyper_parameter_raises_clear_error(solver, match):
    problem, X, lmbd = lasso(7)
    with pytest.raises(ValueError, match=match):
        solver.solve(problem, X, lmbd, 5)


@pytest.mark.parametrize("call, name", [
    (lambda: ProximalGradient(step=0.0).solve(TVProblem(torch.eye(3)), torch.ones(1, 3), 0.1, 5), "step"),
    (lambda: ProximalGradient().solve(TVProblem(torch.eye(3)), torch.ones(1, 4), 0.1, 5), "X"),
    (lambda: ProximalGradient(accelerated=True).solve(synthesis_problem(torch.eye(3)), torch.ones(1, 3), 0.1, -2),
     "n_iter"),
])
def test_bad_tv_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def tv_data():
    data = make_tv_synthetic(2, 4, seed=7)
    problem = TVProblem(data.H)
    return problem, data.X_test, 0.2 * problem.lambda_max(data.X_test)


@pytest.mark.parametrize("synthesis", [False, True])
def test_callback_sees_the_iterates(synthesis):
    problem, X, lam = tv_data()
    problem = synthesis_problem(problem.H) if synthesis else problem
    solver = ProximalGradient(accelerated=True)
    seen = {}
    solver.solve(problem, X, lam, 6, callback=lambda k, z: seen.__setitem__(k, z.clone()))
    assert sorted(seen) == list(range(1, 7))
    assert torch.allclose(seen[4], solver.solve(problem, X, lam, 4), atol=1e-13)


@pytest.mark.parametrize("name", SOLVERS)
@pytest.mark.parametrize("family", ["lasso", "tv"])
def test_callback_returning_true_stops_at_that_iteration(name, family):
    problem, X, lam = lasso(9) if family == "lasso" else tv_data()
    solver = SOLVERS[name][0]
    seen = []

    def stop_at_3(k, z):
        seen.append(k)
        return k == 3

    Z = solver.solve(problem, X, lam, 50, callback=stop_at_3)
    assert seen == [1, 2, 3]
    torch.testing.assert_close(Z, solver.solve(problem, X, lam, 3), rtol=0, atol=0)
    assert not torch.equal(Z, solver.solve(problem, X, lam, 4))


def test_momentum_is_fistas_extrapolation():
    gen = torch.Generator().manual_seed(0)
    z, z_new = torch.randn(4, 5, generator=gen, dtype=torch.float64), torch.randn(4, 5, generator=gen, dtype=torch.float64)
    y = torch.empty_like(z)
    t_new = momentum(z, z_new, y, 3.0)
    assert t_new == pytest.approx((1 + math.sqrt(37)) / 2)
    torch.testing.assert_close(y, z_new + (3.0 - 1) / t_new * (z_new - z))


def test_momentum_restart_zeroes_the_momentum_of_uphill_rows():
    gen = torch.Generator().manual_seed(1)
    z, z_new = torch.randn(4, 5, generator=gen, dtype=torch.float64), torch.randn(4, 5, generator=gen, dtype=torch.float64)
    step = z_new - z
    # y − z_new along +step (rows 0, 2: the step points uphill) or −step (rows 1, 3: downhill)
    sign = torch.tensor([[1.0], [-1.0], [1.0], [-1.0]], dtype=torch.float64)
    y = z_new + 0.5 * sign * step
    assert torch.equal(((y - z_new) * step).sum(dim=1) > 0, torch.tensor([True, False, True, False]))
    t = torch.tensor([[3.0], [3.0], [1.0], [5.0]], dtype=torch.float64)
    t_new = momentum(z, z_new, y, t, restart=True)
    golden = (1 + math.sqrt(5)) / 2  # t reset to 1
    expected_t = torch.tensor([[golden], [(1 + math.sqrt(37)) / 2], [golden], [(1 + math.sqrt(101)) / 2]],
                              dtype=torch.float64)
    torch.testing.assert_close(t_new, expected_t)
    torch.testing.assert_close(y[[0, 2]], z_new[[0, 2]], rtol=0, atol=0)  # no momentum
    beta = (t[[1, 3]] - 1) / t_new[[1, 3]]
    torch.testing.assert_close(y[[1, 3]], z_new[[1, 3]] + beta * step[[1, 3]])
    assert not torch.allclose(y[[1, 3]], z_new[[1, 3]])


def batched_lasso(B=5, m=12, n=20, seed=0, reg=0.3, same=False):
    g = torch.Generator().manual_seed(seed)
    D = torch.randn(1 if same else B, m, n, generator=g, dtype=torch.float64).expand(B, m, n).contiguous()
    X = torch.randn(B, m, generator=g, dtype=torch.float64)
    problem = BatchedLassoProblem(D)
    return problem, X, reg * problem.lambda_max(X)


@pytest.mark.parametrize("name", SOLVERS)
@pytest.mark.parametrize("shape", [(12, 20), (30, 20)])  # residual and Gram forms under 'auto'
def test_batched_lasso_with_one_dictionary_is_the_lasso(name, shape):
    solver = SOLVERS[name][0]
    problem, X, lmbd = batched_lasso(*(5, *shape), same=True)
    shared = LassoProblem(problem.D[0])
    for n_iter in (1, 7, 60):
        torch.testing.assert_close(solver.solve(problem, X, lmbd, n_iter), solver.solve(shared, X, lmbd, n_iter),
                                   rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", SOLVERS)
def test_per_instance_steps_and_thresholds_are_per_row(name, monkeypatch):
    solver = SOLVERS[name][0]
    problem, X, lmbd = batched_lasso(seed=1)
    L = problem.datafit.lipschitz
    assert L.shape == (5, 1) and not bool((L == L[0]).all())
    # a per-instance problem is never cut into blocks of rows (tiny blocks would break it)
    monkeypatch.setattr("l2obench.solvers.classical.proximal_gradient.block_rows", lambda *args: 1)
    Z = solver.solve(problem, X, lmbd, 40)
    for i in range(5):
        row = LassoProblem(problem.D[i])
        torch.testing.assert_close(Z[i:i + 1], solver.solve(row, X[i:i + 1], lmbd[i:i + 1], 40), rtol=0, atol=1e-12)


def test_per_instance_logistic_rows_are_independent():
    g = torch.Generator().manual_seed(2)
    F = torch.randn(4, 50, 6, generator=g, dtype=torch.float64)
    y = torch.where(torch.randn(4, 50, generator=g, dtype=torch.float64) + F[:, :, 0] >= 0, 1.0, -1.0).double()
    problem = L1LogisticProblem(F)
    lam = 0.2 * problem.lambda_max(y)
    for solver in (ProximalGradient(), ProximalGradient(accelerated=True, restart=True)):
        Z = solver.solve(problem, y, lam, 30)
        for i in range(4):
            torch.testing.assert_close(Z[i:i + 1], solver.solve(problem.index([i]), y[i:i + 1], lam[i:i + 1], 30),
                                       rtol=0, atol=1e-13)
