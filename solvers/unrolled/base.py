r"""The one base of every unrolled solver: learned layers, then the classical iteration.

A model of depth :math:`T` maps a batch of signals ``X`` (B, m) and per-row penalties to
iterates by running :math:`T` layers that each generalise one step of a classical algorithm on a
problem of the problem interface (:mod:`l2obench.objectives.problem`); with analytic weights a
layer *is* that step, computed by the same function
(:func:`~l2obench.solvers.classical.proximal_gradient.prox_grad_step`). Past the trained depth
:meth:`Unrolled.solve` continues with the classical proximal-gradient iteration from the last
layer's iterate, so every model gives a full convergence curve (ARCHITECTURE.md).

Subclasses store hyper-parameters in ``__init__`` (read back by ``get_params``) and implement
``_init_params(problem)`` (learned tensors, names ending in ``_``, from the analytic weights),
``_layer(k, Z, ctx)`` and, when they need per-batch precomputations, ``_context(X, lam)``. A
model whose layers iterate on another form of the problem (the synthesis form of TV) overrides
:meth:`iteration_problem`.

The layers are also reachable one at a time through the learned optimizers' protocol
(:meth:`Unrolled.init_state`, :meth:`Unrolled.step`, :meth:`Unrolled.reset`,
:attr:`Unrolled.learned_iterations`), the one layer loop :meth:`forward`, :meth:`solve` and the
safeguard (:class:`~l2obench.solvers.safeguard.Safeguarded`) share.
"""
from numbers import Integral

import torch
from torch import nn

from l2obench.objectives.problem import CompositeProblem
from l2obench.objectives.validation import check_int
from l2obench.solvers.classical.proximal_gradient import ProximalGradient
from l2obench.solvers.params import HyperParams


class Unrolled(HyperParams, nn.Module):
    """``n_layers`` learned layers, then classical proximal gradient.

    Parameters
    ----------
    n_layers : int
        Depth ``T`` of the unrolled network (>= 1).
    """

    def __init__(self, n_layers=16):
        super().__init__()
        self.n_layers = check_int("n_layers", n_layers, low=1)

    def iteration_problem(self, problem):
        """The problem the layers iterate on (default: the one solved)."""
        return problem

    def build(self, problem):
        """Set the problem (its operator, penalty) and initialise the weights analytically."""
        if not isinstance(problem, CompositeProblem):  # e.g. an operator, as build(D) once took
            raise ValueError(f"{type(self).__name__}.build: problem must be a problem of l2obench.objectives "
                             f"(a CompositeProblem such as LassoProblem(D) or TVProblem(H)), "
                             f"got {type(problem).__name__}.")
        self.problem_ = problem
        self.iterated_ = self.iteration_problem(problem)
        A = self.iterated_.A
        self.register_buffer("A_", A.detach().clone(), persistent=False)
        self.lipschitz_ = self.iterated_.datafit.lipschitz
        self._init_params(self.iterated_)
        return self

    def _check_built(self):
        if not hasattr(self, "problem_"):
            raise RuntimeError(f"{type(self).__name__}: call build(problem) before using the model.")

    def _context(self, X, lam):
        return {"X": X, "lmbd": lam}

    @property
    def learned_iterations(self):
        """Number of learned iterations :meth:`step` can take (the depth ``n_layers``)."""
        return self.n_layers

    def init_state(self, problem, X, lam, Z):
        """The per-batch state of the layers (their context) for checked ``X`` (B, m), ``lam`` (B, 1).

        ``problem`` is the problem the layers iterate on (:attr:`iterated_`, or an equal one) or
        None; ``Z`` (the starting iterate) is not used: the layers need no iterate history.
        """
        self._check_built()
        self._check_problem(problem)
        return self._context(X, lam)

    def step(self, k, problem, X, lam, Z, state):
        """Layer ``k`` (0-based, ``k < n_layers``) applied to ``Z``: returns ``(Z_next, state)``."""
        if isinstance(k, bool) or not isinstance(k, Integral) or not 0 <= k < self.n_layers:
            raise ValueError(f"{type(self).__name__}.step: k={k!r} is past the model's learned layers "
                             f"(k must be an integer in [0, {self.n_layers}), the depth n_layers={self.n_layers}).")
        self._check_problem(problem)
        return self._layer(k, Z, state), state

    def reset(self, state, Z, mask):
        """After a safeguard replaced rows ``mask`` of the iterate by ``Z``: nothing to realign (the
        layers keep no iterate of their own that the next layer would not recompute); returns ``state``."""
        return state

    def _check_problem(self, problem):
        """``problem`` of the protocol: None, or the problem the layers iterate on (equal class and tensors)."""
        own = self.iterated_
        if problem is None or problem is own:
            return
        same = type(problem) is type(own) and _same_tensors(problem.fingerprint_tensors(), own.fingerprint_tensors())
        if not same:
            hint = (f"; its layers iterate on another form ({type(own).__name__}): pass model.iterated_"
                    if problem is self.problem_ else "")
            raise ValueError(f"{type(self).__name__}: problem must be None or the problem the layers iterate on "
                             f"(a {type(own).__name__} equal to model.iterated_), got {type(problem).__name__}{hint}.")

    def forward(self, X, lmbd, n_layers=None, all_layers=False):
        """Run the first ``n_layers`` (default all) layers from 0; return the output (B, n).

        With ``all_layers`` the list of the outputs of layers 1..n_layers.
        """
        self._check_built()
        depth = self.n_layers if n_layers is None else check_int("n_layers", n_layers, low=0, high=self.n_layers)
        X, lam, Z = self.iterated_.check_inputs(X, lmbd)  # as cheap as one element-wise pass
        ctx = self.init_state(None, X, lam, Z)
        outputs = []
        for k in range(depth):
            Z, ctx = self.step(k, None, X, lam, Z, ctx)
            if all_layers:
                outputs.append(self.iterated_.to_output(Z))
        return outputs if all_layers else self.iterated_.to_output(Z)

    @torch.no_grad()
    def solve(self, X, lmbd, n_iter):
        """``n_iter`` iterations: the learned layers first, classical proximal gradient past the depth."""
        self._check_built()
        n_iter = check_int("n_iter", n_iter, low=0)
        X, lam, Z = self.iterated_.check_inputs(X, lmbd)
        ctx = self.init_state(None, X, lam, Z)
        for k in range(min(n_iter, self.n_layers)):
            Z, ctx = self.step(k, None, X, lam, Z, ctx)
        if n_iter > self.n_layers:
            Z = ProximalGradient().solve(self.iterated_, X, lam[:, 0], n_iter - self.n_layers, z0=Z)
        return self.iterated_.to_output(Z)

    def trained_depth(self):
        """Number of learned layers (what a result row reports)."""
        return self.n_layers

    def layer_parameters(self, k):
        """Learned tensors of layer ``k`` (for stage-wise training); default: all."""
        return list(self.parameters())

    def lr_groups(self, params):
        """Adam parameter groups for ``params`` (see :func:`~l2obench.solvers.training.train`).

        Default: one group at the configured rate. Models whose tensors live on very different
        scales override it.
        """
        return list(params)

    @torch.no_grad()
    def init_from(self, shallower):
        """Start from a trained shallower model of the same class (depth continuation).

        Its tensors are copied by name: whole when the shapes agree (per-layer tensors, a
        shared weight), their first ``shallower.n_layers`` rows when the first dimension is the
        depth (per-layer vectors). The remaining layers keep their analytic initialisation.
        """
        self._check_built()
        if type(shallower) is not type(self) or shallower.n_layers > self.n_layers:
            raise ValueError(f"init_from: need a {type(self).__name__} with at most {self.n_layers} layers, "
                             f"got {type(shallower).__name__} with {getattr(shallower, 'n_layers', '?')}.")
        if not hasattr(shallower, "problem_"):  # an unbuilt model has no tensors: nothing would be copied
            raise ValueError(f"init_from: the shallower {type(shallower).__name__} is not built (no trained tensors).")
        own = dict(self.named_parameters())
        for name, old in shallower.named_parameters():
            new = own.get(name)
            if new is None:
                continue
            if new.shape == old.shape:
                new.copy_(old)
            elif new.ndim >= 1 and new.shape[0] == self.n_layers and old.shape[0] == shallower.n_layers \
                    and new.shape[1:] == old.shape[1:]:
                new[:shallower.n_layers] = old
            else:
                raise ValueError(f"init_from: tensor {name!r} has shape {tuple(old.shape)}, "
                                 f"cannot seed {tuple(new.shape)}.")


def _same_tensors(first, second):
    """Whether two lists of tensors (or None) hold the same values (same dtype, device and shape)."""
    if len(first) != len(second):
        return False
    for a, b in zip(first, second):
        if a is None or b is None:
            if a is not b:
                return False
        elif a is not b and (a.dtype != b.dtype or a.device != b.device or a.shape != b.shape
                             or not torch.equal(a, b)):
            return False
    return True


def per_layer_scalars(value, n_layers, dtype):
    """``n_layers`` learned scalars initialised at ``value`` (a ParameterList, one per layer)."""
    return nn.ParameterList([nn.Parameter(torch.tensor(value, dtype=dtype)) for _ in range(n_layers)])
