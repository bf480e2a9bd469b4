from l2obench.solvers.benchopt_adapters import ClassicalSolver
from l2obench.solvers.classical.proximal_gradient import ProximalGradient


class Solver(ClassicalSolver):
    """PGD on the analysis form with the exact TV prox; ``accelerated=True`` is FISTA."""

    name = "PGD-analysis"
    parameters = {"accelerated": [False, True], "step": [1.0]}

    def make_solver(self):
        return ProximalGradient(accelerated=self.accelerated, step=self.step)
