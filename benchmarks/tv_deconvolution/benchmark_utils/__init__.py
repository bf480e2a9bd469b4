"""Shared bases of the tv_deconvolution solver adapters (classical and learned)."""
from benchopt import BaseSolver

from l2obench.solvers.training import TrainConfig
from l2obench.solvers.unrolled.tv_fit import fit_tv_model


class TVSolver(BaseSolver):
    """A classical solver: ``make_solver()`` returns an object with ``solve(H, X, lmbd, n_iter)``."""

    sampling_strategy = "iteration"
    requirements = []

    def make_solver(self):
        raise NotImplementedError

    def set_objective(self, H, X_train, X_test, lmbd, lmbd_train, dtype, seed):
        self.H, self.X, self.lmbd = H, X_test, lmbd
        self.solver = self.make_solver()

    def run(self, n_iter):
        self.Z = self.solver.solve(self.H, self.X, self.lmbd, n_iter)

    def get_result(self):
        return dict(Z=self.Z)


class LearnedTVSolver(TVSolver):
    """A learned solver, trained in ``set_objective`` (outside the timed ``run``) and cached.

    ``make_model()`` returns an unbuilt unrolled network; ``run(n_iter)`` applies its first
    ``n_iter`` layers and continues with the classical iteration past the trained depth.
    Subclasses declare ``n_layers``, ``n_steps``, ``lr``, ``batch_size`` and ``all_layers``.
    """

    def make_model(self):
        raise NotImplementedError

    def set_objective(self, H, X_train, X_test, lmbd, lmbd_train, dtype, seed):
        self.H, self.X, self.lmbd = H, X_test, lmbd
        self.model = self.make_model()
        config = TrainConfig(n_steps=self.n_steps, batch_size=self.batch_size, lr=self.lr,
                             eval_every=max(1, min(50, self.n_steps)), patience=10, seed=int(seed))
        info = fit_tv_model(self.model, H, X_train, lmbd_train, config=config, all_layers=self.all_layers)
        self.info = {k: info[k] for k in ("train_time", "n_params", "trained_depth")}

    def run(self, n_iter):
        self.Z = self.model.solve(self.X, self.lmbd, n_iter)

    def get_result(self):
        return dict(Z=self.Z, **self.info)
