r"""PDHG (Chambolle & Pock 2011) for TV deconvolution.

Saddle-point form :math:`\min_z\max_{\|w\|_\infty\le\lambda} \tfrac12\|x-Hz\|^2 + \langle Dz, w\rangle`:

.. math::
   w_{k+1} &= \Pi_{[-\lambda,\lambda]}(w_k + \sigma D\bar z_k) \\
   z_{k+1} &= (I + \tau H^\top H)^{-1}\big(z_k - \tau D^\top w_{k+1} + \tau H^\top x\big) \\
   \bar z_{k+1} &= 2z_{k+1} - z_k

with :math:`\sigma\tau\|D\|^2 \le 1` (:math:`\|D\|^2 < 4`, so :math:`\sigma = 1/(4\tau)`). The
inverse is formed once for the batch. Returns the primal iterate ``z``.
"""
import torch

from l2obench.objectives.tv_deconvolution import check_tv_inputs, lipschitz
from l2obench.objectives.validation import check_int, check_real
from l2obench.solvers.prox import project_box
from l2obench.solvers.prox_tv import torch_single_thread


class TVPDHG:
    """Chambolle–Pock primal-dual iterations on a batch of TV deconvolution problems.

    Parameters
    ----------
    tau : float
        Primal step as a multiple of 1/‖H‖₂² (> 0); the dual step is σ = 1/(4τ).
    """

    def __init__(self, tau=1.0):
        self.tau = tau

    def solve(self, H, X, lmbd, n_iter, callback=None):
        """Run ``n_iter`` iterations from z = w = 0; returns Z (B, n).

        ``callback(k, z)``, if given, is called after each iteration k = 1..n_iter.
        """
        check_real("tau", self.tau, low=0.0, low_open=True)
        n_iter = check_int("n_iter", n_iter, low=0)
        H, X, lam = check_tv_inputs(H, X, lmbd)
        n = H.shape[1]
        tau = self.tau / float(lipschitz(H))
        sigma = 1.0 / (4.0 * tau)
        inv = torch.linalg.inv(torch.eye(n, dtype=H.dtype) + tau * (H.T @ H))  # symmetric
        bias = tau * (X @ H)
        z = torch.zeros(X.shape[0], n, dtype=H.dtype)
        z_bar = z
        w = torch.zeros(X.shape[0], n - 1, dtype=H.dtype)
        with torch_single_thread():
            for it in range(n_iter):
                w = project_box(w + sigma * torch.diff(z_bar, dim=1), -lam, lam)
                Dtw = torch.nn.functional.pad(w, (1, 0)) - torch.nn.functional.pad(w, (0, 1))
                z_new = (z - tau * Dtw + bias) @ inv
                z_bar = 2 * z_new - z
                z = z_new
                if callback is not None:
                    callback(it + 1, z)
        return z
