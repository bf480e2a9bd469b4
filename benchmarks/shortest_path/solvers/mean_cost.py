"""Every test instance gets the mean training cost vector: the baseline that ignores the features."""
from benchmark_utils import ShortestPathData

from l2obench.solvers.benchopt_adapters import ClassicalSolver
from l2obench.solvers.decision.baselines import MeanCosts


class Solver(ShortestPathData, ClassicalSolver):
    name = "mean-cost"
    parameters = {}

    def set_objective(self, **objective):
        super().set_objective(**objective)
        self.solver_ = MeanCosts().fit(objective["c_train"])

    def make_solver(self):
        return MeanCosts()
