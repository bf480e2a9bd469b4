"""Filtered backprojection through the benchmark's projector (ramp or Hann-windowed ramp filter)."""
from benchopt import BaseSolver

from l2obench.datasets.benchopt_checks import CheckedParameters
from l2obench.objectives.ct_projector import FILTERS
from l2obench.objectives.validation import check_choice


class Solver(CheckedParameters, BaseSolver):
    name = "FBP"
    requirements = []
    sampling_strategy = "run_once"
    parameters = {"filter": ["ram-lak", "hann"]}

    def check_parameters(self, filter):
        check_choice("filter", filter, FILTERS)

    def set_objective(self, problem, **objective):
        self.projector, self.d_eval = problem.projector, objective["d_eval"]

    def run(self, _):
        self.x = self.projector.fbp(self.d_eval, filter=self.filter)

    def get_result(self):
        return dict(x=self.x)
