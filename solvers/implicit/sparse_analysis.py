r"""The implicit sparse-analysis model :math:`N_\Theta(d)` (Heaton & Wu Fung, Sci. Rep. 2023).

:math:`N_\Theta(d) = \operatorname{argmin}_x \|\Theta x\|_1` s.t. :math:`Ax = d`, evaluated as the
fixed point of the linearized-ADMM operator
(:class:`~l2obench.solvers.classical.linearized_admm.LinearizedADMMOperator`) inside the suite's
:class:`~l2obench.solvers.implicit.fixed_point.FixedPointLayer`, and fitted by
:func:`l2obench.solvers.fit.fit` on pairs :math:`(d, x^\star)` to minimise
:math:`\mathbb E\|N_\Theta(d) - x^\star\|^2` with JFB, IFT or unrolled backprop. With a fixed
analytic :math:`\Theta` the same operator is the classical solver.
"""
from l2obench.objectives.validation import check_choice
from l2obench.solvers.classical.linearized_admm import TRANSFORMS, LinearizedADMMOperator, analytic_transform
from l2obench.solvers.implicit.fixed_point import FixedPointModel


class ImplicitSparseAnalysis(FixedPointModel):
    r"""Learned :math:`\Theta` in the implicit linearized-ADMM model.

    Parameters
    ----------
    init : {'identity', 'difference'}
        Initial transform :math:`\\Theta_0`.
    backward : {'jfb', 'ift', 'unrolled'}
    depth : int
        Iteration cap of the forward solve (JFB, IFT), the exact depth of ``'unrolled'``.
    tol : float
        Relative residual at which the forward solve stops.
    alpha, lam : float
        Step sizes of the operator.
    beta : float or 'auto'
        Primal step; ``'auto'`` takes :math:`0.9/(\alpha(1 + \|A\|_2^2))` from the problem's
        :math:`A` (:func:`~l2obench.solvers.classical.linearized_admm.resolve_beta`).
    forward_solver : {'plain', 'anderson'}
    learn_theta : bool
    """

    def __init__(self, init="identity", backward="jfb", depth=100, tol=1e-4, alpha=1.0, beta="auto", lam=1.0,
                 forward_solver="plain", learn_theta=True):
        super().__init__()
        self.init = check_choice("init", init, TRANSFORMS)
        self.check_solve_parameters(backward, depth, tol, forward_solver)
        self.alpha, self.beta, self.lam = alpha, beta, lam
        self.learn_theta = check_choice("learn_theta", learn_theta, (False, True))

    def make_operator(self, problem):
        """The linearized-ADMM operator with :math:`\\Theta_0` from ``init``."""
        theta0 = analytic_transform(problem.A.shape[1], self.init, dtype=problem.A.dtype)
        return LinearizedADMMOperator(problem, theta0, alpha=self.alpha, beta=self.beta, lam=self.lam,
                                      learn_theta=self.learn_theta)
