"""LISTA-CP / LISTA-CPSS: ISTA or ALISTA initialisation, options, threshold learning rate."""
import pytest
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.unrolled.lasso.lista_cp import LISTACP
from l2obench.solvers.unrolled.lasso.registry import make_model
from support import lasso_batch as _problem


@pytest.mark.parametrize("support_selection", [False, True])
def test_lista_cp_analytic_init_is_the_untrained_alista(support_selection):
    D, X, lmbd = _problem(seed=4)
    problem = LassoProblem(D)
    cp = make_model("lista-cp", n_layers=5, support_selection=support_selection, init="analytic").build(problem)
    alista = make_model("alista", n_layers=5, support_selection=support_selection).build(problem)
    with torch.no_grad():
        for k in range(1, 6):
            assert torch.allclose(cp(X, lmbd, n_layers=k), alista(X, lmbd, n_layers=k), atol=1e-10, rtol=0)
    assert cp.get_params()["init"] == "analytic" and make_model("lista-cp").get_params()["init"] == "ista"
    with pytest.raises(ValueError, match="init"):
        make_model("lista-cp", init="random")


def test_support_selection_schedule_is_a_hyper_parameter():
    D, X, lmbd = _problem(seed=2)
    problem = LassoProblem(D)
    ista = ProximalGradient().solve(problem, X, lmbd, 4)
    off = LISTACP(n_layers=4, support_selection=True, p_per_layer=0.0, p_max=0.0).build(problem)
    assert torch.allclose(off.solve(X, lmbd, 4), ista, atol=1e-12, rtol=0)  # no entry bypasses: ISTA
    cpss = LISTACP(n_layers=4, support_selection=True, p_per_layer=10.0, p_max=30.0).build(problem)
    assert not torch.allclose(cpss.solve(X, lmbd, 4), ista, atol=1e-6)
    for name, value in (("p_per_layer", -1.0), ("p_max", 101.0), ("threshold_lr_scale", 0.0)):
        with pytest.raises(ValueError, match=name):
            LISTACP(**{name: value})


def test_thresholds_get_their_own_learning_rate_group():
    D, _, _ = _problem()
    model = LISTACP(n_layers=3, threshold_lr_scale=0.01).build(LassoProblem(D))
    weights, thresholds = model.lr_groups(model.parameters())
    assert weights["lr_scale"] == 1.0 and thresholds["lr_scale"] == 0.01
    assert {id(p) for p in thresholds["params"]} == {id(t) for t in model.theta_}
    assert {id(p) for p in weights["params"]} == {id(w) for w in model.W_}
    assert model.n_params() == 3 * (20 * 40 + 1)
