from benchmark_utils import TVSolver

from l2obench.solvers.classical.tv_pgd import TVProximalGradient


class Solver(TVSolver):
    """PGD on the analysis form with the exact TV prox; ``accelerated=True`` is FISTA."""

    name = "PGD-analysis"
    parameters = {"accelerated": [False, True], "step": [1.0]}

    def make_solver(self):
        return TVProximalGradient(accelerated=self.accelerated, step=self.step)
