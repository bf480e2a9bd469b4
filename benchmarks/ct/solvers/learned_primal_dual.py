"""Learned primal-dual (Adler & Öktem 2018): 10 unrolled primal-dual iterations with 5 + 5 memory
channels and 3 x 3 conv blocks of width 32, the operator scaled to norm 1; Adam with a cosine
schedule and the gradient norm clipped at 1, as the paper. ``run(n_iter)`` stops after
min(n_iter, 10) iterations. The primal memory starts at the FBP image (``start=fbp``; ``zero`` is the paper's
start, which a CPU training budget does not bring past FBP)."""
from benchmark_utils import CTData

from l2obench.solvers.benchopt_adapters import LearnedSolver
from l2obench.solvers.ct.primal_dual import LearnedPrimalDual


class Solver(CTData, LearnedSolver):
    name = "learned-primal-dual"
    model_class = LearnedPrimalDual
    parameters = {"n_iterations": [10], "width": [32], "start": ["fbp"], "n_steps": [2000], "lr": [1e-3], "batch_size": [16],
                  "device": ["cpu"]}  # or "cuda"
    test_config = {"n_iterations": 2, "width": 4, "n_steps": 3, "batch_size": 8}
    n_evals, patience, grad_clip = 20, 0, 1.0
