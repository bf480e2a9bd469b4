from benchmark_utils import LearnedTVSolver

from l2obench.solvers.unrolled.tv.lpgd_lista import LPGDLISTA


class Solver(LearnedTVSolver):
    """LPGD-LISTA[n_inner]: unrolled PGD with the prox replaced by an inner LISTA."""

    name = "LPGD-LISTA"
    parameters = {"n_inner": [20, 50], "n_layers": [20], "n_steps": [1000], "lr": [1e-3], "batch_size": [64],
                  "all_layers": [True], "scalar_lr_scale": [1.0]}
    model_class = LPGDLISTA
    # -s "LPGD-LISTA[scalar_lr_scale=0.1]": the scalars at a tenth of Adam's rate (README, *LPGD-LISTA at
    # 0.8 λ_max*); the default stays out of the curve names, so existing curves and baselines keep theirs
    unnamed_defaults = {**LearnedTVSolver.unnamed_defaults, "scalar_lr_scale": 1.0}
    test_config = {"n_inner": 3, "n_layers": 2, "n_steps": 4}
