"""The reference predictors: the true costs (regret 0) and the mean training cost."""
import pytest
import torch

from l2obench.objectives.shortest_path import GridShortestPath
from l2obench.solvers.decision.baselines import MeanCosts, TrueCosts

DT = torch.float64


def _costs(n, B, seed=0):
    return torch.rand(B, n, generator=torch.Generator().manual_seed(seed), dtype=DT) + 0.5


def test_true_costs_return_their_input_with_zero_regret():
    problem = GridShortestPath(4)
    C = _costs(problem.n_costs, 5)
    solver = TrueCosts().check()
    out = solver.solve(problem, C, n_iter=3)
    assert out is C
    assert abs(problem.regret(out, C)) < 1e-15 and problem.decision_accuracy(out, C) == 1.0
    with pytest.raises(ValueError, match="costs must have 24 columns"):
        solver.solve(problem, torch.ones(2, 5, dtype=DT))


def test_mean_costs_predict_the_training_mean():
    problem = GridShortestPath(3)
    C_train = _costs(problem.n_costs, 8, seed=1)
    U = torch.zeros(5, 7, dtype=DT)                                 # the features are ignored
    with pytest.raises(ValueError, match="fitted"):
        MeanCosts().solve(problem, U)
    solver = MeanCosts().check()
    assert solver.fit(C_train) is solver
    out = solver.solve(problem, U, n_iter=1)
    assert out.shape == (5, problem.n_costs) and out.dtype == DT
    for row in out:
        torch.testing.assert_close(row, C_train.mean(dim=0), rtol=0, atol=0)
    out[0, 0] = -1.0                                                # a copy, not a view of mean_
    assert float(solver.mean_[0]) > 0
    assert problem.regret(out[1:], _costs(problem.n_costs, 4, seed=2)) >= 0
    with pytest.raises(ValueError, match="C_train must have 2 dimensions"):
        MeanCosts().fit(torch.ones(3, dtype=DT))
