"""Sparse-view CT on phantoms: TV-min, FBP and learned reconstructions, with certificates.

Heaton & Wu Fung, "Explainable AI via Learning to Optimize" (Sci. Rep. 2023), the CT experiment.
Solvers get the training pairs (d, x*) and one evaluation batch ``d_eval`` = [test; calibration],
the calibration part being the first ``n_calibration`` training measurements; they return ``x``
for the whole batch. ``value`` is the mean relative test error ||x - x*|| / ||x*||; PSNR and SSIM
(scikit-image, data range 1), the fidelity ratio ||Ax - d|| / delta, the box violation and the
pass / warning / fail certificate rates come with it (``l2obench.objectives.ct``).
"""
import torch
from benchopt import BaseObjective

from l2obench.datasets.benchopt_checks import CheckedParameters
from l2obench.objectives.ct import CTProblem, evaluate
from l2obench.objectives.ct_projector import ParallelBeamGeometry, Projector
from l2obench.objectives.validation import check_dtype, check_int
from l2obench.solvers.benchopt_adapters import training_columns


class Objective(CheckedParameters, BaseObjective):
    name = "ct"
    min_benchopt_version = "1.10"
    requirements = []
    parameters = {"dtype": ["float32"], "n_calibration": [64]}
    test_config = {"objective": {"dtype": "float32", "n_calibration": 8}}

    def check_parameters(self, **parameters):
        """Checked when benchopt creates the objective, before any solver runs."""
        check_dtype("dtype", parameters["dtype"])
        check_int("n_calibration", parameters["n_calibration"], low=8)

    def set_data(self, x_train, d_train, x_val, d_val, x_test, d_test, size, n_angles, noise_level):
        dt = check_dtype("dtype", self.dtype)
        n_cal = min(check_int("n_calibration", self.n_calibration, low=8), d_train.shape[0])
        cast = lambda t: torch.as_tensor(t).to(dt)  # noqa: E731
        self.problem = CTProblem(Projector(ParallelBeamGeometry(size, n_angles), dtype=dt), noise_level)
        self.train, self.val = (cast(d_train), cast(x_train)), (cast(d_val), cast(x_val))
        self.test, self.calibration = (cast(d_test), cast(x_test)), (cast(d_train[:n_cal]), cast(x_train[:n_cal]))
        self.n_test = self.test[0].shape[0]
        self.d_eval = torch.cat([self.test[0], self.calibration[0]])

    def get_objective(self):
        return dict(problem=self.problem, d_train=self.train[0], x_train=self.train[1],
                    d_val=self.val[0], x_val=self.val[1], d_eval=self.d_eval)

    def evaluate_result(self, x, **training):
        x = torch.as_tensor(x)
        shape = (self.d_eval.shape[0], self.problem.shape[1])
        if tuple(x.shape) != shape:
            raise ValueError(f"x must have shape {shape}, got {tuple(x.shape)}.")
        x = x.to(self.problem.dtype)
        out = evaluate(x[:self.n_test], self.test[1], self.test[0], self.problem,
                       calibration=(x[self.n_test:], self.calibration[0]))
        # finite sentinel 1.0 (the relative error of x = 0) for a diverged row: benchopt drops the
        # whole curve of a NaN value; `diverged=True` flags it, the tables show NaN
        value = 1.0 if out["diverged"] else out["rel_error"]
        return {"value": value, **out, **training_columns(**training)}

    def get_one_result(self):
        return dict(x=torch.zeros(self.d_eval.shape[0], self.problem.shape[1], dtype=self.problem.dtype))
