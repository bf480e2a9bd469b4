"""LISTA: untrained, each layer is ISTA's step exactly; coupling; parameter count."""
import pytest
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.solvers.unrolled.lasso.lista import LISTA
from support import assert_untrained_layers_are_ista
from support import lasso_batch as _problem


@pytest.mark.parametrize("depth", [1, 3, 7])
@pytest.mark.parametrize("shape", [(20, 40), (30, 20)])  # ISTA in residual, then in Gram form
def test_untrained_lista_is_ista_exactly(depth, shape):
    D, X, lmbd = _problem(*shape, seed=depth)
    problem = LassoProblem(D)
    model = LISTA(n_layers=depth).build(problem)
    ista = assert_untrained_layers_are_ista(model, problem, X, lmbd, depth)
    with torch.no_grad():
        layers = model(X, lmbd, all_layers=True)
    assert len(layers) == depth and torch.equal(layers[-1], model.solve(X, lmbd, depth))
    for n_iter in (depth + 1, depth + 10):  # then ISTA continues them
        assert torch.allclose(model.solve(X, lmbd, n_iter), ista.solve(problem, X, lmbd, n_iter), atol=1e-12, rtol=0)


def test_coupling_is_zero_at_ista_and_sees_a_perturbation():
    D, _, _ = _problem()
    model = LISTA(n_layers=3).build(LassoProblem(D))
    assert model.coupling().shape == (3,) and float(model.coupling().max()) < 1e-12
    with torch.no_grad():
        model.W2_[1].add_(1e-3)
    coupling = model.coupling()
    assert float(coupling[1]) == pytest.approx(1e-3 * 40, rel=1e-9) and float(coupling[0]) < 1e-12


def test_parameter_count_is_untied():
    D, _, _ = _problem()
    model = LISTA(n_layers=4).build(LassoProblem(D))
    assert model.n_params() == 4 * (20 * 40 + 40 * 40 + 1)
    assert [p.shape for p in model.layer_parameters(2)] == [(20, 40), (40, 40), ()]
