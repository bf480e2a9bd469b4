"""TV deconvolution: the analysis problem (exact-prox penalty, λ_max, dual) and its synthesis form."""
import pytest
import torch

from l2obench.datasets.tv_deconvolution import make_tv_synthetic
from l2obench.objectives.tv_deconvolution import (TVPenalty, TVProblem, TVSynthesisProblem, difference_matrix,
                                                 integration_matrix, lambda_max, synthesis_problem,
                                                 synthesis_weights, to_analysis, to_synthesis, tv_value)
from l2obench.objectives.tv_prox import prox_tv
from l2obench.solvers.classical.reference import certified_solve
from support import assert_dual_is_a_tight_lower_bound


def test_lambda_max():
    data = make_tv_synthetic(2, 4, n_dim=10, n_measurements=12, seed=3)
    problem, X = TVProblem(data.H), data.X_test
    lmax = lambda_max(data.H, X)
    torch.testing.assert_close(lmax, problem.lambda_max(X))
    # the old reference_solve defaults: relative gap 1e-11, at most 20,000 iterations
    above = certified_solve(problem, X, 1.001 * lmax, tol=1e-11, max_iter=20_000).Z
    assert float(torch.diff(above, dim=1).abs().max()) < 1e-9
    below = certified_solve(problem, X, 0.9 * lmax, tol=1e-11, max_iter=20_000).Z
    assert bool((torch.diff(below, dim=1).abs().amax(dim=1) > 1e-6).all())


def test_synthesis_form_is_the_same_problem():
    data = make_tv_synthetic(2, 5, n_dim=8, n_measurements=5, seed=4)
    H, X = data.H, data.X_test
    U = torch.randn(5, 8, dtype=torch.float64)
    synthesis = synthesis_problem(H)
    assert isinstance(synthesis, TVSynthesisProblem)
    lasso = 0.5 * ((X - U @ synthesis.A.T) ** 2).sum(1) + 0.7 * (U.abs() * synthesis_weights(8)).sum(1)
    assert torch.allclose(tv_value(H, X, to_analysis(U), 0.7), lasso)
    assert torch.allclose(to_synthesis(to_analysis(U)), U)
    # the same, through the problem interface
    torch.testing.assert_close(synthesis.A, H @ integration_matrix(8))
    torch.testing.assert_close(synthesis.penalty.weights, synthesis_weights(8))
    torch.testing.assert_close(synthesis.value(X, U, 0.7), TVProblem(H).value(X, synthesis.to_output(U), 0.7))
    torch.testing.assert_close(synthesis.to_output(U), to_analysis(U), rtol=0, atol=0)
    torch.testing.assert_close(synthesis.from_output(synthesis.to_output(U)), U)
    assert not synthesis.has_dual  # weighted: certified on the analysis form


def test_difference_and_integration_are_inverse():
    n = 6
    K, I = difference_matrix(n), integration_matrix(n)
    assert K.shape == (n - 1, n)
    z = torch.randn(3, n, dtype=torch.float64)
    torch.testing.assert_close(z @ K.T, torch.diff(z, dim=1))
    torch.testing.assert_close(to_analysis(to_synthesis(z)), z)
    torch.testing.assert_close(to_synthesis(z) @ I.T, z)
    assert torch.equal(synthesis_weights(n), torch.tensor([0.0] + [1.0] * (n - 1), dtype=torch.float64))


def test_penalty_is_the_tv_norm_with_the_exact_prox():
    penalty = TVPenalty(7)
    z = torch.randn(4, 7, dtype=torch.float64)
    torch.testing.assert_close(penalty.value(z), (z @ penalty.K.T).abs().sum(dim=1))
    assert float(torch.linalg.matrix_norm(penalty.K, 2) ** 2) <= penalty.K_norm2
    thresh = torch.tensor([[0.1], [0.2], [0.3], [0.4]], dtype=torch.float64)
    torch.testing.assert_close(penalty.prox(z, thresh), prox_tv(z, thresh[:, 0]), rtol=0, atol=0)
    out = torch.empty_like(z)
    assert penalty.prox(z, 0.3, out=out) is out and torch.equal(out, prox_tv(z, 0.3))
    v = torch.randn(4, 6, dtype=torch.float64)
    torch.testing.assert_close(penalty.inner_prox(v, 0.5), torch.sign(v) * (v.abs() - 0.5).clamp_min(0))


def test_dual_value_is_a_lower_bound():
    data = make_tv_synthetic(2, 6, n_dim=10, n_measurements=7, seed=5)
    problem, X = TVProblem(data.H), data.X_test
    lam = 0.3 * problem.lambda_max(X)
    assert_dual_is_a_tight_lower_bound(problem, X, lam, tol=1e-12)


def test_float32_problem_and_double():
    H = torch.randn(5, 8)
    problem = TVProblem(H)
    assert problem.penalty.K.dtype == torch.float32
    Z = problem.double()
    assert isinstance(Z, TVProblem) and Z.A.dtype == torch.float64 and Z.penalty.K.dtype == torch.float64
    assert Z.double() is Z
    S = synthesis_problem(H).double()
    assert isinstance(S, TVSynthesisProblem) and S.A.dtype == torch.float64
    torch.testing.assert_close(S.A, H.double() @ integration_matrix(8))


@pytest.mark.parametrize("make", [TVProblem, synthesis_problem])
def test_zero_operator_names_H(make):
    with pytest.raises(ValueError, match="H must be a non-empty matrix with a non-zero entry"):
        make(torch.zeros(5, 8, dtype=torch.float64))


@pytest.mark.parametrize("X, lmbd, match", [   # at 9b0dfdd: LAPACK's error in PGD, accepted by the others
    (torch.zeros(0, 5, dtype=torch.float64), 0.1, "X must hold at least one signal"),
    (torch.ones(3, 5, dtype=torch.float16), 0.1, "X must be float32 or float64"),
    (torch.ones(3, 5, dtype=torch.int64), 0.1, "X must be float32 or float64"),
])
@pytest.mark.parametrize("form", [TVProblem, synthesis_problem], ids=["analysis", "synthesis"])
def test_every_classical_solver_names_the_bad_input_on_both_forms(form, X, lmbd, match):
    from l2obench.solvers.classical.admm import ADMM
    from l2obench.solvers.classical.pdhg import PDHG
    from l2obench.solvers.classical.proximal_gradient import ProximalGradient

    problem = form(torch.randn(5, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    for solver in (ProximalGradient(), ProximalGradient(accelerated=True), ADMM(), PDHG()):
        with pytest.raises(ValueError, match=match):
            solver.solve(problem, X, lmbd, 3)
