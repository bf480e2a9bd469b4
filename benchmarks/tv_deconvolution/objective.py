import numpy as np
import torch
from benchopt import BaseObjective

from l2obench.datasets.benchopt_checks import CheckedParameters

from l2obench.objectives.metrics import nmse, nmse_db
from l2obench.objectives.tv_deconvolution import TVProblem
from l2obench.objectives.validation import check_dtype, check_real
from l2obench.solvers.benchopt_adapters import training_columns
from l2obench.solvers.classical.reference import cached_certified_solve


class Objective(CheckedParameters, BaseObjective):
    """Batched 1-D TV deconvolution ½‖x − Hz‖² + λ‖Dz‖₁ on the test split (Cherkaoui et al. 2020).

    λ = reg · λ_max(x) per signal. Every metric is computed here on the test signals: the
    objective P, the suboptimality P − P* against a float64 reference certified by the duality
    gap, NMSE against the ground-truth activity, and the training cost handed over by learned
    solvers. A non-finite or exploding iterate gives a flagged row (``diverged``) with NaN
    metrics instead of an error.
    """

    name = "tv-deconvolution"
    url = "https://github.com/l2obench/l2obench"
    min_benchopt_version = "1.10"
    parameters = {"reg": [0.1, 0.8], "dtype": ["float64"]}
    sampling_strategy = "iteration"
    test_config = {"dataset": {"name": "tv-synthetic"}, "reg": 0.5}

    def check_parameters(self, **parameters):
        """Checked when benchopt creates the objective, before any solver runs."""
        check_real("reg", parameters["reg"], low=0.0, high=1.0, low_open=True)
        check_dtype("dtype", parameters["dtype"])

    def set_data(self, H, X_train, Z_train, X_test, Z_test):
        self.dtype_ = check_dtype("dtype", self.dtype)
        self.problem = TVProblem(H.double())
        self.X_test, self.Z_test = X_test.double(), Z_test.double()
        self.X_train = X_train
        self.lmbd = self.reg * self.problem.lambda_max(self.X_test)
        self.lmbd_train = self.reg * self.problem.lambda_max(X_train.double())
        # P* from a float64 restarted FISTA with the exact prox, certified by the duality gap
        self.ref = cached_certified_solve(self.problem, self.X_test, self.lmbd, tol=1e-10, max_iter=5000)
        self.P0 = self.problem.value(self.X_test, torch.zeros_like(self.ref.Z), self.lmbd)

    def get_objective(self):
        cast = lambda t: t.to(self.dtype_)  # noqa: E731
        return dict(problem=TVProblem(cast(self.problem.H)), X_train=cast(self.X_train),
                    X_test=cast(self.X_test), lmbd=cast(self.lmbd), lmbd_train=cast(self.lmbd_train))

    def evaluate_result(self, Z, fallback_rate=float("nan"), **training):
        Z = torch.as_tensor(Z).double()
        finite = bool(torch.isfinite(Z).all())
        P = self.problem.value(self.X_test, torch.nan_to_num(Z), self.lmbd)
        # every solver starts at z = 0: ending far above P(0) means the iterates blew up
        diverged = not finite or not bool(torch.isfinite(P).all()) or bool(P.mean() > 10 * self.P0.mean())
        nan = float("nan")
        gap = P - self.ref.value
        return dict(
            # finite sentinel P(0) for a diverged row: benchopt drops the whole curve of a NaN
            # value; `diverged=True` flags it and the results tables show its value as NaN
            value=float(self.P0.mean()) if diverged else float(P.mean()),
            suboptimality=nan if diverged else float(gap.mean()),
            rel_suboptimality=nan if diverged else float((gap / self.ref.value).mean()),
            nmse=nan if diverged else nmse(Z, self.Z_test),
            nmse_db=nan if diverged else nmse_db(Z, self.Z_test),
            nmse_reference_db=nmse_db(self.ref.Z, self.Z_test),
            reference_gap=float(self.ref.gap.max()),
            diverged=diverged, fallback_rate=float(fallback_rate), **training_columns(**training),
        )

    def get_one_result(self):
        return dict(Z=np.zeros(tuple(self.ref.Z.shape)))
