"""LISTA-CP and, with support_selection=True, LISTA-CPSS (Chen et al. NeurIPS 2018).

Thin adapter: training happens in `set_objective` (outside the timed `run`) through
`l2obench.solvers.unrolled`; `run(n_iter)` applies the first n_iter layers, then ISTA.
"""
from benchopt import BaseSolver

from l2obench.solvers.unrolled.lasso_benchmark import fit_for_benchmark, skip_reason


class Solver(BaseSolver):
    name = "LISTA-CP"
    sampling_strategy = "iteration"
    requirements = []
    parameters = {
        "n_layers": [16],
        "loss": ["supervised"],
        "n_steps": [180],
        "lr": [1e-3],
        "stagewise": [True],
        "support_selection": [False, True],
    }
    test_config = {"n_layers": 3, "n_steps": 20}

    def skip(self, **objective_dict):
        return skip_reason(self.loss, objective_dict)

    def set_objective(self, **objective_dict):
        self.X, self.lmbd = objective_dict["X_test"], objective_dict["lmbd"]
        self.model, self.info = fit_for_benchmark(
            "lista-cp", objective_dict, seed=self.get_seed(use_repetition=True), **self._parameters)

    def run(self, n_iter):
        self.Z = self.model.solve(self.X, self.lmbd, n_iter)

    def get_result(self):
        return dict(Z=self.Z, **self.info)
