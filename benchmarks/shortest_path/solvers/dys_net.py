"""DYS-net (McKenzie, Heaton & Wu Fung, TMLR 2024): the cost network followed by the Davis-Yin
fixed-point layer of the quadratically regularised LP, trained by JFB on the MSE to the true
path; at test time its costs go through the exact oracle like every other method's.
"""
from benchmark_utils import ShortestPathData

from l2obench.solvers.benchopt_adapters import LearnedSolver
from l2obench.solvers.decision.cost_model import DYSNet


class Solver(ShortestPathData, LearnedSolver):
    name = "dys-net"
    model_class = DYSNet
    parameters = {"loss": ["decision-mse"], "tol": [1e-3], "max_iter": [1000], "n_steps": [400], "lr": [1e-2],
                  "batch_size": [256], "device": ["cpu"]}  # or "cuda": torch on the GPU (gpu_check.py)
    test_config = {"n_steps": 4, "batch_size": 16, "max_iter": 20}
    n_evals, max_eval_every, patience, schedule = 100, 4, 25, "plateau"
