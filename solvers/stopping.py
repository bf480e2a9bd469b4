"""benchopt stopping criteria of the suite: why each curve ended is written into its last row.

benchopt calls a solver with growing budgets (``stop_val``) until its stopping criterion says
stop. The criteria here record the reason in the curve's last row (``end_reason``, read by
:mod:`l2obench.results.tables`): ``max_runs`` (the configuration's budget was reached),
``timeout``, or ``no_progress:<metric>``.

- :class:`ClassicalCriterion` (classical solvers): benchopt's default,
  ``SufficientProgressCriterion(patience=3)`` on ``value``, unchanged; a benchmark whose
  ``value`` is not what its classical solvers minimise sets ``classical_progress_key = None`` in
  its :class:`~l2obench.solvers.benchopt_adapters.BenchmarkData` and they run to max-runs or
  the timeout.
- :class:`TrainedDepthCriterion` (learned solvers): never stops for lack of progress before the
  trained depth (a supervised network's Lasso objective may rise over its layers while its NMSE
  falls); past it, stops when ``patience`` evaluations in a row, all at or past the trained
  depth, did not improve the metric the solver was trained for (``solver.trained_metric()``);
  the budget schedule lands on the trained depth itself. NaN (a diverged iterate) is no progress.
"""
import math

from benchopt.stopping_criterion import EPS, PATIENCE, StoppingCriterion, SufficientProgressCriterion

END_KEY = "objective_end_reason"  # "end_reason" in the tidy table
NO_PROGRESS = "no_progress:"


class RecordsEnd:
    """Mixin: when the criterion stops a curve, write why into its last row (``END_KEY``)."""

    def done_reason(self):
        key = self.key_to_monitor_ or "objective_value"
        return NO_PROGRESS + key.removeprefix("objective_")

    def should_stop(self, stop_val, objective_list):
        stop, status, next_val = super().should_stop(stop_val, objective_list)
        if stop and objective_list:
            if status == "timeout" and self.n_eval >= self.max_runs:
                status = "max_runs"  # the budget was reached too: the curve is complete
            reason = self.done_reason() if status == "done" else status
            objective_list[-1][END_KEY] = reason
        return stop, status, next_val


class ClassicalCriterion(RecordsEnd, SufficientProgressCriterion):
    """benchopt's default criterion (sufficient progress of ``value``), recording why it stopped;
    on the solver's ``classical_progress_key`` instead of ``value`` if it names another metric,
    none (max-runs / timeout only) if it is None."""

    def get_runner_instance(self, *args, solver=None, **kwargs):
        instance = super().get_runner_instance(*args, solver=solver, **kwargs)
        key = getattr(solver, "classical_progress_key", "value")
        if key is None:
            instance.key_to_monitor_ = None
            instance.check_convergence = lambda objective_list: (False, 0)
        else:
            instance.key_to_monitor_ = f"objective_{key}"
        return instance


class TrainedDepthCriterion(RecordsEnd, StoppingCriterion):
    """Learned solvers: run at least to the trained depth; past it, stop only when the trained
    metric makes no progress for ``patience`` evaluations (relative ``eps``, as benchopt's
    ``SufficientProgressCriterion``); max-runs and the timeout always apply.

    The solver provides ``trained_depth()`` and ``trained_metric()`` (a key of
    ``Objective.evaluate_result``, lower is better).
    """

    def __init__(self, patience=PATIENCE, eps=EPS, strategy=None, key_to_monitor=None, minimize=True):
        self.patience, self.eps = patience, eps
        # no key_to_monitor: benchopt would call a NaN metric "diverged" and drop the whole curve
        super().__init__(patience=patience, eps=eps, strategy=strategy, key_to_monitor=None,
                         minimize=minimize)

    def get_runner_instance(self, *args, solver=None, **kwargs):
        instance = super().get_runner_instance(*args, solver=solver, **kwargs)
        if solver is not None:
            instance.depth_ = int(solver.trained_depth())
            instance.metric_ = solver.trained_metric()
            schedule = instance.get_next_stop_val  # benchopt's, or the solver's get_next
            instance.get_next_stop_val = lambda stop_val: land_on(stop_val, schedule(stop_val), instance.depth_)
        return instance

    def done_reason(self):
        return NO_PROGRESS + self.metric_

    def check_convergence(self, objective_list):
        stop = no_progress_past(objective_list, f"objective_{self.metric_}", self.depth_, self.patience, self.eps)
        depth = max(self.depth_, 1)
        return stop, 1.0 if stop else min(1.0, objective_list[-1]["stop_val"] / depth) * 0.5


def land_on(stop_val, next_val, depth):
    """The next budget, or ``depth`` when the schedule would jump over it."""
    return depth if stop_val < depth < next_val else next_val


def no_progress_past(rows, key, depth, patience=PATIENCE, eps=EPS):
    """True when the last ``patience`` rows are all at budgets >= ``depth`` and none improved the
    best ``key`` seen before it by more than ``eps`` times the largest improvement of the curve.

    Parameters
    ----------
    rows : list of dict
        benchopt's rows of one curve so far (``stop_val`` and ``key`` in each).
    key : str
        The monitored column (``objective_<metric>``, lower is better); NaN counts as no progress.
    depth : int
        No stop before the curve has ``patience`` rows at or past this budget.
    patience : int
    eps : float

    Returns
    -------
    bool
    """
    if key not in rows[0]:
        available = sorted(k.removeprefix("objective_") for k in rows[0] if k.startswith("objective_"))
        raise ValueError(f"the stopping criterion watches {key.removeprefix('objective_')!r}, which "
                         f"Objective.evaluate_result does not return (it returns {available}).")
    patience = max(1, int(patience))
    if len(rows) <= patience or any(r["stop_val"] < depth for r in rows[-patience:]):
        return False
    values = [float(r[key]) if r[key] is not None and math.isfinite(float(r[key])) else math.inf for r in rows]
    gains, best = [], values[0]
    for v in values[1:]:
        gains.append(best - v if math.isfinite(best) or math.isfinite(v) else 0.0)  # inf - inf: none
        best = min(best, v)
    finite = [g for g in gains if math.isfinite(g)]
    scale = max(finite + [0.0])
    return all(g <= eps * scale for g in gains[-patience:])  # an infinite gain (NaN → finite) is progress
