"""Synthesis LISTA: analytic weights reproduce ISTA on the synthesis form of TV."""
import pytest
import torch

from l2obench.datasets.tv_deconvolution import make_tv_synthetic
from l2obench.objectives.tv_deconvolution import TVProblem, lambda_max, synthesis_problem
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.unrolled.tv.synthesis_lista import TVSynthesisLISTA


@pytest.fixture(scope="module")
def data():
    d = make_tv_synthetic(300, 50, seed=0)
    return d.H, d.X_train, 0.1 * lambda_max(d.H, d.X_train), d.X_test, 0.1 * lambda_max(d.H, d.X_test)


def _synthesis_ista(H, X, lam, n_iter):
    """ISTA on the weighted Lasso of the synthesis form, mapped back to signals z = I u."""
    problem = synthesis_problem(H)
    return problem.to_output(ProximalGradient(accelerated=False).solve(problem, X, lam, n_iter))


@pytest.mark.parametrize("n_iter", [1, 4, 9])
def test_analytic_synthesis_lista_is_ista(data, n_iter):
    H, _, _, X, lam = data
    model = TVSynthesisLISTA(n_layers=4).build(TVProblem(H))
    expected = _synthesis_ista(H, X, lam, n_iter)
    assert torch.allclose(model.solve(X, lam, n_iter), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("depth", [1, 3, 6])
def test_analytic_synthesis_lista_layers_are_ista_iterates(data, depth):
    H, _, _, X, lam = data
    model = TVSynthesisLISTA(n_layers=depth).build(TVProblem(H))
    with torch.no_grad():
        layers = model(X, lam, all_layers=True)
    assert len(layers) == depth
    for k, Z in enumerate(layers, start=1):
        assert torch.allclose(Z, _synthesis_ista(H, X, lam, k), atol=1e-12, rtol=0)
    for n_iter in (depth + 1, depth + 8):
        assert torch.allclose(model.solve(X, lam, n_iter), _synthesis_ista(H, X, lam, n_iter), atol=1e-12, rtol=0)


def test_layers_iterate_on_the_synthesis_form_and_output_signals(data):
    H, _, _, X, lam = data
    model = TVSynthesisLISTA(n_layers=2).build(TVProblem(H))
    assert torch.allclose(model.A_, synthesis_problem(H).A, atol=0, rtol=0)
    assert model.problem_.shape == tuple(H.shape) and model.n_params() == 2 * (H.shape[0] * H.shape[1] + H.shape[1] ** 2 + 1)
