"""L2O-PA (Liu et al. ICML 2023) on ℓ1-logistic regression: P = 2·softplus, A = 0.3·softplus.

Thin adapter on `l2obench.solvers.benchopt_instances.LearnedOptimizerSolver`.
"""
from l2obench.solvers.benchopt_instances import LearnedOptimizerSolver
from l2obench.solvers.learned_optimizers.l2o_pa import L2OPA


class Solver(LearnedOptimizerSolver):
    name = "L2O-PA"
    model_class = L2OPA
    parameters = {"n_steps": [500], "lr": [3e-3], "batch_size": [64], "horizon": [100], "segment": [20],
                  "preconditioner": ["2softplus"], "accelerator": ["0.3softplus"], "device": ["cpu"]}
    test_config = {"n_steps": 2, "batch_size": 4, "horizon": 4, "segment": 2}
