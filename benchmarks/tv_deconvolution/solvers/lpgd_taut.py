from benchmark_utils import LearnedTVSolver

from l2obench.solvers.unrolled.tv.lpgd import LPGDTaut


class Solver(LearnedTVSolver):
    """LPGD-Taut: unrolled PGD with the exact prox, trained on the objective (trained outside ``run``)."""

    name = "LPGD-Taut"
    parameters = {"n_layers": [20], "n_steps": [1000], "lr": [1e-3], "batch_size": [64], "all_layers": [True]}
    model_class = LPGDTaut
    test_config = {"n_layers": 2, "n_steps": 4}
