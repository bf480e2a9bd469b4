"""Oracle ISTA (Ablin et al. 2019) on the Lasso."""
import pytest
import torch

from l2obench.objectives.tv_deconvolution import TVProblem, synthesis_problem
from l2obench.solvers.classical.lasso_oracle_ista import OracleISTA, support_lipschitz
from support import random_lasso as lasso


def test_support_lipschitz_is_the_top_eigenvalue_on_the_support():
    problem, _, _ = lasso(3)
    G = problem.datafit.gram
    mask = torch.zeros(2, G.shape[0], dtype=G.dtype)
    mask[0, :5], mask[1, 10:20] = 1.0, 1.0
    L_S, _ = support_lipschitz(G, mask, torch.ones_like(mask), 500)
    for row, L in zip(mask.bool(), L_S[:, 0]):
        assert float(L) == pytest.approx(float(torch.linalg.eigvalsh(G[row][:, row])[-1]), rel=1e-8)


def test_bad_hyper_parameter_raises_clear_error():
    problem, X, lmbd = lasso(7)
    with pytest.raises(ValueError, match="n_power"):
        OracleISTA(n_power=0).solve(problem, X, lmbd, 5)


@pytest.mark.parametrize("make", [lambda H: synthesis_problem(H), lambda H: TVProblem(H)])
def test_other_problems_are_refused(make):
    H = torch.randn(5, 8, dtype=torch.float64)
    with pytest.raises(ValueError, match="unweighted Lasso"):
        OracleISTA().solve(make(H), torch.ones(2, 5, dtype=torch.float64), 0.1, 5)
