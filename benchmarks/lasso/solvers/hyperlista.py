"""HyperLISTA: three constants by grid search on a validation split (Chen et al. NeurIPS 2021).

Thin adapter on `l2obench.solvers.benchopt_adapters.LearnedSolver` (training outside the timed `run`).
"""
from l2obench.solvers.benchopt_adapters import LearnedSolver
from l2obench.solvers.unrolled.lasso.hyperlista import HyperLISTA


class Solver(LearnedSolver):
    name = "HyperLISTA"
    model_class = HyperLISTA
    parameters = {
        "n_layers": [16],
        "loss": ["supervised"],
        "device": ["cpu"],  # or "cuda": torch on the GPU (gpu_check.py)
    }
    test_config = {"n_layers": 3}
