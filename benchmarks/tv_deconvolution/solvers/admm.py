from l2obench.solvers.benchopt_adapters import ClassicalSolver
from l2obench.solvers.classical.admm import ADMM


class Solver(ClassicalSolver):
    """ADMM splitting v = Dz; ``rho`` in units of ‖H‖²/4."""

    name = "ADMM"
    parameters = {"rho": [3.0, 30.0]}

    def make_solver(self):
        return ADMM(rho=self.rho)
