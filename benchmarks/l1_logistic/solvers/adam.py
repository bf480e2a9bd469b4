"""Adam on the objective (subgradient of the ℓ1 term), its rate tuned on training instances.

Thin adapter on `l2obench.solvers.benchopt_instances.TunedRateSolver`; ``lr='tuned'`` picks the
rate from a log grid on training instances (never the test ones).
"""
from l2obench.solvers.benchopt_instances import TunedRateSolver
from l2obench.solvers.classical.adam import Adam


class Solver(TunedRateSolver):
    name = "Adam"
    parameters = {"lr": ["tuned"], "device": ["cpu"]}

    def make_solver(self):
        return Adam(lr=self.rate())
