"""LISTA, untied weights (Gregor & LeCun 2010; Chen et al. 2018).

Thin adapter on `l2obench.solvers.benchopt_adapters.LearnedSolver` (training outside the timed `run`).
"""
from l2obench.solvers.benchopt_adapters import LearnedSolver
from l2obench.solvers.unrolled.lasso.lista import LISTA


class Solver(LearnedSolver):
    name = "LISTA"
    model_class = LISTA
    parameters = {
        "n_layers": [16],
        "loss": ["supervised"],
        "n_steps": [120],
        "lr": [5e-4],
        "stagewise": [True],
        "device": ["cpu"],  # or "cuda": torch on the GPU (gpu_check.py)
    }
    test_config = {"n_layers": 3, "n_steps": 20}
