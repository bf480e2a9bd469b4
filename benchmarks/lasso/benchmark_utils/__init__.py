"""Shared adapter code of the lasso benchmark (imported by benchopt as ``benchmark_utils``)."""
from benchopt import BaseSolver


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
