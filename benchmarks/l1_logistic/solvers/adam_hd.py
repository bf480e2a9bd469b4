"""AdamHD (Baydin et al. ICLR 2018): Adam whose rate adapts by hypergradient descent; its initial
rate tuned on training instances.

Thin adapter on `l2obench.solvers.benchopt_instances.TunedRateSolver`.
"""
from l2obench.solvers.benchopt_instances import TunedRateSolver
from l2obench.solvers.classical.adam import Adam


class Solver(TunedRateSolver):
    name = "AdamHD"
    parameters = {"lr": ["tuned"], "hypergradient": [1e-3], "device": ["cpu"]}

    def make_solver(self):
        return Adam(lr=self.rate(), hypergradient=self.hypergradient)
