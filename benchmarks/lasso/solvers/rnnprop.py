"""RNNprop (Lv et al. 2017): the coordinate-wise LSTM on Adam-normalised gradients.

Thin adapter on `l2obench.solvers.benchopt_instances.LearnedOptimizerSolver`.
"""
from l2obench.solvers.benchopt_instances import LearnedOptimizerSolver
from l2obench.solvers.learned_optimizers.rnnprop import RNNprop


class Solver(LearnedOptimizerSolver):
    name = "RNNprop"
    model_class = RNNprop
    parameters = {"n_steps": [500], "lr": [1e-3], "batch_size": [64], "horizon": [100], "segment": [20],
                  "device": ["cpu"]}
    test_config = {"n_steps": 2, "batch_size": 4, "horizon": 4, "segment": 2}
