from benchmark_utils import LearnedTVSolver

from l2obench.solvers.unrolled.tv.lpgd import LPGDTaut


class Solver(LearnedTVSolver):
    """LPGD-Taut: unrolled PGD with the exact prox, trained on the objective (trained outside ``run``)."""

    name = "LPGD-Taut"
    # weight='step' (W_k = s_k H) with optimizer='lbfgs', continuation=True, all_layers=False: the
    # per-depth networks that beat PGD on fMRI-like series (README, issue 15)
    parameters = {"n_layers": [20], "weight": ["dense"], "n_steps": [1000], "lr": [1e-3], "batch_size": [64],
                  "all_layers": [True]}
    unnamed_defaults = {**LearnedTVSolver.unnamed_defaults, "weight": "dense"}  # the baselines' curve names
    model_class = LPGDTaut
    test_config = {"n_layers": 2, "n_steps": 4}
