r"""ADMM for the batched Lasso (Boyd et al. 2011, Sec. 6.4).

Splitting :math:`z = w`, with scaled dual :math:`u` and penalty :math:`\rho`:

.. math::
    z_{k+1} &= (D^\top D + \rho I)^{-1}(D^\top x + \rho(w_k - u_k)) \\
    w_{k+1} &= \mathrm{ST}(z_{k+1} + u_k, \lambda/\rho) \\
    u_{k+1} &= u_k + z_{k+1} - w_{k+1}

The inverse comes from one Cholesky factorisation per dictionary (``cholesky_inverse``) and
is then applied to the whole batch as one matrix product per iteration. The sparse iterate
:math:`w` is returned.
"""
import torch

from l2obench.objectives.lasso import check_lasso_inputs, lipschitz
from l2obench.objectives.validation import check_int, check_real
from l2obench.solvers.prox import soft_threshold


class LassoADMM:
    """ADMM on a batch of Lasso problems.

    Parameters
    ----------
    rho : float
        Penalty parameter as a multiple of ‖D‖₂² (> 0); scale-free, so one default serves
        dictionaries of any norm.
    """

    def __init__(self, rho=0.1):
        self.rho = rho

    def solve(self, D, X, lmbd, n_iter, z0=None):
        """Run ``n_iter`` iterations from ``z0`` (default 0); returns the sparse iterate (B, n)."""
        rel_rho = check_real("rho", self.rho, low=0.0, low_open=True)
        n_iter = check_int("n_iter", n_iter, low=0)
        D, X, lam = check_lasso_inputs(D, X, lmbd)
        n = D.shape[1]
        rho = rel_rho * float(lipschitz(D))
        chol = torch.linalg.cholesky(D.T @ D + rho * torch.eye(n, dtype=D.dtype))
        inv = torch.cholesky_inverse(chol)
        q = X @ D @ inv
        w = torch.zeros(X.shape[0], n, dtype=D.dtype) if z0 is None else z0.to(D.dtype).clone()
        u = torch.zeros_like(w)
        thresh = lam / rho
        for _ in range(n_iter):
            z = torch.addmm(q, w - u, inv, alpha=rho)
            z_u = z + u
            w = soft_threshold(z_u, thresh)
            u = z_u - w
        return w
