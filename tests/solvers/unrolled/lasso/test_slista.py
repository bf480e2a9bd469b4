"""SLISTA: steps 1/L make it ISTA exactly; learned steps change it."""
import numpy as np
import pytest
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.unrolled.lasso.registry import make_model
from l2obench.solvers.unrolled.lasso.slista import SLISTA
from support import assert_untrained_layers_are_ista
from support import lasso_batch as _problem


def test_slista_with_steps_one_over_L_is_ista_and_learned_steps_change_it():
    D, X, lmbd = _problem(seed=3)
    problem = LassoProblem(D)
    model = make_model("slista", n_layers=4).build(problem)
    assert torch.allclose(model.solve(X, lmbd, 4), ProximalGradient().solve(problem, X, lmbd, 4), atol=1e-6, rtol=0)
    with torch.no_grad():
        model.log_step_.add_(0.4)
    assert not torch.allclose(model.solve(X, lmbd, 4), ProximalGradient().solve(problem, X, lmbd, 4), atol=1e-6)


@pytest.mark.parametrize("depth", [1, 4, 9])
def test_untrained_slista_is_ista_exactly(depth):
    D, X, lmbd = _problem(seed=depth)
    problem = LassoProblem(D)
    model = SLISTA(n_layers=depth).build(problem)
    ista = assert_untrained_layers_are_ista(model, problem, X, lmbd, depth)
    for n_iter in (depth + 1, depth + 10):
        assert torch.allclose(model.solve(X, lmbd, n_iter), ista.solve(problem, X, lmbd, n_iter), atol=1e-12, rtol=0)


def test_steps_are_reported_in_units_of_one_over_L():
    D, X, lmbd = _problem()
    problem = LassoProblem(D)
    model = SLISTA(n_layers=3).build(problem)
    L = problem.datafit.lipschitz
    assert np.allclose(model.steps(), 1.0 / L, rtol=1e-14) and model.n_params() == 3
    with torch.no_grad():
        model.log_step_[1] = np.log(2.0)
    assert model.steps()[1] == pytest.approx(2.0 / L, rel=1e-14)
    # a step of 2/L is ISTA with step=2 for that layer
    Z1 = model.solve(X, lmbd, 1)
    expected = ProximalGradient(step=2.0).solve(problem, X, lmbd, 1, z0=Z1)
    assert torch.allclose(model.solve(X, lmbd, 2), expected, atol=1e-12, rtol=0)
