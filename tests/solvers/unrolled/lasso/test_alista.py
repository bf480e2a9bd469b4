"""ALISTA: the analytic weight solves its constrained problem; options."""
import pytest
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.solvers.unrolled.lasso.alista import ALISTA, analytic_weight
from l2obench.solvers.unrolled.lasso.registry import make_model
from support import lasso_batch as _problem


def test_alista_analytic_weight_solves_its_constrained_problem():
    D, _, _ = _problem(m=15, n=30, seed=1)
    W = analytic_weight(D)
    assert torch.allclose((W * D).sum(0), torch.ones(30, dtype=D.dtype))
    # optimal: any feasible perturbation keeps the constraint and does not lower ||W^T D||_F
    g = torch.Generator().manual_seed(2)
    for _ in range(5):
        V = torch.randn(W.shape, generator=g, dtype=D.dtype)
        V -= D * (V * D).sum(0) / (D * D).sum(0)  # v_i^T d_i = 0
        assert torch.linalg.matrix_norm((W + 1e-2 * V).T @ D) >= torch.linalg.matrix_norm(W.T @ D)


def test_weight_is_fixed_and_only_steps_and_thresholds_are_learned():
    D, _, _ = _problem()
    model = ALISTA(n_layers=5).build(LassoProblem(D))
    assert model.n_params() == 2 * 5 and torch.equal(model.W_, analytic_weight(D))
    assert "W_" not in model.state_dict()  # a buffer derived from D, not learned state
    alpha = 1.0 / float(torch.linalg.matrix_norm(model.W_.T @ D, ord=2))
    assert all(float(g.detach()) == pytest.approx(alpha, rel=1e-12) for g in model.gamma_)
    dictionary = ALISTA(n_layers=2, weight="dictionary").build(LassoProblem(D))
    assert torch.equal(dictionary.W_, D)


def test_bad_weight_option_is_rejected():
    with pytest.raises(ValueError, match="weight"):
        make_model("alista", weight="learned")
