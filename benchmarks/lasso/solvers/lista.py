"""LISTA, untied weights (Gregor & LeCun 2010; Chen et al. 2018).

Thin adapter on `benchmark_utils.LearnedLassoSolver` (training outside the timed `run`).
"""
from benchmark_utils import LearnedLassoSolver


class Solver(LearnedLassoSolver):
    name = "LISTA"
    model_key = "lista"
    parameters = {
        "n_layers": [16],
        "loss": ["supervised"],
        "n_steps": [120],
        "lr": [5e-4],
        "stagewise": [True],
    }
    test_config = {"n_layers": 3, "n_steps": 20}
