from benchmark_utils import TVSolver

from l2obench.solvers.classical.tv_admm import TVADMM


class Solver(TVSolver):
    """ADMM splitting v = Dz; ``rho`` in units of ‖H‖²/4."""

    name = "ADMM"
    parameters = {"rho": [3.0, 30.0]}

    def make_solver(self):
        return TVADMM(rho=self.rho)
