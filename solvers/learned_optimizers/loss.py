r"""The training loss of the learned optimizers: the objective along truncated trajectories.

Liu et al. (ICML 2023) and Andrychowicz et al. (2016) train a learned optimizer on the objective
it reaches along its own trajectory: from :math:`z_0 = 0` the model runs ``horizon`` iterations
(100) on a batch of instances, cut into segments of ``segment`` iterations (20); each segment's
loss is the mean, over the instances and the segment's iterates, of the objective
:math:`F_i(z_t)`, and the optimizer state (iterate, LSTM states, moments) is detached between
segments, so that a gradient step is taken per segment through at most ``segment`` iterations:
*truncated back-propagation through time*. The loss therefore returns an ITERATOR of segment
losses and :class:`~l2obench.solvers.optimizers.AdamStep` takes one Adam step per segment
(MS4L2O's loop, Liu et al.'s code).

*Not normalised.* Dividing each instance's objective by its start value :math:`F_i(z_0)` (every
instance weighing the same whatever its scale) was measured against the paper's plain mean, with
L2O-PA on the paper's Lasso distribution at reduced sizes (batch 64, horizon 100 in segments of
20, Adam 1e-2, 150 steps; test: 512 new instances, mean over 100 iterations of
:math:`F/F_0` and of :math:`F`, mean :math:`(F - F^*)/F^*` at iteration 20): at 50 × 100
(sparsity 10), seeds 0 and 1, normalised 0.1742 / 0.1756, 0.750 / 0.758, 8.0e-4 / 1.5e-3;
plain 0.1734 / 0.1755, 0.746 / 0.758, 2.9e-4 / 1.5e-3; at 25 × 50 (seed 0) normalised 0.1844,
0.389, 1.9e-4, plain 0.1850, 0.390, 8.5e-4 (L2O-DM: 0.1986 / 0.1971, 0.429 / 0.421). No
difference beyond the seed-to-seed spread, so the loss is the paper's plain mean.

The training batch is ``(ids,)`` with a ``sampler`` (fresh instances per batch,
``sampler.sample(ids) -> (problem, X, lmbd)``, Liu et al.'s protocol) or ``(X, lmbd)``, rows of
the problem the model was built on (one shared operator). :meth:`TrajectoryLoss.validation` is
the mean objective over the instances and the whole horizon, without gradients (the
early-stopping criterion; Liu et al. validate on the mean objective over 100 iterations).
"""
import torch

from l2obench.objectives.validation import check_int
from l2obench.solvers.learned_optimizers.base import detach
from l2obench.solvers.losses import TrainingLoss

VAL_CHUNK = 256  # instances per validation pass (memory: one operator per instance)


class TrajectoryLoss(TrainingLoss):
    """Mean objective along truncated trajectories (see the module docstring).

    Parameters
    ----------
    horizon : int
        Iterations of a training trajectory (100); the model's ``horizon`` must agree.
    segment : int
        Iterations per truncated segment (20); divides ``horizon``.
    sampler : object, optional
        An instance sampler (``get_params()``, ``sample(ids) -> (problem, X, lmbd)``); its class and
        parameters are part of :meth:`get_params` (the cache key).
    """

    def __init__(self, horizon=100, segment=20, sampler=None):
        self.horizon = check_int("horizon", horizon, low=1)
        self.segment = check_int("segment", segment, low=1, high=self.horizon)
        if self.horizon % self.segment:
            raise ValueError(f"segment must divide horizon={self.horizon}, got segment={segment}.")
        if sampler is not None and not (callable(getattr(sampler, "sample", None))
                                        and callable(getattr(sampler, "get_params", None))):
            raise ValueError(f"sampler must have sample(ids) and get_params(), got {type(sampler).__name__}.")
        self.sampler = sampler

    def get_params(self):
        sampler = None if self.sampler is None else {"class": type(self.sampler).__qualname__,
                                                     "params": self.sampler.get_params()}
        return {"horizon": self.horizon, "segment": self.segment, "sampler": sampler}

    def targets(self, problem, inputs, target=None):
        return None

    def _instances(self, model, batch):
        """``(problem, X, lam (B, 1), Z = 0)`` of a training batch."""
        if self.sampler is not None:
            if len(batch) != 1:
                raise ValueError(f"TrajectoryLoss with a sampler: the batch is (ids,), got {len(batch)} tensors.")
            problem, X, lmbd = self.sampler.sample(batch[0])
        else:
            if len(batch) != 2:
                raise ValueError(f"TrajectoryLoss without a sampler: the batch is (X, lmbd), got {len(batch)} tensors.")
            problem, (X, lmbd) = model.problem_, batch
            if getattr(problem.datafit, "per_instance", False):
                raise ValueError("TrajectoryLoss: a problem with one operator per instance needs a sampler "
                                 "(the batch rows cannot select its operators).")
        return (problem, *problem.check_inputs(X, lmbd))

    def _check_model(self, model, n_layers):
        if n_layers is not None:  # fit's stage-wise protocol: not for a learned optimizer
            raise ValueError(f"TrajectoryLoss has no layers: got n_layers={n_layers!r} (train without stagewise).")
        if getattr(model, "horizon", None) != self.horizon:
            raise ValueError(f"horizon: the loss's ({self.horizon}) and the model's "
                             f"({getattr(model, 'horizon', None)}) differ; the model reports its horizon as its "
                             f"trained depth.")

    def __call__(self, model, *batch, n_layers=None):
        """An iterator of the ``horizon / segment`` segment losses of the batch (0-dim tensors); the
        state is detached between segments (truncated back-propagation through time)."""
        self._check_model(model, n_layers)
        problem, X, lam, Z = self._instances(model, batch)
        return self._segments(model, problem, X, lam, Z)

    def _segments(self, model, problem, X, lam, Z):
        state = model.init_state(problem, X, lam, Z)
        for start in range(0, self.horizon, self.segment):
            values = []
            Z, state = model.iterate(problem, X, lam, Z, state, self.segment, start=start, values=values)
            yield torch.stack(values).mean()
            Z, state = Z.detach(), detach(state)

    @torch.no_grad()
    def validation(self, model, *batch):
        """Mean objective over the instances and the ``horizon`` iterations (a 0-dim tensor), in
        chunks of :data:`VAL_CHUNK` instances."""
        self._check_model(model, None)
        n, total = batch[0].shape[0], 0.0
        for start in range(0, n, VAL_CHUNK):
            problem, X, lam, Z = self._instances(model, tuple(t[start:start + VAL_CHUNK] for t in batch))
            values = []
            model.iterate(problem, X, lam, Z, model.init_state(problem, X, lam, Z), self.horizon, values=values)
            total = total + torch.stack(values).mean(dim=0).sum()
        return total / n
