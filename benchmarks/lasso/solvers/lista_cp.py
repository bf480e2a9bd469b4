"""LISTA-CP and, with support_selection=True, LISTA-CPSS (Chen et al. NeurIPS 2018).

Thin adapter on `l2obench.solvers.benchopt_adapters.LearnedSolver` (training outside the timed `run`).
"""
from l2obench.solvers.benchopt_adapters import LearnedSolver
from l2obench.solvers.unrolled.lasso.lista_cp import LISTACP


class Solver(LearnedSolver):
    name = "LISTA-CP"
    model_class = LISTACP
    parameters = {
        "n_layers": [16],
        "loss": ["supervised"],
        "n_steps": [180],
        "lr": [1e-3],
        "stagewise": [True],
        "support_selection": [False, True],
        # 'ista' (D/L, the paper) or 'analytic' (ALISTA's weight); Adam rate of the thresholds
        # relative to the weights' (see configs/chen2018.yml for what each buys)
        "init": ["ista"],
        "threshold_lr_scale": [1.0],
        "device": ["cpu"],  # or "cuda": torch on the GPU (gpu_check.py)
    }
    test_config = {"n_layers": 3, "n_steps": 20}
