"""Shared adapter code of the lasso benchmark (imported by benchopt as ``benchmark_utils``)."""
from benchopt import BaseSolver

from l2obench.solvers.unrolled.lasso_benchmark import fit_for_benchmark, skip_reason


class LassoSolver(BaseSolver):
    """Adapter for a library solver with ``solve(D, X, lmbd, n_iter)``.

    Subclasses set ``name`` and ``parameters`` and implement ``make_solver()``.
    """

    sampling_strategy = "iteration"

    def make_solver(self):
        raise NotImplementedError

    def set_objective(self, D, X_train, Z_train, X_test, lmbd, lmbd_train, reg, dtype, seed):
        self.D, self.X, self.lmbd = D, X_test, lmbd
        self.solver_ = self.make_solver()

    def run(self, n_iter):
        self.Z = self.solver_.solve(self.D, self.X, self.lmbd, n_iter)

    def get_result(self):
        return dict(Z=self.Z)


class LearnedLassoSolver(BaseSolver):
    """Adapter for a learned model of ``l2obench.solvers.unrolled`` (registry key ``model_key``).

    Training happens in ``set_objective``, outside benchopt's timed ``run``, on the train split
    only (cached on disk); ``run(n_iter)`` applies the first ``n_iter`` layers, then ISTA past
    the trained depth; ``get_result`` hands ``train_time``, ``n_params`` and ``trained_depth``
    to the objective. Subclasses set ``name``, ``model_key``, ``parameters`` (which must
    include ``loss``) and ``test_config``.
    """

    sampling_strategy = "iteration"
    model_key = None

    def skip(self, **objective_dict):
        return skip_reason(self.loss, objective_dict)

    def set_objective(self, **objective_dict):
        self.X, self.lmbd = objective_dict["X_test"], objective_dict["lmbd"]
        self.model_, self.info_ = fit_for_benchmark(
            self.model_key, objective_dict, seed=self.get_seed(use_repetition=True), **self._parameters)

    def run(self, n_iter):
        self.Z = self.model_.solve(self.X, self.lmbd, n_iter)

    def get_result(self):
        return dict(Z=self.Z, **self.info_)
