"""Linearized ADMM for min ||Theta x||_1 s.t. Ax = d with an analytic Theta.

``transform='identity'`` is basis pursuit, ``'difference'`` (first differences) a
total-variation analysis operator. ``run(n_iter)`` runs ``n_iter`` iterations of the same
operator the learned implicit model uses (``l2obench.solvers.implicit``).
"""
from benchopt import BaseSolver
from benchopt.stopping_criterion import NoCriterion

from l2obench.solvers.implicit.learned_sparse_analysis import build_model, infer


class Solver(BaseSolver):
    name = "linearized-admm"
    requirements = []
    sampling_strategy = "iteration"
    # `value` (error to x*) is not what ADMM minimises and may rise while it converges (basis
    # pursuit on non-sparse signals): run to max-runs / timeout instead of stopping on it.
    stopping_criterion = NoCriterion()
    parameters = {"transform": ["identity", "difference"], "alpha": [1.0], "beta": [0.45], "lam": [1.0]}

    def set_objective(self, A, d_train, x_train, d_val, x_val, d_eval):
        self.model = build_model(A, init=self.transform, alpha=self.alpha, beta=self.beta,
                                 lam=self.lam, learn_theta=False)
        self.d_eval = d_eval

    def get_next(self, stop_val):
        return max(1, 2 * stop_val)  # ADMM needs hundreds of iterations: double each time

    def run(self, n_iter):
        self.x = infer(self.model, self.d_eval, n_iter)

    def get_result(self):
        return dict(x=self.x, theta=self.model.operator.theta)
