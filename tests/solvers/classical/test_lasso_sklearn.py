"""scikit-learn's Lasso solvers (coordinate descent and LARS) as independent references."""
import pytest
import torch

from l2obench.objectives.lasso import LassoProblem
from l2obench.objectives.tv_deconvolution import TVProblem, synthesis_problem
from l2obench.solvers.classical.lasso_sklearn import SklearnLasso
from support import random_lasso as lasso

SOLVERS = {"sklearn-cd": (SklearnLasso("cd"), 10_000), "sklearn-lars": (SklearnLasso("lars"), 500)}


@pytest.mark.parametrize("name", SOLVERS)
def test_no_iteration_is_the_zero_start_in_the_problem_dtype(name):
    problem, X, lmbd = lasso(3)
    Z = SOLVERS[name][0].solve(LassoProblem(problem.D.float()), X.float(), lmbd.float(), 0)
    assert Z.dtype == torch.float32 and torch.equal(Z, torch.zeros(X.shape[0], problem.shape[1]))


@pytest.mark.parametrize("solver, match", [(SklearnLasso("newton"), "method"), (SklearnLasso(tol=-1.0), "tol")])
def test_bad_hyper_parameter_raises_clear_error(solver, match):
    problem, X, lmbd = lasso(7)
    with pytest.raises(ValueError, match=match):
        solver.solve(problem, X, lmbd, 5)


@pytest.mark.parametrize("make", [lambda H: synthesis_problem(H), lambda H: TVProblem(H)])
def test_other_problems_are_refused(make):
    H = torch.randn(5, 8, dtype=torch.float64)
    with pytest.raises(ValueError, match="unweighted Lasso"):
        SklearnLasso().solve(make(H), torch.ones(2, 5, dtype=torch.float64), 0.1, 5)
