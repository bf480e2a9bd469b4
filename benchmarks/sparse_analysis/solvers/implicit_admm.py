"""Learned Theta in the implicit linearized-ADMM model N_Theta(d), trained by JFB, IFT or unrolling.

Training (outside benchopt's clock, cached on disk) minimises mean ||N_Theta(d) - x*||^2 through
the suite's fit pipeline; ``depth`` is the forward iteration cap of JFB / IFT and the unrolled
depth, so the three modes share one budget. ``run(n_iter)`` runs ``n_iter`` iterations of the
learned operator (the classical iteration with Theta fixed), past the trained depth too.
"""
from benchmark_utils import SparseAnalysisData

from l2obench.solvers.benchopt_adapters import LearnedSolver
from l2obench.solvers.device import to_cpu
from l2obench.solvers.implicit.sparse_analysis import ImplicitSparseAnalysis


class Solver(SparseAnalysisData, LearnedSolver):
    name = "implicit-admm"
    model_class = ImplicitSparseAnalysis
    parameters = {"backward": ["jfb", "ift", "unrolled"], "init": ["difference"], "depth": [100],
                  "n_steps": [300], "lr": [1e-3], "batch_size": [64],
                  "device": ["cpu"]}  # or "cuda": torch on the GPU (gpu_check.py)
    test_config = {"backward": "jfb", "depth": 5, "n_steps": 3, "batch_size": 16}
    n_evals, patience, measure_memory = 10, 0, True

    def get_result(self):
        # on the CPU, as the base's result: the objective computes the metrics there
        theta = to_cpu(self.model_.operator_.theta.detach())
        return dict(super().get_result(), theta=theta, peak_memory=self.meta_["peak_memory"])
