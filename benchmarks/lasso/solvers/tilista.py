"""TiLISTA: tied weight, learned steps and thresholds (Liu et al. ICLR 2019).

Thin adapter on `l2obench.solvers.benchopt_adapters.LearnedSolver` (training outside the timed `run`).
"""
from l2obench.solvers.benchopt_adapters import LearnedSolver
from l2obench.solvers.unrolled.lasso.tilista import TiLISTA


class Solver(LearnedSolver):
    name = "TiLISTA"
    model_class = TiLISTA
    parameters = {
        "n_layers": [16],
        "loss": ["supervised"],
        "n_steps": [120],
        "lr": [1e-3],
        "stagewise": [True],
        "support_selection": [True],
        "device": ["cpu"],  # or "cuda": torch on the GPU (gpu_check.py)
    }
    test_config = {"n_layers": 3, "n_steps": 20}
