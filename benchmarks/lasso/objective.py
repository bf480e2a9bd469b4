import numpy as np
import torch
from benchopt import BaseObjective

from l2obench.datasets.benchopt_checks import CheckedParameters

from l2obench.objectives.lasso import BatchedLassoProblem, LassoProblem, support_metrics
from l2obench.objectives.metrics import nmse_db
from l2obench.objectives.validation import check_dtype, check_real
from l2obench.solvers.classical.lasso_sklearn import SklearnLasso
from l2obench.solvers.benchopt_adapters import training_columns
from l2obench.solvers.classical.reference import cached_certified_solve


class Objective(CheckedParameters, BaseObjective):
    """Batched Lasso ½‖x − Dz‖² + λ‖z‖₁ on the test split, λ = reg · ‖Dᵀx‖∞ per signal.

    Every metric is computed here on the test signals: the objective, the suboptimality
    against a float64 reference certified by the duality gap, NMSE against the ground-truth
    code (when the data set has one) and against the Lasso solution, support recovery.
    """

    name = "lasso"
    url = "https://github.com/l2obench/l2obench"
    min_benchopt_version = "1.10"
    parameters = {"reg": [0.1], "dtype": ["float32"]}
    sampling_strategy = "iteration"
    test_config = {"dataset": {"name": "compressed-sensing"}}

    def check_parameters(self, **parameters):
        """Checked when benchopt creates the objective, before any solver runs."""
        check_real("reg", parameters["reg"], low=0.0, high=1.0, low_open=True)
        check_dtype("dtype", parameters["dtype"])

    def set_data(self, D, X_train, Z_train, X_test, Z_test, sampler=None, rho=None):
        self.dtype_ = check_dtype("dtype", self.dtype)
        # one dictionary (m, n), or one per test instance (B, m, n): Liu et al. 2023's fresh matrices
        self.problem = LassoProblem(D.double()) if D.ndim == 2 else BatchedLassoProblem(D.double())
        self.X_test, self.Z_test = X_test.double(), Z_test
        self.X_train, self.Z_train, self.sampler = X_train, Z_train, sampler
        # λ = reg · λ_max per signal, or the data set's own absolute ρ (Liu et al.: ρ = 0.1)
        self.lmbd = self.reg * self.problem.lambda_max(self.X_test) if rho is None else \
            torch.full((X_test.shape[0],), float(rho), dtype=torch.float64)
        self.lmbd_train = None if X_train is None else self.reg * self.problem.lambda_max(X_train.double())
        # F* and z*(x) from a float64 solve certified to a relative duality gap of 1e-10 (float32
        # solvers floor near 1e-7), warm-started by scikit-learn's coordinate descent (one
        # dictionary only), cached on disk
        warm = SklearnLasso("cd", tol=1e-13) if D.ndim == 2 else None
        self.ref = cached_certified_solve(self.problem, self.X_test, self.lmbd, tol=1e-10, warm_start=warm)
        self.F0 = self.problem.value(self.X_test, torch.zeros_like(self.ref.Z), self.lmbd)

    def get_objective(self):
        cast = lambda t: None if t is None else t.to(self.dtype_)  # noqa: E731
        problem = type(self.problem)(cast(self.problem.D))
        sampler = None if self.sampler is None else self.sampler.astype(self.dtype)
        return dict(problem=problem, X_train=cast(self.X_train), Z_train=cast(self.Z_train),
                    X_test=cast(self.X_test), lmbd=cast(self.lmbd), lmbd_train=cast(self.lmbd_train),
                    sampler=sampler)

    def evaluate_result(self, Z, fallback_rate=float("nan"), **training):
        Z = torch.as_tensor(Z).double()
        F = self.problem.value(self.X_test, Z, self.lmbd)
        # ISTA-type solvers start at z = 0; ending far above F(0) means the iterates blew up
        diverged = not bool(torch.isfinite(Z).all()) or bool(F.mean() > 10 * self.F0.mean())
        nan = float("nan")
        metrics = dict(
            # benchopt drops the whole curve of a NaN value ("diverged" is a failed run for it), so a
            # diverged row keeps a finite sentinel, F(0), which also stops the run for lack of
            # progress; `diverged=True` flags it and the results tables show its value as NaN.
            value=float(self.F0.mean()) if diverged else float(F.mean()),
            suboptimality=nan if diverged else float((F - self.ref.value).mean()),
            rel_suboptimality=nan if diverged else float(((F - self.ref.value) / self.ref.value).mean()),
            # NMSE to the Lasso solution is undefined when that solution is 0 (reg = 1): NaN, not an error
            nmse_lasso_db=nan if diverged or not bool(self.ref.Z.any()) else nmse_db(Z, self.ref.Z),
            nmse_db=nan, support_precision=nan, support_recall=nan,
            diverged=diverged, fallback_rate=float(fallback_rate), **training_columns(**training),
        )
        if self.Z_test is not None and not diverged:
            metrics["nmse_db"] = nmse_db(Z, self.Z_test.double())
            metrics["support_precision"], metrics["support_recall"] = support_metrics(Z, self.Z_test)
        return metrics

    def get_one_result(self):
        return dict(Z=np.zeros(tuple(self.ref.Z.shape)))
