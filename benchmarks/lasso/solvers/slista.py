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
        # train at depths 1, 2, 3, 5, 8, 12, 16, then n_layers, each from the previous one
        "continuation": [False],
    }
    test_config = {"n_layers": 3, "n_steps": 20}
