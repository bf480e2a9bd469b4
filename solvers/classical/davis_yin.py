r"""Davis–Yin three-operator splitting for quadratically regularised linear programs.

For a standard-form LP of the problem interface
(:class:`~l2obench.objectives.linear_program.StandardFormLP`) and costs :math:`w`, the
regularised problem

.. math:: \min_x\ w^\top x + \tfrac\gamma2\|x\|^2 \quad\text{s.t.}\quad Ex = b,\ x \ge 0

is :math:`f + g + h` with :math:`f(x) = w^\top x + \tfrac\gamma2\|x\|^2` (smooth, :math:`\gamma`-
Lipschitz gradient), :math:`g = \iota_{\{Ex = b\}}`, :math:`h = \iota_{\{x \ge 0\}}`. Davis and Yin's
operator (Set-Valued Var. Anal. 2017), as in McKenzie, Heaton & Wu Fung (TMLR 2024, DYS-net):

.. math:: x_h = P_{\ge 0}(z),\quad x_g = P_{Ex=b}(2x_h - z - \alpha\nabla f(x_h)),\quad
          T(z) = z + x_g - x_h,

a fixed-point operator for :math:`\alpha < 2/\gamma`, whose fixed points give the solution
:math:`x^\star = P_{\ge 0}(z^\star)`. The affine projection is the problem's (one product with
a projector computed once from a compact SVD of :math:`E`).

One operator, three modes (ARCHITECTURE.md, *One step, three modes*): :class:`DavisYin` iterates
it with the true costs (the classical solver); DYS-net
(:class:`~l2obench.solvers.decision.cost_model.DYSNet`) puts it in the suite's
:class:`~l2obench.solvers.implicit.fixed_point.FixedPointLayer` with predicted costs :math:`w_\Theta(u)`
and back-propagates by JFB.
"""
import torch
from torch import nn

from l2obench.objectives.validation import check_int, check_real
from l2obench.solvers.implicit.fixed_point import FixedPointLayer


def check_davis_yin(alpha, gamma):
    """Step size and regularisation: :math:`\\gamma \\ge 0` and :math:`0 < \\alpha < 2/\\gamma`."""
    gamma = check_real("gamma", gamma, low=0.0)
    high = None if gamma == 0 else 2.0 / gamma
    alpha = check_real("alpha", alpha, low=0.0, high=high, low_open=True)
    if high is not None and alpha >= high:   # strict: at alpha = 2/gamma the gradient step is a reflection
        raise ValueError(f"alpha must be < 2/gamma = {high}, got {alpha!r}.")
    return alpha, gamma


class DavisYinOperator(nn.Module):
    """:math:`T(z; w)` above, with the fixed-point layer's ``step_fn`` / ``init_state`` / ``readout``.

    Parameters
    ----------
    problem : StandardFormLP
    alpha : float
        Step size (0.05 in DYS-net's code).
    gamma : float
        Quadratic regularisation (5e-4 in DYS-net's code).
    """

    def __init__(self, problem, alpha=0.05, gamma=5e-4):
        super().__init__()
        self.problem = problem
        self.alpha, self.gamma = check_davis_yin(alpha, gamma)

    def step_fn(self, W):
        problem, alpha, gamma = self.problem, self.alpha, self.gamma

        def T(z):
            x_h = problem.project_nonneg(z)
            x_g = problem.project_affine(2 * x_h - z - alpha * (W + gamma * x_h))
            return z + x_g - x_h
        return T

    def init_state(self, W):
        return torch.zeros_like(W)

    def readout(self, z):
        return self.problem.project_nonneg(z)


class DavisYin:
    """The classical Davis–Yin solver of the regularised LP, batched over cost vectors.

    Parameters
    ----------
    alpha, gamma : float
        See :class:`DavisYinOperator`.
    tol : float
        Relative fixed-point residual at which :meth:`solve` stops when ``n_iter`` is None.
    max_iter : int
        Iteration cap of that solve.
    """

    def __init__(self, alpha=0.05, gamma=5e-4, tol=1e-6, max_iter=10_000):
        self.alpha, self.gamma, self.tol, self.max_iter = alpha, gamma, tol, max_iter

    def check(self):
        check_davis_yin(self.alpha, self.gamma)
        check_real("tol", self.tol, low=0.0)
        check_int("max_iter", self.max_iter, low=1)
        return self

    def layer(self, problem):
        """The fixed-point layer of this solver on ``problem`` (nothing learned in it)."""
        self.check()
        return FixedPointLayer(DavisYinOperator(problem, self.alpha, self.gamma), max_iter=self.max_iter,
                               tol=self.tol)

    def solve(self, problem, W, n_iter=None):
        """``n_iter`` iterations from z = 0 (or to ``tol`` when None); returns :math:`x = P_{\\ge 0}(z)`."""
        W = problem.check_inputs(W)
        layer = self.layer(problem)
        z = layer.solve(W)[0] if n_iter is None else layer.iterate(W, n_iter)
        return layer.operator.readout(z)
