r"""Linearized ADMM for sparse analysis, written once as a fixed-point operator.

Problem (Heaton & Wu Fung, "Explainable AI via Learning to Optimize", Sci. Rep. 2023):

.. math:: N_\Theta(d) = \operatorname*{argmin}_x \|\Theta x\|_1 \quad \text{s.t.}\quad Ax = d,

split as :math:`\min \|p\|_1` s.t. :math:`\Theta x = p,\ Ax = d`. With step sizes
:math:`\alpha, \beta, \lambda`, auxiliary :math:`p` and duals :math:`\nu, \omega`, one step is

.. math::
    p^+ &= \mathrm{shrink}(p + \lambda[\nu + \alpha(\Theta x - p)], \lambda) \\
    \nu^+ &= \nu + \alpha(\Theta x - p^+) \\
    \omega^+ &= \omega + \alpha(Ax - d) \\
    x^+ &= x - \beta[\Theta^\top(2\nu^+ - \nu) + A^\top(2\omega^+ - \omega)]

on the state :math:`z = (x, p, \nu, \omega)` of size :math:`3n + m`. The problem is invariant
to the scale of :math:`\Theta`, so the operator uses :math:`\tilde\Theta = \Theta/\|\Theta\|_2`
(the spectral norm is detached: by scale invariance the gradient of the solution is unchanged).
The step sizes are checked against :math:`\alpha\lambda \le 1` (the linearisation of the
:math:`p`-step majorises :math:`\tfrac\alpha2\|\Theta x - p\|^2`) and
:math:`\alpha\beta(1 + \|A\|_2^2) < 1`, which bounds :math:`\alpha\beta\|[\tilde\Theta; A]\|_2^2`
for every :math:`\Theta`. The iteration is then nonexpansive (averaged) but not a strict
contraction: its linear part keeps an eigenvalue 1 along non-unique duals.
"""
import torch

from l2obench.objectives.validation import check_choice, check_real, check_tensor
from l2obench.solvers.prox import soft_threshold

TRANSFORMS = ("identity", "difference")


def analytic_transform(n, kind="difference", dtype=torch.float64):
    """Square analytic sparsifier: the identity (basis pursuit) or first differences.

    ``'difference'`` is :math:`(Dx)_0 = x_0`, :math:`(Dx)_i = x_i - x_{i-1}`: invertible, and
    sparse on piecewise-constant signals (a total-variation analysis operator).
    """
    check_choice("kind", kind, TRANSFORMS)
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


class SparseAnalysisADMM(torch.nn.Module):
    """The linearized-ADMM operator :math:`T_\\Theta(z; d)`, with :math:`\\Theta` learnable or fixed.

    Parameters
    ----------
    A : Tensor, shape (m, n)
        Measurement matrix (underdetermined, m < n).
    theta : Tensor, shape (n, n)
        Initial (or fixed) analysis transform.
    alpha, beta, lam : float
        Step sizes (checked by :func:`check_step_sizes`).
    learn_theta : bool
        Register :math:`\\Theta` as a parameter (True) or a buffer (classical solver).
    """

    def __init__(self, A, theta, alpha=1.0, beta=0.45, lam=1.0, learn_theta=True):
        super().__init__()
        A = check_tensor("A", A, ndim=2)
        m, n = A.shape
        if m >= n:
            raise ValueError(f"A must be underdetermined (m < n), got shape {tuple(A.shape)}.")
        theta = check_tensor("theta", theta, shape=(n, n), ndim=2, dtype=A.dtype)
        check_step_sizes(alpha, beta, lam, A)
        self.alpha, self.beta, self.lam, self.n, self.m = alpha, beta, lam, n, m
        self.register_buffer("A", A.clone())
        self.register_buffer("A_pinv", torch.linalg.pinv(A))
        if learn_theta:
            self.theta = torch.nn.Parameter(theta.clone())
        else:
            self.register_buffer("theta", theta.clone())

    def normalized_theta(self):
        """:math:`\\Theta / \\|\\Theta\\|_2` with the norm detached."""
        return self.theta / torch.linalg.matrix_norm(self.theta.detach(), 2).clamp_min(1e-12)

    def _check_data(self, d):
        if d.ndim != 2 or d.shape[1] != self.m:
            raise ValueError(f"d must have shape (B, {self.m}), got {tuple(d.shape)}.")

    def init_state(self, d):
        """:math:`x_0 = A^+ d`, :math:`p_0 = \\tilde\\Theta x_0`, zero duals."""
        self._check_data(d)
        x = d @ self.A_pinv.T
        p = x @ self.normalized_theta().T
        return torch.cat([x, p, torch.zeros_like(p), torch.zeros_like(d)], dim=1)

    def readout(self, z):
        return z[:, :self.n]

    def step_fn(self, d):
        """The map :math:`z \\mapsto T_\\Theta(z; d)` for data ``d`` of shape (B, m)."""
        self._check_data(d)
        theta, A, n = self.normalized_theta(), self.A, self.n
        alpha, beta, lam = self.alpha, self.beta, self.lam

        def step(z):
            x, p, nu, om = z[:, :n], z[:, n:2 * n], z[:, 2 * n:3 * n], z[:, 3 * n:]
            theta_x = x @ theta.T
            p_new = soft_threshold(p + lam * (nu + alpha * (theta_x - p)), lam)
            nu_new = nu + alpha * (theta_x - p_new)
            om_new = om + alpha * (x @ A.T - d)
            x_new = x - beta * ((2 * nu_new - nu) @ theta + (2 * om_new - om) @ A)
            return torch.cat([x_new, p_new, nu_new, om_new], dim=1)
        return step
