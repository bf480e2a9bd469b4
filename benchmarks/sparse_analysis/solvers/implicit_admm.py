"""Learned Theta in the implicit linearized-ADMM model N_Theta(d), trained by JFB, IFT or unrolling.

Training (outside benchopt's clock, cached on disk) minimises mean ||N_Theta(d) - x*||^2 through
the suite's fit pipeline; ``depth`` is the forward iteration cap of JFB / IFT and the unrolled
depth, so the three modes share one budget. ``run(n_iter)`` runs ``n_iter`` iterations of the
learned operator (the classical iteration with Theta fixed), past the trained depth too.
"""
from benchmark_utils import SparseAnalysisData

from l2obench.solvers.benchopt_adapters import LearnedSolver
from l2obench.solvers.implicit.sparse_analysis import ImplicitSparseAnalysis


class Solver(SparseAnalysisData, LearnedSolver):
    name = "implicit-admm"
    model_class = ImplicitSparseAnalysis
    parameters = {"backward": ["jfb", "ift", "unrolled"], "init": ["difference"], "depth": [100],
                  "n_steps": [300], "lr": [1e-3], "batch_size": [64]}
    test_config = {"backward": "jfb", "depth": 5, "n_steps": 3, "batch_size": 16}
    n_evals, patience, measure_memory = 10, 0, True

    def get_result(self):
        theta = self.model_.operator_.theta.detach()
        return dict(x=self.result_, theta=theta, **self.info_, peak_memory=self.meta_["peak_memory"])
