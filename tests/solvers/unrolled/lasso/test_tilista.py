"""TiLISTA: one tied weight, per-layer steps and thresholds."""
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.unrolled.lasso.tilista import TiLISTA
from support import lasso_batch as _problem


def test_tied_weight_and_parameter_count():
    D, X, lmbd = _problem()
    problem = LassoProblem(D)
    model = TiLISTA(n_layers=5).build(problem)
    assert model.n_params() == 20 * 40 + 2 * 5
    assert [p.shape for p in model.layer_parameters(3)] == [(), ()]  # stages train step and threshold
    assert torch.allclose(model.solve(X, lmbd, 5), ProximalGradient().solve(problem, X, lmbd, 5), atol=1e-12, rtol=0)
    with torch.no_grad():  # the tied weight acts in every layer: with the thresholds, ISTA at step 1.5/L
        model.W_.mul_(1.5)
        for theta in model.theta_:
            theta.mul_(1.5)
    assert torch.allclose(model.solve(X, lmbd, 3), ProximalGradient(step=1.5).solve(problem, X, lmbd, 3),
                          atol=1e-12, rtol=0)


def test_support_selection_changes_the_layers():
    D, X, lmbd = _problem(seed=1)
    plain = TiLISTA(n_layers=4).build(LassoProblem(D))
    ss = TiLISTA(n_layers=4, support_selection=True).build(LassoProblem(D))
    assert not torch.allclose(plain.solve(X, lmbd, 4), ss.solve(X, lmbd, 4))
