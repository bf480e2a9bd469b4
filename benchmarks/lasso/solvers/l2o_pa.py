"""L2O-PA (Liu et al. ICML 2023): the LSTM learns a diagonal preconditioner P and an accelerator A
inside a proximal-gradient step (P = 2σ(·), A = 2σ(·) for the Lasso).

Thin adapter on `l2obench.solvers.benchopt_instances.LearnedOptimizerSolver`.
"""
from l2obench.solvers.benchopt_instances import LearnedOptimizerSolver
from l2obench.solvers.learned_optimizers.l2o_pa import L2OPA


class Solver(LearnedOptimizerSolver):
    name = "L2O-PA"
    model_class = L2OPA
    parameters = {"n_steps": [500], "lr": [1e-2], "batch_size": [64], "horizon": [100], "segment": [20],
                  "device": ["cpu"]}
    test_config = {"n_steps": 2, "batch_size": 4, "horizon": 4, "segment": 2}
