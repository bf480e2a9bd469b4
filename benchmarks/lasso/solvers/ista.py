from benchmark_utils import LassoSolver

from l2obench.solvers.classical.ista import ISTA


class Solver(LassoSolver):
    """ISTA, and FISTA with ``accelerated=True``; ``step`` in units of 1/L."""

    name = "ISTA"
    parameters = {"accelerated": [False, True], "step": [1.0]}

    def make_solver(self):
        return ISTA(accelerated=self.accelerated, step=self.step)
