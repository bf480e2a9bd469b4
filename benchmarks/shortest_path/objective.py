"""Predict-then-optimize shortest paths on a k x k grid (McKenzie, Heaton & Wu Fung, TMLR 2024).

Solvers get features and true costs of the training and validation instances and the test
features, and return predicted costs ``costs`` for the test instances; every metric is computed
here from the exact oracle's decisions on those costs, on the test split only. ``value`` is
PyEPO's normalised regret (sum of regrets over the sum of optimal values); ``path_accuracy`` the
share of test instances whose predicted path is the optimal one.
"""
import torch
from benchopt import BaseObjective

from l2obench.datasets.benchopt_checks import CheckedParameters
from l2obench.objectives.shortest_path import GridShortestPath
from l2obench.objectives.validation import check_dtype
from l2obench.solvers.benchopt_adapters import training_columns


class Objective(CheckedParameters, BaseObjective):
    name = "shortest-path-regret"
    min_benchopt_version = "1.10"
    requirements = []
    sampling_strategy = "run_once"
    parameters = {"dtype": ["float32"]}
    test_config = {"objective": {"dtype": "float64"}}

    def check_parameters(self, **parameters):
        """Checked when benchopt creates the objective, before any solver runs."""
        check_dtype("dtype", parameters["dtype"])

    def set_data(self, grid, u_train, c_train, u_val, c_val, u_test, c_test):
        dt = check_dtype("dtype", self.dtype)
        cast = lambda t: torch.as_tensor(t).to(dt)  # noqa: E731
        self.problem = GridShortestPath(grid, n_features=u_train.shape[1])
        self.splits = {name: (cast(u), cast(c)) for name, u, c in
                       (("train", u_train, c_train), ("val", u_val, c_val), ("test", u_test, c_test))}
        self.c_test = self.splits["test"][1].double()

    def get_objective(self):
        (u_tr, c_tr), (u_val, c_val), (u_te, c_te) = (self.splits[s] for s in ("train", "val", "test"))
        return dict(problem=self.problem.astype(u_tr.dtype), u_train=u_tr, c_train=c_tr, u_val=u_val, c_val=c_val,
                    u_test=u_te, c_test=c_te)

    def evaluate_result(self, costs, time_to_best=0.0, train_best_step=0, **training):
        costs = torch.as_tensor(costs).detach().cpu().double()
        if costs.shape != self.c_test.shape:
            raise ValueError(f"costs must have shape {tuple(self.c_test.shape)}, got {tuple(costs.shape)}.")
        diverged = not bool(torch.isfinite(costs).all())
        if diverged:  # flagged row: finite sentinel value (the regret bound 1), NaN metrics
            metrics = {"value": 1.0, "regret": float("nan"), "regret_mean": float("nan"),
                       "path_accuracy": float("nan"), "cost_mse": float("nan")}
        else:
            decisions = self.problem.decision_metrics(costs, self.c_test)  # one oracle call per cost set
            metrics = {"value": decisions["regret"], "regret": decisions["regret"],
                       "regret_mean": decisions["regret_mean"], "path_accuracy": decisions["decision_accuracy"],
                       "cost_mse": float(((costs - self.c_test) ** 2).mean())}
        columns = training_columns(**training)
        return {**metrics, "diverged": diverged, **columns,
                "time_to_best": float(time_to_best), "train_best_step": int(train_best_step),
                # a training whose best validation regret is that of its initial weights returns them:
                # not a trained model (the tables and the figure say so)
                "train_no_improvement": bool(columns["train_steps"] > 0 and train_best_step == 0)}

    def get_one_result(self):
        return dict(costs=torch.zeros_like(self.c_test))
