from l2obench.objectives.tv_deconvolution import synthesis_problem
from l2obench.solvers.benchopt_adapters import ClassicalSolver
from l2obench.solvers.classical.proximal_gradient import ProximalGradient


class Solver(ClassicalSolver):
    """ISTA / FISTA on the synthesis (Lasso) form z = Iu (I the discrete integration)."""

    name = "FISTA-synthesis"
    parameters = {"accelerated": [True, False], "step": [1.0]}

    def make_solver(self):
        return ProximalGradient(accelerated=self.accelerated, step=self.step)

    def problem_form(self, problem):
        return synthesis_problem(problem.H)
