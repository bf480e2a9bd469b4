"""HyperLISTA: three constants by grid search on a validation split (Chen et al. NeurIPS 2021).

Thin adapter on `benchmark_utils.LearnedLassoSolver` (training outside the timed `run`).
"""
from benchmark_utils import LearnedLassoSolver


class Solver(LearnedLassoSolver):
    name = "HyperLISTA"
    model_key = "hyperlista"
    parameters = {
        "n_layers": [16],
        "loss": ["supervised"],
    }
    test_config = {"n_layers": 3}
