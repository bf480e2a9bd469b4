"""The implicit L2O model: argmin over [0, 1]^n of a learned f(Kx) s.t. ||Ax - d|| <= learned delta,
the linearized-ADMM fixed point (the TV-min operator with a learned K, prox and delta), trained by
JFB on the MSE (Heaton & Wu Fung 2023). ``run(n_iter)`` runs min(n_iter, depth) iterations of the
learned operator from the clipped FBP: the model is its depth-capped forward solve (``ImplicitCT.solve``;
past its depth the residual prox's operator drifts away; ``prox=averaged`` makes it converge)."""
from benchmark_utils import CTData

from l2obench.solvers.benchopt_adapters import LearnedSolver
from l2obench.solvers.implicit.ct import ImplicitCT


class Solver(CTData, LearnedSolver):
    name = "implicit-L2O"
    model_class = ImplicitCT
    parameters = {"channels": [8], "n_blocks": [3], "prox": ["residual"], "backward": ["jfb"], "depth": [200], "tol": [1e-3],
                  "n_steps": [1000], "lr": [1e-3], "batch_size": [16], "n_evals": [10],
                  "device": ["cpu"]}  # or "cuda"
    test_config = {"channels": 2, "n_blocks": 1, "depth": 5, "n_steps": 3, "batch_size": 8}
    patience = 0
    # n_evals: validations of one training run (each a forward solve of the validation split: at
    # 128^2 they cost as much as the training steps, so the full config lowers it).
    # prox=residual and n_evals=10 were fixed when the baselines were named: their curves keep their names
    unnamed_defaults = {**LearnedSolver.unnamed_defaults, "prox": "residual", "n_evals": 10}
