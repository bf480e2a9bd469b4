r"""ADMM for TV deconvolution, splitting :math:`v = Dz` (Boyd et al. 2011, Sec. 6.4.1).

.. math::
   z_{k+1} &= (H^\top H + \rho D^\top D)^{-1}\big(H^\top x + \rho D^\top(v_k - q_k)\big) \\
   v_{k+1} &= \mathrm{ST}(Dz_{k+1} + q_k,\ \lambda/\rho) \\
   q_{k+1} &= q_k + Dz_{k+1} - v_{k+1}

(scaled dual :math:`q`). The matrix is factorised once (Cholesky) for the whole batch; it is
invertible as soon as :math:`H\mathbf 1 \ne 0`. Returns the primal iterate ``z``.
"""
import torch

from l2obench.objectives.tv_deconvolution import check_tv_inputs, lipschitz
from l2obench.objectives.validation import check_int, check_real
from l2obench.solvers.prox import soft_threshold
from l2obench.solvers.prox_tv import torch_single_thread


def difference_matrix(n, dtype=torch.float64):
    """First-difference matrix D (n-1, n), ``(Dz)_k = z_{k+1} - z_k``."""
    return torch.diff(torch.eye(n, dtype=dtype), dim=0)


class TVADMM:
    """ADMM on a batch of TV deconvolution problems.

    Parameters
    ----------
    rho : float
        Penalty parameter, as a multiple of ‖H‖₂² / 4 (> 0), which balances the two blocks
        of the linear system since ‖D‖₂² ≤ 4.
    """

    def __init__(self, rho=3.0):
        self.rho = rho

    def solve(self, H, X, lmbd, n_iter, callback=None):
        """Run ``n_iter`` iterations from z = v = q = 0; returns Z (B, n).

        ``callback(k, z)``, if given, is called after each iteration k = 1..n_iter.
        """
        check_real("rho", self.rho, low=0.0, low_open=True)
        n_iter = check_int("n_iter", n_iter, low=0)
        H, X, lam = check_tv_inputs(H, X, lmbd)
        n = H.shape[1]
        D = difference_matrix(n, H.dtype)
        rho = self.rho * float(lipschitz(H)) / 4
        chol = torch.linalg.cholesky(H.T @ H + rho * (D.T @ D))
        HtX = X @ H
        z = torch.zeros(X.shape[0], n, dtype=H.dtype)
        v = torch.zeros(X.shape[0], n - 1, dtype=H.dtype)
        q = torch.zeros_like(v)
        with torch_single_thread():
            for it in range(n_iter):
                rhs = HtX + rho * ((v - q) @ D)
                z = torch.cholesky_solve(rhs.T, chol).T
                Dz = torch.diff(z, dim=1)
                v = soft_threshold(Dz + q, lam / rho)
                q = q + Dz - v
                if callback is not None:
                    callback(it + 1, z)
        return z
