from l2obench.solvers.benchopt_adapters import ClassicalSolver
from l2obench.solvers.classical.pdhg import PDHG


class Solver(ClassicalSolver):
    """Chambolle–Pock PDHG; primal step ``tau`` in units of 1/‖H‖², dual step 1/(4τ)."""

    name = "PDHG"
    parameters = {"tau": [0.1, 1.0]}

    def make_solver(self):
        return PDHG(tau=self.tau)
