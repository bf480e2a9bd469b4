import numpy as np
import torch
from benchopt import BaseObjective

from l2obench.datasets.benchopt_checks import CheckedParameters
from l2obench.objectives.l1_logistic import L1LogisticProblem
from l2obench.objectives.validation import check_dtype
from l2obench.solvers.benchopt_adapters import training_columns
from l2obench.solvers.classical.reference import cached_certified_solve


class Objective(CheckedParameters, BaseObjective):
    r"""ℓ1-regularised logistic regression, one problem per test instance (Liu et al. ICML 2023).

    :math:`F_i(w) = \frac1N\sum_j \log(1 + e^{-y_{ij}\langle f_{ij}, w\rangle}) + \rho\|w\|_1` with
    each instance's own features :math:`F_i` (N × p) and labels :math:`y_i \in \{\pm1\}^N`; ρ is the
    data set's (0.1). Every metric is computed here on the test instances: the objective, F − F*
    and (F − F*)/F* against a float64 reference certified by the duality gap (1e-10 relative),
    the training cost handed over by learned solvers and, for safeguarded ones, how often the
    safeguard fell back to the classical step. A non-finite or exploding iterate gives a flagged
    row (``diverged``).
    """

    name = "l1-logistic"
    url = "https://github.com/l2obench/l2obench"
    min_benchopt_version = "1.10"
    parameters = {"dtype": ["float32"]}
    sampling_strategy = "iteration"
    test_config = {"dataset": {"name": "logistic-instances"}}

    def check_parameters(self, **parameters):
        check_dtype("dtype", parameters["dtype"])

    def set_data(self, F_test, y_test, rho, sampler=None):
        self.dtype_ = check_dtype("dtype", self.dtype)
        self.problem = L1LogisticProblem(F_test.double())
        self.y_test, self.sampler = y_test.double(), sampler
        self.lmbd = torch.full((y_test.shape[0],), float(rho), dtype=torch.float64)
        self.ref = cached_certified_solve(self.problem, self.y_test, self.lmbd, tol=1e-10)
        self.F0 = self.problem.value(self.y_test, torch.zeros_like(self.ref.Z), self.lmbd)

    def get_objective(self):
        return dict(problem=L1LogisticProblem(self.problem.F.to(self.dtype_)), X_test=self.y_test.to(self.dtype_),
                    lmbd=self.lmbd.to(self.dtype_), X_train=None, lmbd_train=None,
                    sampler=None if self.sampler is None else self.sampler.astype(self.dtype))

    def evaluate_result(self, Z, fallback_rate=float("nan"), **training):
        Z = torch.as_tensor(Z).double()
        F = self.problem.value(self.y_test, torch.nan_to_num(Z), self.lmbd)
        # every solver starts at w = 0 (F = log 2): ending far above it means the iterates blew up
        diverged = not bool(torch.isfinite(Z).all()) or not bool(torch.isfinite(F).all()) \
            or bool(F.mean() > 10 * self.F0.mean())
        nan = float("nan")
        gap = F - self.ref.value
        return dict(
            # a diverged row keeps the finite sentinel F(0) (benchopt drops a curve with a NaN value)
            value=float(self.F0.mean()) if diverged else float(F.mean()),
            suboptimality=nan if diverged else float(gap.mean()),
            rel_suboptimality=nan if diverged else float((gap / self.ref.value).mean()),
            reference_gap=float(self.ref.gap.max()),
            diverged=diverged, fallback_rate=float(fallback_rate), **training_columns(**training),
        )

    def get_one_result(self):
        return dict(Z=np.zeros(tuple(self.ref.Z.shape)))
