"""The true test costs through the oracle: regret 0 by definition (checks the metric, bounds the table)."""
from benchmark_utils import ShortestPathData

from l2obench.solvers.benchopt_adapters import ClassicalSolver
from l2obench.solvers.decision.baselines import TrueCosts


class Solver(ShortestPathData, ClassicalSolver):
    name = "true-costs"
    parameters = {}

    def test_inputs(self, objective):
        return (objective["c_test"],)

    def make_solver(self):
        return TrueCosts()
