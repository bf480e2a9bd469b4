r"""Fixed-point (deep-equilibrium) layers trained by Jacobian-free, implicit or unrolled backprop.

A layer wraps a contractive operator :math:`T_\Theta(z; d)` and returns its fixed point
:math:`z^\star = T_\Theta(z^\star; d)`. The forward pass iterates :math:`T_\Theta` without
recording a graph (plain iteration or Anderson acceleration) until the relative residual
:math:`\|T(z) - z\| / \|T(z)\|` of every sample is below ``tol`` or ``max_iter`` is reached.
The gradient of a loss :math:`\ell(z^\star)` with respect to :math:`\Theta` is, by the implicit
function theorem,

.. math:: \frac{d\ell}{d\Theta} = \frac{\partial \ell}{\partial z}\, \mathcal{J}^{-1}
          \frac{\partial T}{\partial \Theta}, \qquad \mathcal{J} = I - \frac{\partial T}{\partial z},

and the three ``backward`` modes approximate it as follows:

``'jfb'``
    Jacobian-free backprop (Fung, Heaton, Li, McKenzie, Osher, Yin, "JFB: Jacobian-Free
    Backpropagation for Implicit Networks", AAAI 2022): replace :math:`\mathcal{J}` by
    :math:`I`, i.e. backprop through one application of :math:`T_\Theta` at :math:`z^\star`.
    Memory is that of one application, whatever the forward depth.
``'ift'``
    Jacobian-based: solve :math:`u = \partial_z\ell + (\partial T/\partial z)^\top u` with
    vector-Jacobian products (plain fixed-point iteration, i.e. a Neumann series, or Anderson
    acceleration, which on a linear map is a GMRES-type method), then backprop :math:`u`
    through :math:`T_\Theta` to :math:`\Theta` (Bai, Kolter, Koltun, "Deep Equilibrium Models",
    NeurIPS 2019).
``'unrolled'``
    ordinary backprop through ``max_iter`` iterations; memory grows linearly with depth.

The operator is a ``torch.nn.Module`` with three methods: ``step_fn(d)`` returns the map
:math:`z \mapsto T_\Theta(z; d)` (it may precompute what depends on :math:`\Theta` only),
``init_state(d)`` the starting point and ``readout(z)`` the output (e.g. the primal part of a
primal-dual state). With fixed :math:`\Theta`, :meth:`FixedPointLayer.iterate` *is* the
classical iteration; the same class therefore gives the classical, unrolled and implicit models.
"""
import math
from dataclasses import dataclass

import torch

from l2obench.objectives.validation import check_choice, check_int, check_real
from l2obench.solvers.implicit.anderson import anderson, plain_iteration
from l2obench.solvers.params import HyperParams

BACKWARDS = ("jfb", "ift", "unrolled")
FORWARD_SOLVERS = ("plain", "anderson")


@dataclass
class SolveInfo:
    """Outcome of a fixed-point solve: iterations used, worst relative residual, divergence.

    ``diverged`` is set on a non-finite result and on an iterate that blew up (the solver then
    reports ``residual = inf``; see :mod:`~l2obench.solvers.implicit.anderson`): a small relative
    residual of a blown-up iterate is not convergence.
    """

    n_iter: int = 0
    residual: float = float("nan")
    diverged: bool = False


def _diverged(z, res):
    return not math.isfinite(res) or not bool(torch.isfinite(z).all())


class FixedPointLayer(torch.nn.Module):
    """Fixed point of ``operator`` with a selectable forward solver and backward mode.

    Parameters
    ----------
    operator : torch.nn.Module
        Provides ``step_fn(d)``, ``init_state(d)`` and ``readout(z)`` (see the module doc).
    backward : {'jfb', 'ift', 'unrolled'}
    forward_solver : {'plain', 'anderson'}
    max_iter : int
        Iteration cap of the forward solve; the exact depth of ``'unrolled'``.
    tol : float
        Relative residual at which the forward solve stops (0 runs ``max_iter`` iterations).
    backward_max_iter, backward_tol : int, float, optional
        Cap and tolerance of the IFT linear solve (default: those of the forward solve).
    anderson_memory : int
        Number of past iterates Anderson acceleration combines.
    """

    def __init__(self, operator, backward="jfb", forward_solver="plain", max_iter=200, tol=1e-5,
                 backward_max_iter=None, backward_tol=None, anderson_memory=5):
        super().__init__()
        self.operator = operator
        self.backward = check_choice("backward", backward, BACKWARDS)
        self.forward_solver = check_choice("forward_solver", forward_solver, FORWARD_SOLVERS)
        self.max_iter = check_int("max_iter", max_iter, low=1)
        self.tol = check_real("tol", tol, low=0.0)
        self.backward_max_iter = check_int("backward_max_iter", backward_max_iter or max_iter, low=1)
        self.backward_tol = check_real("backward_tol", tol if backward_tol is None else backward_tol, low=0.0)
        self.anderson_memory = check_int("anderson_memory", anderson_memory, low=1)

    def _solve(self, f, z0, tol, max_iter):
        if self.forward_solver == "anderson":
            return anderson(f, z0, tol=tol, max_iter=max_iter, memory=self.anderson_memory)
        return plain_iteration(f, z0, tol=tol, max_iter=max_iter)

    @torch.no_grad()
    def iterate(self, d, n_iter, z0=None):
        """``n_iter`` plain iterations of the operator, no graph: the classical solver."""
        f = self.operator.step_fn(d)
        z = self.operator.init_state(d) if z0 is None else z0
        for _ in range(check_int("n_iter", n_iter, low=0)):
            z = f(z)
        return z

    @torch.no_grad()
    def solve(self, d, z0=None):
        """Forward solve to ``tol`` (no graph); returns ``(z_star, SolveInfo)``."""
        z0 = self.operator.init_state(d) if z0 is None else z0
        z, n_iter, res = self._solve(self.operator.step_fn(d), z0, self.tol, self.max_iter)
        self.last_info_ = SolveInfo(n_iter, res, _diverged(z, res))
        return z, self.last_info_

    def forward(self, d, z0=None):
        """Fixed point with the gradient of the ``backward`` mode; returns the full state."""
        if not torch.is_grad_enabled():
            return self.solve(d, z0)[0]
        f = self.operator.step_fn(d)
        if self.backward == "unrolled":
            z = self.operator.init_state(d) if z0 is None else z0
            for _ in range(self.max_iter):
                z = f(z)
            return z
        z_star, _ = self.solve(d, z0)
        if self.backward == "jfb":
            return f(z_star)
        z_leaf = z_star.detach().requires_grad_()
        z_out = f(z_leaf)
        if z_out.requires_grad:
            handle = []

            def hook(grad):
                handle.pop().remove()   # the VJPs below must not re-enter this hook
                return self._implicit_grad(grad, z_out, z_leaf)
            handle.append(z_out.register_hook(hook))
        return z_out

    def _implicit_grad(self, grad, z_out, z_leaf):
        r"""Solve :math:`u = g + (\partial T/\partial z)^\top u` by VJPs (IFT backward)."""
        def vjp_map(u):
            jtu, = torch.autograd.grad(z_out, z_leaf, u, retain_graph=True)
            return grad + jtu
        u, n_iter, res = self._solve(vjp_map, grad, self.backward_tol, self.backward_max_iter)
        self.last_backward_info_ = SolveInfo(n_iter, res, _diverged(u, res))
        return u


class FixedPointModel(HyperParams, torch.nn.Module):
    """Base of the implicit models: the fixed point of an operator a subclass builds, read out.

    A subclass stores its hyper-parameters in ``__init__`` (including ``backward``, ``depth``,
    ``tol``, ``forward_solver``, checked by :meth:`check_solve_parameters`) and implements
    ``make_operator(problem)``; :meth:`build` wraps it in a :class:`FixedPointLayer`. ``forward(d)``
    is the readout of the fixed point with the gradient of the ``backward`` mode; ``solve(d, n_iter)``
    the readout after ``n_iter`` plain iterations (the classical iteration of the learned operator),
    or solved to ``tol`` when ``n_iter`` is None.
    """

    def check_solve_parameters(self, backward, depth, tol, forward_solver):
        self.backward = check_choice("backward", backward, BACKWARDS)
        self.depth = check_int("depth", depth, low=1)
        self.tol = check_real("tol", tol, low=0.0)
        self.forward_solver = check_choice("forward_solver", forward_solver, FORWARD_SOLVERS)

    def make_operator(self, problem):
        raise NotImplementedError

    def build(self, problem):
        """Create the operator and the fixed-point layer on ``problem``."""
        self.problem_ = problem
        self.layer_ = FixedPointLayer(self.make_operator(problem), backward=self.backward, max_iter=self.depth,
                                      tol=self.tol, forward_solver=self.forward_solver)
        return self

    @property
    def operator_(self):
        return self.layer_.operator

    def forward(self, d):
        """The readout of the fixed point (B, n), with the gradient of the ``backward`` mode."""
        return self.operator_.readout(self.layer_(d))

    @torch.no_grad()
    def solve(self, d, n_iter=None):
        """Output after ``n_iter`` plain iterations, or solved to the model's tolerance."""
        z = self.layer_.solve(d)[0] if n_iter is None else self.layer_.iterate(d, n_iter)
        return self.operator_.readout(z)

    def trained_depth(self):
        return self.depth

    def lr_groups(self, params):
        return list(params)
