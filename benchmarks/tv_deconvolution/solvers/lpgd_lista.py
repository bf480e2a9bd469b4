from benchmark_utils import LearnedTVSolver

from l2obench.solvers.unrolled.tv.lpgd_lista import LPGDLISTA


class Solver(LearnedTVSolver):
    """LPGD-LISTA[n_inner]: unrolled PGD with the prox replaced by an inner LISTA."""

    name = "LPGD-LISTA"
    parameters = {"n_inner": [20, 50], "n_layers": [20], "n_steps": [1000], "lr": [1e-3], "batch_size": [64],
                  "all_layers": [True]}
    model_class = LPGDLISTA
    test_config = {"n_inner": 3, "n_layers": 2, "n_steps": 4}
