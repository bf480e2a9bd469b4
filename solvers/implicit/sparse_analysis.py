r"""The implicit sparse-analysis model :math:`N_\Theta(d)` (Heaton & Wu Fung, Sci. Rep. 2023).

:math:`N_\Theta(d) = \operatorname{argmin}_x \|\Theta x\|_1` s.t. :math:`Ax = d`, evaluated as the
fixed point of the linearized-ADMM operator
(:class:`~l2obench.solvers.classical.linearized_admm.LinearizedADMMOperator`) inside the suite's
:class:`~l2obench.solvers.implicit.fixed_point.FixedPointLayer`, and fitted by
:func:`l2obench.solvers.fit.fit` on pairs :math:`(d, x^\star)` to minimise
:math:`\mathbb E\|N_\Theta(d) - x^\star\|^2` with JFB, IFT or unrolled backprop. With a fixed
analytic :math:`\Theta` the same operator is the classical solver.
"""
import torch
from torch import nn

from l2obench.objectives.validation import check_choice, check_int, check_real
from l2obench.solvers.classical.linearized_admm import TRANSFORMS, LinearizedADMMOperator, analytic_transform
from l2obench.solvers.implicit.fixed_point import BACKWARDS, FORWARD_SOLVERS, FixedPointLayer
from l2obench.solvers.params import HyperParams


class ImplicitSparseAnalysis(HyperParams, nn.Module):
    """Learned :math:`\\Theta` in the implicit linearized-ADMM model.

    Parameters
    ----------
    init : {'identity', 'difference'}
        Initial transform :math:`\\Theta_0`.
    backward : {'jfb', 'ift', 'unrolled'}
    depth : int
        Iteration cap of the forward solve (JFB, IFT), the exact depth of ``'unrolled'``.
    tol : float
        Relative residual at which the forward solve stops.
    alpha, beta, lam : float
        Step sizes of the operator.
    forward_solver : {'plain', 'anderson'}
    learn_theta : bool
    """

    def __init__(self, init="identity", backward="jfb", depth=100, tol=1e-4, alpha=1.0, beta=0.45, lam=1.0,
                 forward_solver="plain", learn_theta=True):
        super().__init__()
        self.init = check_choice("init", init, TRANSFORMS)
        self.backward = check_choice("backward", backward, BACKWARDS)
        self.depth = check_int("depth", depth, low=1)
        self.tol = check_real("tol", tol, low=0.0)
        self.alpha, self.beta, self.lam = alpha, beta, lam
        self.forward_solver = check_choice("forward_solver", forward_solver, FORWARD_SOLVERS)
        self.learn_theta = check_choice("learn_theta", learn_theta, (False, True))

    def build(self, problem):
        """Create the operator (Θ₀ from ``init``) and the fixed-point layer on ``problem``."""
        self.problem_ = problem
        theta0 = analytic_transform(problem.A.shape[1], self.init, dtype=problem.A.dtype)
        operator = LinearizedADMMOperator(problem, theta0, alpha=self.alpha, beta=self.beta, lam=self.lam,
                                          learn_theta=self.learn_theta)
        self.layer_ = FixedPointLayer(operator, backward=self.backward, max_iter=self.depth, tol=self.tol,
                                      forward_solver=self.forward_solver)
        return self

    @property
    def operator_(self):
        return self.layer_.operator

    def forward(self, d):
        """:math:`N_\\Theta(d)` (B, n), with the gradient of the ``backward`` mode."""
        return self.operator_.readout(self.layer_(d))

    @torch.no_grad()
    def solve(self, d, n_iter=None):
        """Primal output after ``n_iter`` plain iterations, or solved to the model's tolerance."""
        z = self.layer_.solve(d)[0] if n_iter is None else self.layer_.iterate(d, n_iter)
        return self.operator_.readout(z)

    def trained_depth(self):
        return self.depth

    def lr_groups(self, params):
        return list(params)
