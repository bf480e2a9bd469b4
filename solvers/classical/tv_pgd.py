r"""Proximal gradient on the analysis form of TV deconvolution, with the exact TV prox.

.. math:: z_{k+1} = \mathrm{prox}_{\alpha\lambda TV}\big(y_k - \alpha H^\top(Hy_k - x)\big),
          \qquad \alpha = s / \|H\|_2^2,

with :math:`y_k = z_k` (PGD / ISTA) or the FISTA extrapolation
:math:`y_k = z_k + \frac{t_{k-1}-1}{t_k}(z_k - z_{k-1})` (Beck & Teboulle 2009). The prox is the
exact one of :mod:`l2obench.solvers.prox_tv`. This is the "analysis" iteration of Cherkaoui,
Sulam & Moreau (NeurIPS 2020), whose unrolled version is LPGD-Taut
(:mod:`l2obench.solvers.unrolled.tv_lpgd`); :func:`pgd_layer` is the layer shared by both.
"""
import math

import torch

from l2obench.objectives.tv_deconvolution import check_tv_inputs, lipschitz
from l2obench.objectives.validation import check_choice, check_int, check_real, check_tensor
from l2obench.solvers.prox_tv import ProxWarmStart, prox_tv, torch_single_thread


def pgd_layer(Z, residual, W, thresh, warm_start=None):
    r"""One (L)PGD layer :math:`\mathrm{prox}_{\theta TV}(z - r W)` with ``r = zHᵀ − x`` (B, m).

    With ``W = αH`` and ``θ = αλ`` it is one PGD step; LPGD-Taut learns ``W`` and ``θ``.
    ``warm_start`` (:class:`~l2obench.solvers.prox_tv.ProxWarmStart`) speeds up the prox.
    """
    return prox_tv(Z - residual @ W, thresh, warm_start)


class TVProximalGradient:
    """PGD / accelerated PGD (FISTA) on a batch of TV deconvolution problems.

    Parameters
    ----------
    accelerated : bool
        Use FISTA's momentum.
    step : float
        Step size as a multiple of 1/‖H‖² (> 0; above 2 PGD may diverge, which the
        objective flags).
    """

    def __init__(self, accelerated=False, step=1.0):
        self.accelerated = accelerated
        self.step = step

    def solve(self, H, X, lmbd, n_iter, z0=None, callback=None):
        """Run ``n_iter`` iterations from ``z0`` (default 0); returns Z (B, n).

        ``callback(k, z)``, if given, is called after each iteration k = 1..n_iter.
        """
        check_choice("accelerated", self.accelerated, (False, True))
        check_real("step", self.step, low=0.0, low_open=True)
        n_iter = check_int("n_iter", n_iter, low=0)
        H, X, lam = check_tv_inputs(H, X, lmbd)
        z = torch.zeros(X.shape[0], H.shape[1], dtype=H.dtype) if z0 is None else \
            check_tensor("z0", z0, ndim=2, shape=(X.shape[0], H.shape[1]), dtype=H.dtype).clone()
        alpha = self.step / float(lipschitz(H))
        W, thresh = alpha * H, (alpha * lam)[:, 0]
        y, t, warm = z, 1.0, ProxWarmStart()
        with torch_single_thread():
            for it in range(n_iter):
                z_new = pgd_layer(y, y @ H.T - X, W, thresh, warm)
                if self.accelerated:
                    t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2
                    y = z_new + (t - 1) / t_new * (z_new - z)
                    t = t_new
                else:
                    y = z_new
                z = z_new
                if callback is not None:
                    callback(it + 1, z)
        return z
