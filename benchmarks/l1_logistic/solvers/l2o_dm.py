"""L2O-DM (Andrychowicz et al. 2016): a coordinate-wise LSTM that outputs the update itself.

Thin adapter on `l2obench.solvers.benchopt_instances.LearnedOptimizerSolver` (trained on the
data set's training instances outside the timed `run`, then run on the test instances).
"""
from l2obench.solvers.benchopt_instances import LearnedOptimizerSolver
from l2obench.solvers.learned_optimizers.l2o_dm import L2ODM


class Solver(LearnedOptimizerSolver):
    name = "L2O-DM"
    model_class = L2ODM
    parameters = {"n_steps": [500], "lr": [1e-3], "batch_size": [64], "horizon": [100], "segment": [20],
                  "device": ["cpu"]}
    test_config = {"n_steps": 2, "batch_size": 4, "horizon": 4, "segment": 2}
