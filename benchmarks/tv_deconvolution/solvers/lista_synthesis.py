from benchmark_utils import LearnedTVSolver

from l2obench.solvers.unrolled.tv.synthesis_lista import TVSynthesisLISTA


class Solver(LearnedTVSolver):
    """LISTA on the synthesis form (untied weights, weight 0 on the first coefficient)."""

    name = "LISTA-synthesis"
    parameters = {"n_layers": [20], "n_steps": [1000], "lr": [1e-3], "batch_size": [64], "all_layers": [True]}
    model_class = TVSynthesisLISTA
    test_config = {"n_layers": 2, "n_steps": 4}
