from benchmark_utils import LassoSolver

from l2obench.solvers.classical.admm import LassoADMM


class Solver(LassoSolver):
    """ADMM with one Cholesky factorisation per dictionary; ``rho`` in units of ‖D‖₂²."""

    name = "ADMM"
    parameters = {"rho": [0.1]}

    def make_solver(self):
        return LassoADMM(rho=self.rho)
