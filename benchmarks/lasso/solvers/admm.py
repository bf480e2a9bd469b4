from l2obench.solvers.benchopt_adapters import ClassicalSolver

from l2obench.solvers.classical.admm import ADMM


class Solver(ClassicalSolver):
    """ADMM with one Cholesky factorisation per dictionary; ``rho`` in units of ‖D‖₂²."""

    name = "ADMM"
    parameters = {"rho": [0.1], "device": ["cpu"]}

    def make_solver(self):
        return ADMM(rho=self.rho)
