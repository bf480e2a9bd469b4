"""SLISTA: step sizes only, dictionary fixed (Ablin et al. NeurIPS 2019).

Thin adapter on `benchmark_utils.LearnedLassoSolver` (training outside the timed `run`).
"""
from benchmark_utils import LearnedLassoSolver


class Solver(LearnedLassoSolver):
    name = "SLISTA"
    model_key = "slista"
    parameters = {
        "n_layers": [16],
        "loss": ["unsupervised"],
        "n_steps": [300],
        "lr": [1e-2],
        "stagewise": [False],
    }
    test_config = {"n_layers": 3, "n_steps": 20}
