"""Linearized ADMM for min ||Theta x||_1 s.t. Ax = d with an analytic Theta.

``transform='identity'`` is basis pursuit, ``'difference'`` (first differences) a
total-variation analysis operator. ``run(n_iter)`` runs ``n_iter`` iterations of the same
operator the learned implicit model uses (``l2obench.solvers.classical.linearized_admm``).
``beta="auto"`` takes the primal step from the data set's A (0.9 / (alpha (1 + ||A||^2))).
"""
from benchmark_utils import SparseAnalysisData

from l2obench.objectives.sparse_analysis import SparseAnalysisProblem
from l2obench.solvers.benchopt_adapters import ClassicalSolver
from l2obench.solvers.classical.linearized_admm import LinearizedADMM, analytic_transform
from l2obench.solvers.device import to_cpu


class Solver(SparseAnalysisData, ClassicalSolver):
    name = "linearized-admm"
    parameters = {"transform": ["identity", "difference"], "alpha": [1.0], "beta": ["auto"], "lam": [1.0],
                  "device": ["cpu"]}  # or "cuda": torch on the GPU (gpu_check.py)

    def problem_form(self, problem):
        return SparseAnalysisProblem(problem.A, analytic_transform(problem.A.shape[1], self.transform, problem.A.dtype))

    def make_solver(self):
        return LinearizedADMM(alpha=self.alpha, beta=self.beta, lam=self.lam)

    def get_result(self):
        # on the CPU, as the base's result: the objective computes the metrics there
        return dict(super().get_result(), theta=to_cpu(self.problem_.penalty.K))
