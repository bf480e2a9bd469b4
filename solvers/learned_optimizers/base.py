r"""The one base of the learned optimizers: a coordinate-wise LSTM proposes each iteration.

A learned optimizer (Andrychowicz et al. 2016; Lv et al. 2017; Liu et al. ICML 2023) is an
iteration :math:`(z_{k+1}, s_{k+1}) = \Phi_\theta(z_k, s_k; F)` whose rule is computed by a
small LSTM applied to every coordinate (:class:`~l2obench.solvers.learned_optimizers.lstm.CoordinateLSTM`),
fed with per-coordinate features of the problem (gradients, iterates, moments); the state
:math:`s_k` holds the LSTM's hidden and cell states and what the rule keeps (moments, an
extrapolated point). Unlike an unrolled network it has no depth: it is trained on trajectories of
``horizon`` iterations of problem *instances* (:mod:`l2obench.solvers.learned_optimizers.loss`)
and then run for as many iterations as asked, on instances of any size, one operator per row
included (``problem.datafit.lipschitz`` a float or a (B, 1) tensor).

The iteration loop is written once, here (:meth:`LearnedOptimizer.iterate`); a model implements
its features and its update rule:

- ``_features(problem, X, lam, Z, state) -> (features (B, n, n_inputs), ctx)``,
- ``_update(problem, X, lam, Z, state, out, ctx) -> (Z_next, state)`` with ``out`` the LSTM's
  (B, n, n_outputs) outputs,
- optionally ``_init_extra(problem, X, lam, Z)`` (extra state entries) and ``reset``.

The LSTM's inputs are detached from the graph: back-propagation reaches the weights through the
update and the recurrent state, not through the gradient fed as a feature (Andrychowicz et al.
drop these second derivatives; MS4L2O, Liu et al.'s code, detaches them too).

The protocol (shared with :class:`~l2obench.solvers.safeguard.Safeguarded`): ``init_state``,
``step``, ``reset``; ``optimize(problem, X, lmbd, n_iter)`` on any instances,
``solve(X, lmbd, n_iter)`` on the problem the model was built on (the benchopt adapters' call).
"""
import torch
from torch import nn

from l2obench.objectives.problem import CompositeProblem
from l2obench.objectives.validation import check_int
from l2obench.solvers.learned_optimizers.lstm import CoordinateLSTM
from l2obench.solvers.params import HyperParams


def detach(state):
    """``state`` (tensors in dicts, lists, tuples) cut from the graph: truncated back-propagation."""
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, dict):
        return {key: detach(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(detach(value) for value in state)
    return state


def problem_dtype(problem):
    """The floating dtype of ``problem``'s tensors (its operator)."""
    for tensor in problem.fingerprint_tensors():
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point():
            return tensor.dtype
    raise ValueError(f"problem: {type(problem).__name__} holds no floating-point tensor.")


def l1_subgradient(problem, X, lam, Z):
    r""":math:`\nabla f(z) + \lambda\, w \odot \mathrm{sign}(z)`: the gradient autograd gives of
    :math:`F = f + \lambda\|w \odot z\|_1` (sign(0) = 0), what L2O-DM and RNNprop are fed."""
    return problem.datafit.grad(X, Z) + problem.penalty.thresholds(lam) * torch.sign(Z)


class LearnedOptimizer(HyperParams, nn.Module):
    """Base of the learned optimizers; see the module docstring.

    Parameters
    ----------
    horizon : int
        Iterations of the training trajectories (100, Liu et al.): the trained depth a result row
        reports. The model runs any number of iterations.
    hidden : int
        Hidden size of the LSTM (20).
    lstm_layers : int
        Stacked LSTM cells (2).
    """

    n_inputs = 2   # features per coordinate
    n_outputs = 1  # LSTM outputs per coordinate

    def __init__(self, horizon=100, hidden=20, lstm_layers=2):
        super().__init__()
        self.horizon = check_int("horizon", horizon, low=1)
        self.hidden = check_int("hidden", hidden, low=1)
        self.lstm_layers = check_int("lstm_layers", lstm_layers, low=1)

    def build(self, problem):
        """Create the LSTM (weights drawn from torch's generator: fit seeds it) in the problem's
        dtype; returns self."""
        self._check_problem(problem, dtype=False)
        self.problem_ = problem
        self.core_ = CoordinateLSTM(self.n_inputs, self.n_outputs, self.hidden, self.lstm_layers).to(
            problem_dtype(problem))
        return self

    def _check_problem(self, problem, dtype=True):
        if not isinstance(problem, CompositeProblem):
            raise ValueError(f"{type(self).__name__}: problem must be a problem of l2obench.objectives (a "
                             f"CompositeProblem such as LassoProblem(D)), got {type(problem).__name__}.")
        if not hasattr(problem.penalty, "thresholds"):  # L1Penalty: per-coordinate thresholds
            raise ValueError(f"{type(self).__name__} needs an ℓ1 penalty (a subgradient, a coordinate-wise prox "
                             f"with per-coordinate thresholds), got {type(problem.penalty).__name__}.")
        if dtype and hasattr(self, "core_"):
            built, given = self.core_.output_layer.weight.dtype, problem_dtype(problem)
            if given != built:
                raise ValueError(f"problem: {type(self).__name__} was built in {built}, got a problem in {given}.")

    def _check_built(self):
        if not hasattr(self, "core_"):
            raise RuntimeError(f"{type(self).__name__}: call build(problem) before using the model.")

    # the protocol ---------------------------------------------------------------------------

    def init_state(self, problem, X, lam, Z):
        """The state before the first iteration from ``Z`` (B, n): zero LSTM states and the rule's own."""
        self._check_built()
        if Z.ndim != 2 or X.ndim != 2 or Z.shape[0] != X.shape[0]:
            raise ValueError(f"Z must be (B, n) with the B = {X.shape[0]} rows of X, got {tuple(Z.shape)}.")
        if not isinstance(lam, torch.Tensor) or lam.shape != (X.shape[0], 1):
            raise ValueError(f"lam must be a ({X.shape[0]}, 1) tensor (problem.check_inputs gives it).")
        return {"lstm": self.core_.init_state(*Z.shape), **self._init_extra(problem, X, lam, Z)}

    def step(self, k, problem, X, lam, Z, state):
        """Iteration ``k`` (0-based) from ``Z``: returns ``(Z_next, state)``; differentiable."""
        features, ctx = self._features(problem, X, lam, Z, state)
        out, lstm = self.core_(features.detach(), state["lstm"])
        return self._update(problem, X, lam, Z, {**state, "lstm": lstm}, out, ctx)

    def reset(self, state, Z, mask):
        """After a safeguard replaced the rows ``mask`` (B,) bool of the iterate by ``Z``: realign the
        rule's internal iterates there (in ``state``, which is also returned). Default: nothing."""
        return state

    def iterate(self, problem, X, lam, Z, state, n_iter, start=0, values=None):
        """``n_iter`` iterations ``start, …`` from ``(Z, state)``: THE loop of every learned optimizer.

        Returns ``(Z, state)``; with a list ``values``, appends :math:`F(z_k)` (B,) of every iterate.
        """
        for k in range(start, start + n_iter):
            Z, state = self.step(k, problem, X, lam, Z, state)
            if values is not None:
                values.append(problem.value(X, Z, lam))
        return Z, state

    def optimize(self, problem, X, lmbd, n_iter, z0=None):
        """``n_iter`` learned iterations on the instances ``(problem, X, lmbd)`` from ``z0`` (default 0);
        returns Z (B, n). Differentiable when grad mode is on."""
        self._check_built()
        self._check_problem(problem)
        n_iter = check_int("n_iter", n_iter, low=0)
        X, lam, Z = problem.check_inputs(X, lmbd, z0)
        state = self.init_state(problem, X, lam, Z)
        return self.iterate(problem, X, lam, Z, state, n_iter)[0]

    @torch.no_grad()
    def solve(self, X, lmbd, n_iter):
        """``n_iter`` learned iterations on the problem the model was built on (benchopt's ``run``)."""
        self._check_built()
        return self.optimize(self.problem_, X, lmbd, n_iter)

    def trained_depth(self):
        """The training horizon (what a result row reports)."""
        return self.horizon

    def lr_groups(self, params):
        """Adam parameter groups for ``params``: one group at the configured rate."""
        return list(params)

    # what a model implements ----------------------------------------------------------------

    def _init_extra(self, problem, X, lam, Z):
        return {}

    def _features(self, problem, X, lam, Z, state):
        raise NotImplementedError

    def _update(self, problem, X, lam, Z, state, out, ctx):
        raise NotImplementedError
