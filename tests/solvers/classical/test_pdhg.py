"""PDHG (Chambolle–Pock), one implementation: TV (K = first differences) and the Lasso (K = I)."""
import pytest
import torch

from l2obench.datasets.tv_deconvolution import make_tv_synthetic
from l2obench.objectives.tv_deconvolution import TVProblem, synthesis_problem
from l2obench.solvers.classical.pdhg import PDHG
from support import assert_reaches


def test_reaches_the_certified_tv_optimum(tv_problems):
    for problem, X, lam, ref in tv_problems:
        assert_reaches(problem, X, lam, ref.value, PDHG(tau=1.0).solve(problem, X, lam, 3_000))


def test_weighted_penalty_is_refused():
    H = torch.randn(5, 8, dtype=torch.float64)
    with pytest.raises(ValueError, match="weighted"):
        PDHG().solve(synthesis_problem(H), torch.ones(2, 5, dtype=torch.float64), 0.1, 5)


@pytest.mark.parametrize("call, name", [
    (lambda: PDHG().solve(TVProblem(torch.eye(3)), torch.ones(1, 3), -0.1, 5), "lmbd"),
    (lambda: PDHG(tau=0.0).solve(TVProblem(torch.eye(3)), torch.ones(1, 3), 0.1, 5), "tau"),
    (lambda: PDHG(tau=-1.0).solve(TVProblem(torch.eye(3)), torch.ones(1, 3), 0.1, 5), "tau"),
])
def test_bad_tv_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_callback_sees_the_iterates():
    data = make_tv_synthetic(2, 4, seed=7)
    problem = TVProblem(data.H)
    lam = 0.2 * problem.lambda_max(data.X_test)
    seen = {}
    PDHG().solve(problem, data.X_test, lam, 6, callback=lambda k, z: seen.setdefault(k, z.clone()))
    assert sorted(seen) == list(range(1, 7))
    assert torch.allclose(seen[4], PDHG().solve(problem, data.X_test, lam, 4), atol=1e-13)
