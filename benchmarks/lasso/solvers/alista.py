"""ALISTA: analytic weight, learned steps and thresholds (Liu et al. ICLR 2019).

Thin adapter on `benchmark_utils.LearnedLassoSolver` (training outside the timed `run`).
"""
from benchmark_utils import LearnedLassoSolver


class Solver(LearnedLassoSolver):
    name = "ALISTA"
    model_key = "alista"
    parameters = {
        "n_layers": [16],
        "loss": ["supervised"],
        "n_steps": [50],
        "lr": [1e-2],
        "stagewise": [True],
        "support_selection": [True],
    }
    test_config = {"n_layers": 3, "n_steps": 20}
