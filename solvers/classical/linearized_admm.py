r"""Linearized ADMM for :math:`\min_x h(Kx)` s.t. :math:`Ax = d`, written once as a fixed-point operator.

Problem of Heaton & Wu Fung, "Explainable AI via Learning to Optimize" (Sci. Rep. 2023), with
:math:`h = \|\cdot\|_1` and :math:`K = \Theta` (:class:`~l2obench.objectives.sparse_analysis.SparseAnalysisProblem`):

.. math:: N_\Theta(d) = \operatorname*{argmin}_x \|\Theta x\|_1 \quad \text{s.t.}\quad Ax = d,

split as :math:`\min h(p)` s.t. :math:`\Theta x = p,\ Ax = d`. With step sizes
:math:`\alpha, \beta, \lambda`, auxiliary :math:`p` and duals :math:`\nu, \omega`, one step is

.. math::
    p^+ &= \mathrm{prox}_{\lambda h}(p + \lambda[\nu + \alpha(\Theta x - p)]) \\
    \nu^+ &= \nu + \alpha(\Theta x - p^+) \\
    \omega^+ &= \omega + \alpha(Ax - d) \\
    x^+ &= x - \beta[\Theta^\top(2\nu^+ - \nu) + A^\top(2\omega^+ - \omega)]

on the state :math:`z = (x, p, \nu, \omega)` of size :math:`n + 2k + m` for :math:`\Theta` of shape
:math:`(k, n)` (:math:`3n + m` for a square one). The problem is invariant
to the scale of :math:`\Theta`, so the operator uses :math:`\tilde\Theta = \Theta/\|\Theta\|_2`
(the spectral norm is detached: by scale invariance the gradient of the solution is unchanged).
The step sizes are checked against :math:`\alpha\lambda \le 1` (the linearisation of the
:math:`p`-step majorises :math:`\tfrac\alpha2\|\Theta x - p\|^2`) and
:math:`\alpha\beta(1 + \|A\|_2^2) < 1`, which bounds :math:`\alpha\beta\|[\tilde\Theta; A]\|_2^2`
for every :math:`\Theta`. The iteration is then nonexpansive (averaged) but not a strict
contraction: its linear part keeps an eigenvalue 1 along non-unique duals.

:class:`LinearizedADMMOperator` is the operator :math:`T_\Theta(z; d)` (Θ a parameter or a
buffer); :class:`LinearizedADMM` iterates it with a fixed Θ (the classical solver), and the
implicit model (:mod:`l2obench.solvers.implicit.sparse_analysis`) finds its fixed point with a
learned Θ: one step, classical and implicit modes.
"""
import torch

from l2obench.objectives.validation import check_choice, check_int, check_real, check_tensor

TRANSFORMS = ("identity", "difference")


def analytic_transform(n, kind="difference", dtype=torch.float64):
    """Square analytic sparsifier: the identity (basis pursuit) or first differences.

    ``'difference'`` is :math:`(Dx)_0 = x_0`, :math:`(Dx)_i = x_i - x_{i-1}`: invertible, and
    sparse on piecewise-constant signals (a total-variation analysis operator).
    """
    check_choice("transform", kind, TRANSFORMS)
    eye = torch.eye(n, dtype=dtype)
    return eye if kind == "identity" else eye - torch.diag(torch.ones(n - 1, dtype=dtype), -1)


def check_step_sizes(alpha, beta, lam, A):
    """Raise ``ValueError`` unless :math:`\\alpha\\lambda \\le 1` and :math:`\\alpha\\beta(1+\\|A\\|^2) < 1`."""
    for name, value in (("alpha", alpha), ("beta", beta), ("lam", lam)):
        check_real(name, value, low=0.0, low_open=True)
    if alpha * lam > 1.0:
        raise ValueError(f"step sizes: alpha*lam = {alpha * lam:.3g} must be <= 1 "
                         "(the linearised p-step diverges otherwise).")
    bound = alpha * beta * (1.0 + float(torch.linalg.matrix_norm(A, 2)) ** 2)
    if bound >= 1.0:
        raise ValueError(f"step sizes: alpha*beta*(1 + ||A||^2) = {bound:.3g} must be < 1; "
                         f"take beta < {1.0 / (alpha * (1.0 + float(torch.linalg.matrix_norm(A, 2)) ** 2)):.3g}.")


class LinearizedADMMOperator(torch.nn.Module):
    """The linearized-ADMM operator :math:`T_\\Theta(z; d)`, with :math:`\\Theta` learnable or fixed.

    Parameters
    ----------
    problem : SparseAnalysisProblem
        The constraint operator ``A`` (m, n), underdetermined, and the prox of ``h``.
    theta : Tensor, shape (k, n)
        Initial (or fixed) analysis transform (square for the learned model, any ``k`` >= 1 for
        the classical solver, e.g. a redundant analysis operator).
    alpha, beta, lam : float
        Step sizes (checked by :func:`check_step_sizes`).
    learn_theta : bool
        Register :math:`\\Theta` as a parameter (True) or a buffer (classical solver).
    """

    def __init__(self, problem, theta, alpha=1.0, beta=0.45, lam=1.0, learn_theta=True):
        super().__init__()
        A = problem.A
        m, n = A.shape
        theta = check_tensor("theta", theta, shape=(None, n), ndim=2, dtype=A.dtype)
        if theta.shape[0] == 0:
            raise ValueError(f"theta must have at least one row, got shape {tuple(theta.shape)}.")
        check_step_sizes(alpha, beta, lam, A)
        self.problem = problem
        self.alpha, self.beta, self.lam, self.n, self.m, self.k = alpha, beta, lam, n, m, theta.shape[0]
        self.register_buffer("A", A.clone())
        self.register_buffer("A_pinv", torch.linalg.pinv(A))
        if learn_theta:
            self.theta = torch.nn.Parameter(theta.clone())
        else:
            self.register_buffer("theta", theta.clone())

    def normalized_theta(self):
        """:math:`\\Theta / \\|\\Theta\\|_2` with the norm detached."""
        return self.theta / torch.linalg.matrix_norm(self.theta.detach(), 2).clamp_min(1e-12)

    def init_state(self, d):
        """:math:`x_0 = A^+ d`, :math:`p_0 = \\tilde\\Theta x_0`, zero duals."""
        d = self.problem.check_data(d)
        x = d @ self.A_pinv.T
        p = x @ self.normalized_theta().T
        return torch.cat([x, p, torch.zeros_like(p), torch.zeros_like(d)], dim=1)

    def readout(self, z):
        return z[:, :self.n]

    def step_fn(self, d):
        """The map :math:`z \\mapsto T_\\Theta(z; d)` for data ``d`` of shape (B, m)."""
        d = self.problem.check_data(d)
        theta, A, n, k = self.normalized_theta(), self.A, self.n, self.k
        alpha, beta, lam = self.alpha, self.beta, self.lam
        prox = self.problem.penalty.inner_prox

        def step(z):
            x, p, nu, om = z[:, :n], z[:, n:n + k], z[:, n + k:n + 2 * k], z[:, n + 2 * k:]
            theta_x = x @ theta.T
            p_new = prox(p + lam * (nu + alpha * (theta_x - p)), lam)
            nu_new = nu + alpha * (theta_x - p_new)
            om_new = om + alpha * (x @ A.T - d)
            x_new = x - beta * ((2 * nu_new - nu) @ theta + (2 * om_new - om) @ A)
            return torch.cat([x_new, p_new, nu_new, om_new], dim=1)
        return step


class LinearizedADMM:
    """Linearized ADMM with the problem's fixed transform (the classical solver).

    Parameters
    ----------
    alpha, beta, lam : float
        Step sizes (checked by :func:`check_step_sizes` against the problem's ``A``).
    """

    def __init__(self, alpha=1.0, beta=0.45, lam=1.0):
        self.alpha, self.beta, self.lam = alpha, beta, lam

    def check(self):
        """Validate the step sizes' signs (their bounds depend on ``A``: checked at solve time)."""
        for name in ("alpha", "beta", "lam"):
            check_real(name, getattr(self, name), low=0.0, low_open=True)
        return self

    def operator(self, problem):
        return LinearizedADMMOperator(problem, problem.penalty.K, self.alpha, self.beta, self.lam, learn_theta=False)

    @torch.no_grad()
    def solve(self, problem, d, n_iter):
        """``n_iter`` iterations from :math:`x_0 = A^+d`; returns x (B, n)."""
        n_iter = check_int("n_iter", n_iter, low=0)
        op = self.operator(problem)
        step, z = op.step_fn(d), op.init_state(d)
        for _ in range(n_iter):
            z = step(z)
        return op.readout(z)
