"""SLISTA: step sizes only, dictionary fixed (Ablin et al. NeurIPS 2019).

Thin adapter on `l2obench.solvers.benchopt_adapters.LearnedSolver` (training outside the timed `run`).
"""
from l2obench.solvers.benchopt_adapters import LearnedSolver
from l2obench.solvers.unrolled.lasso.slista import SLISTA


class Solver(LearnedSolver):
    name = "SLISTA"
    model_class = SLISTA
    parameters = {
        "n_layers": [16],
        "loss": ["unsupervised"],
        "n_steps": [300],
        "lr": [1e-2],
        "stagewise": [False],
        # train at depths 1, 2, 3, 5, 8, 12, 16, then n_layers, each from the previous one
        "continuation": [False],
        "device": ["cpu"],  # or "cuda": torch on the GPU (gpu_check.py)
    }
    test_config = {"n_layers": 3, "n_steps": 20}
