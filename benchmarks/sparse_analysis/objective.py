"""Sparse analysis with a learned transform: min ||Theta x||_1 s.t. Ax = d.

Heaton & Wu Fung, "Explainable AI via Learning to Optimize" (Sci. Rep. 2023). Solvers get the
training pairs and one evaluation batch ``d_eval`` = [test; shifted test; calibration], the
calibration part being the first ``n_calibration`` training samples; they return ``x`` for the
whole batch. ``value`` is the mean relative test error ||x - x*|| / ||x*||. Metrics with the
``shift_`` prefix are on the out-of-distribution test set. Certificates (pass / warning / fail
rates per property) compare each inference with the distribution of the solver's own inferences
on the calibration set: see ``l2obench.objectives.sparse_analysis``.
"""
import torch
from benchopt import BaseObjective

from l2obench.datasets.benchopt_checks import CheckedParameters

from l2obench.objectives.sparse_analysis import SparseAnalysisProblem, evaluate
from l2obench.objectives.validation import check_dtype, check_int
from l2obench.solvers.benchopt_adapters import training_columns


class Objective(CheckedParameters, BaseObjective):
    name = "sparse-analysis"
    min_benchopt_version = "1.10"
    requirements = []
    parameters = {"dtype": ["float32"], "n_calibration": [256]}
    test_config = {"objective": {"dtype": "float64", "n_calibration": 32}}

    def check_parameters(self, **parameters):
        """Checked when benchopt creates the objective, before any solver runs."""
        check_dtype("dtype", parameters["dtype"])
        check_int("n_calibration", parameters["n_calibration"], low=8)

    def set_data(self, A, x_train, d_train, x_val, d_val, x_test, d_test, x_shift, d_shift):
        dt = check_dtype("dtype", self.dtype)
        n_cal = min(check_int("n_calibration", self.n_calibration, low=8), d_train.shape[0])
        cast = lambda t: torch.as_tensor(t).to(dt)  # noqa: E731
        self.A = cast(A)
        self.train, self.val = (cast(d_train), cast(x_train)), (cast(d_val), cast(x_val))
        self.splits = {"test": (cast(d_test), cast(x_test)), "shift": (cast(d_shift), cast(x_shift)),
                       "calibration": (cast(d_train[:n_cal]), cast(x_train[:n_cal]))}
        bounds, start = {}, 0
        for name, (d, _) in self.splits.items():
            bounds[name], start = slice(start, start + d.shape[0]), start + d.shape[0]
        self.bounds = bounds
        self.d_eval = torch.cat([d for d, _ in self.splits.values()])

    def get_objective(self):
        return dict(problem=SparseAnalysisProblem(self.A), d_train=self.train[0], x_train=self.train[1],
                    d_val=self.val[0], x_val=self.val[1], d_eval=self.d_eval)

    def evaluate_result(self, x, theta=None, peak_memory=0, **training):
        x = torch.as_tensor(x).to(self.A.dtype)
        if x.shape != self.d_eval.shape[:1] + self.A.shape[1:]:
            raise ValueError(f"x must have shape {(self.d_eval.shape[0], self.A.shape[1])}, got {tuple(x.shape)}.")
        cal = (x[self.bounds["calibration"]], self.splits["calibration"][0])
        out = {}
        for name, prefix in (("test", ""), ("shift", "shift_")):
            d, x_true = self.splits[name]
            res = evaluate(x[self.bounds[name]], x_true, self.A, d, theta, cal, prefix=prefix)
            diverged = res.pop("diverged")
            out["diverged"] = out.get("diverged", False) or diverged
            out.update(res)
        # finite sentinel 1.0 (the relative error of x = 0) for a diverged row: benchopt drops
        # the whole curve of a NaN value; `diverged=True` flags it, the tables show NaN
        value = 1.0 if out["diverged"] else out["rel_error"]
        return {"value": value, **out, "peak_memory": int(peak_memory), **training_columns(**training)}

    def get_one_result(self):
        return dict(x=torch.zeros(self.d_eval.shape[0], self.A.shape[1], dtype=self.A.dtype))
