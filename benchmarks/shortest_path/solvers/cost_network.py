"""A cost network u -> w(u) trained through the oracle by one of PyEPO's losses, or two-stage.

``loss``: 'cost-mse' (two-stage: regress the costs, then solve), 'spo-plus' (Elmachtoub & Grigas),
'perturbed' (Berthet et al., 3 samples, sigma 1) or 'blackbox' (Vlastelica et al., lambda 5).
Adam 1e-2, batch 256, learning rate divided by 10 on a validation plateau, early stopping on the
validation regret (McKenzie et al.'s protocol); trained in ``set_objective`` on the train split.
"""
from benchmark_utils import ShortestPathData

from l2obench.solvers.benchopt_adapters import LearnedSolver
from l2obench.solvers.decision.cost_model import CostNetwork


class Solver(ShortestPathData, LearnedSolver):
    name = "cost-network"
    model_class = CostNetwork
    parameters = {"loss": ["cost-mse", "spo-plus", "perturbed", "blackbox"], "n_steps": [400], "lr": [1e-2],
                  "batch_size": [256], "device": ["cpu"]}  # or "cuda": torch on the GPU (gpu_check.py)
    test_config = {"loss": "spo-plus", "n_steps": 4, "batch_size": 16}
    n_evals, max_eval_every, patience, schedule = 100, 4, 25, "plateau"
