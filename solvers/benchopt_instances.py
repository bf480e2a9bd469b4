"""The benchopt adapters of solvers that run on new problem instances (ARCHITECTURE.md).

Learned optimizers (Liu et al. ICML 2023; Andrychowicz et al. 2016; Lv et al. 2017) are trained
once on instances a data set's ``sampler`` draws (a fresh matrix per instance) and then optimise
test instances they have never seen, in or out of distribution; the classical baselines with a
rate to tune (Adam, AdamHD) tune it on training instances. Both draw those instances here, from
disjoint id ranges (:mod:`l2obench.datasets.instances`).
"""
import torch

from l2obench.datasets.instances import split_ids
from l2obench.objectives.validation import check_real
from l2obench.solvers.benchopt_adapters import ClassicalSolver, LearnedSolver
from l2obench.solvers.device import default_device, prepare_device, to_device
from l2obench.solvers.learned_optimizers.loss import TrajectoryLoss


def training_instances(objective, n):
    """``(problem, X, lmbd)``: ``n`` training instances of a run (the sampler's first training ids,
    else the first training rows), for what a solver tunes before its timed runs."""
    sampler = objective.get("sampler")
    if sampler is not None:
        return sampler.sample(split_ids("train", n))
    if objective.get("X_train") is None:
        raise ValueError("this data set has no training instances (no sampler, no X_train) to tune on.")
    return objective["problem"], objective["X_train"][:n], objective["lmbd_train"][:n]


class TunedRateSolver(ClassicalSolver):
    """Adapter for a classical solver with a rate to tune (Adam, AdamHD).

    ``lr='tuned'`` picks the rate from the solver's grid (``tune_rate``) on ``tune_instances``
    TRAINING instances over ``tune_iter`` iterations in ``set_objective``, outside the timed runs
    (never on the test instances); a number fixes it. Subclasses implement ``make_solver(lr)``.
    """

    tune_instances, tune_iter = 64, 100
    default_lr = 1e-2  # the rate of a solver built before tuning (parameter checks)

    def rate(self):
        return getattr(self, "tuned_lr_", self.default_lr) if self.lr == "tuned" else self.lr

    def check_parameters(self, **parameters):
        if self.lr != "tuned":
            check_real("lr", self.lr, low=0.0, low_open=True)
        super().check_parameters(**parameters)

    def set_objective(self, **objective):
        if self.lr == "tuned":
            device = prepare_device(self.device_name())
            problem, X, lmbd = to_device(training_instances(objective, self.tune_instances), device)
            with default_device(device):
                self.tuned_lr_ = self.make_solver().tune_rate(problem, X, lmbd, self.tune_iter)
        super().set_objective(**objective)


class LearnedOptimizerSolver(LearnedSolver):
    """Adapter for a learned optimizer (:mod:`l2obench.solvers.learned_optimizers`).

    Trained once, outside the timed ``run``, by the one fit pipeline on the truncated-trajectory
    loss (:class:`~l2obench.solvers.learned_optimizers.loss.TrajectoryLoss`): on a fresh batch of
    instances per step drawn by the data set's ``sampler`` (Liu et al. ICML 2023: a new matrix per
    instance; train, validation and test instances from disjoint id ranges,
    :mod:`l2obench.datasets.instances`), or on the training rows of a data set with one
    operator. ``run(n_iter)`` then optimises the TEST instances, whatever their size or operator
    (the model is coordinate-wise): in distribution, or out of it (image patches, real data).
    ``horizon`` and ``segment`` are the trajectory's length and its truncation (100 and 20).
    """

    protocol_defaults = {**LearnedSolver.protocol_defaults, "loss": "trajectory", "n_steps": 500, "lr": 1e-2,
                         "horizon": 100, "segment": 20}
    schedule = "constant"  # Liu et al.: Adam at a constant rate
    n_evals, patience = 10, 0
    n_val = 256  # validation instances (the paper's 1024, a quarter: each costs a 100-iteration run)

    def trained_metric(self):
        return "value"  # the loss is the objective along the trajectory

    def make_loss(self, seed=0):
        return TrajectoryLoss(horizon=self.protocol("horizon"), segment=self.protocol("segment"),
                              sampler=getattr(self, "sampler_", None))

    def skip(self, **objective):
        if objective.get("sampler") is None and objective.get("X_train") is None:
            return True, f"{self.name} needs training instances: a sampler or a training split"
        return False, None

    def training_problem(self, objective):
        self.sampler_ = objective.get("sampler")
        if self.sampler_ is None:
            return objective["problem"]
        return self.sampler_.sample(split_ids("val", 1))[0]  # a prototype instance: the dtype, the form

    def training_data(self, objective):
        if objective.get("sampler") is None:
            return super().training_data(objective)
        n_train = self.protocol("n_steps") * self.protocol("batch_size")  # a fresh batch per step
        return (split_ids("train", n_train),), None, ((split_ids("val", self.n_val),), None)

    def solve(self, n_iter):
        if self.protocol("safeguard"):
            return super().solve(n_iter)
        with torch.no_grad():
            return self.model_.optimize(self.problem_, *self.inputs_, n_iter)
