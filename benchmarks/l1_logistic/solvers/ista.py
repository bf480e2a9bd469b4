from l2obench.solvers.benchopt_adapters import ClassicalSolver

from l2obench.solvers.classical.proximal_gradient import ProximalGradient


class Solver(ClassicalSolver):
    """ISTA, and FISTA with ``accelerated=True``; ``step`` in units of 1/L."""

    name = "ISTA"
    parameters = {"accelerated": [False, True], "step": [1.0], "device": ["cpu"]}

    def make_solver(self):
        return ProximalGradient(accelerated=self.accelerated, step=self.step)
