from benchmark_utils import TVSolver

from l2obench.solvers.classical.tv_pdhg import TVPDHG


class Solver(TVSolver):
    """Chambolle–Pock PDHG; primal step ``tau`` in units of 1/‖H‖², dual step 1/(4τ)."""

    name = "PDHG"
    parameters = {"tau": [0.1, 1.0]}

    def make_solver(self):
        return TVPDHG(tau=self.tau)
