from benchmark_utils import TVSolver

from l2obench.solvers.classical.tv_synthesis_fista import TVSynthesisFISTA


class Solver(TVSolver):
    """ISTA / FISTA on the synthesis (Lasso) form z = Lu."""

    name = "FISTA-synthesis"
    parameters = {"accelerated": [True, False], "step": [1.0]}

    def make_solver(self):
        return TVSynthesisFISTA(accelerated=self.accelerated, step=self.step)
