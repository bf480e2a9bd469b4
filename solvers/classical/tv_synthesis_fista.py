r"""ISTA / FISTA on the synthesis (Lasso) form of TV deconvolution.

With :math:`z = Lu` (:math:`L` the discrete integration), :math:`P_x(Lu)` is the weighted Lasso

.. math:: \min_u \tfrac12\|x - Au\|_2^2 + \lambda\sum_{k\ge 1}|u_k|, \qquad A = HL,

solved by :math:`u_{k+1} = \mathrm{ST}\big(y_k - \alpha A^\top(Ay_k - x),\ \alpha\lambda w\big)` with
:math:`w = (0, 1, \dots, 1)` and :math:`\alpha = s/\|A\|_2^2` (FISTA adds the usual momentum). In
row form a step is :math:`\mathrm{ST}(xW_x + uW_u, \theta)` with :math:`W_x = \alpha A`,
:math:`W_u = I - \alpha A^\top A`: a LISTA layer with analytic weights (Gregor & LeCun 2010),
shared with :mod:`l2obench.solvers.unrolled.tv_lista`. Since :math:`\|HL\|` grows like the
signal length, this form needs more iterations than the analysis PGD (Cherkaoui, Sulam &
Moreau, NeurIPS 2020, Sec. 2).
"""
import math

import torch

from l2obench.objectives.tv_deconvolution import (check_tv_inputs, lipschitz, synthesis_dictionary,
                                                 synthesis_weights, to_analysis, to_synthesis)
from l2obench.objectives.validation import check_choice, check_int, check_real, check_tensor
from l2obench.solvers.prox import soft_threshold
from l2obench.solvers.prox_tv import torch_single_thread


def synthesis_ista_weights(H, step=1.0):
    """Analytic LISTA weights ``(W_x (m, n), W_u (n, n), alpha)`` of one synthesis ISTA step."""
    A = synthesis_dictionary(H)
    alpha = step / float(lipschitz(A))
    return alpha * A, torch.eye(A.shape[1], dtype=A.dtype) - alpha * (A.T @ A), alpha


def synthesis_layer(U, bias, W_u, thresh):
    r"""One ISTA / LISTA layer :math:`\mathrm{ST}(\text{bias} + uW_u, \theta)`, θ of shape (B, n) or (n,)."""
    return soft_threshold(torch.addmm(bias, U, W_u), thresh)


class TVSynthesisFISTA:
    """ISTA / FISTA on the synthesis form; returns analysis iterates ``z = L u``.

    Parameters
    ----------
    accelerated : bool
        FISTA (True) or ISTA (False).
    step : float
        Step size as a multiple of 1/‖HL‖² (> 0).
    """

    def __init__(self, accelerated=True, step=1.0):
        self.accelerated = accelerated
        self.step = step

    def solve(self, H, X, lmbd, n_iter, z0=None, callback=None):
        """Run ``n_iter`` iterations from ``z0`` (default 0); returns Z (B, n).

        ``callback(k, z)``, if given, is called after each iteration k = 1..n_iter with z = Lu.
        """
        check_choice("accelerated", self.accelerated, (False, True))
        check_real("step", self.step, low=0.0, low_open=True)
        n_iter = check_int("n_iter", n_iter, low=0)
        H, X, lam = check_tv_inputs(H, X, lmbd)
        n = H.shape[1]
        u = torch.zeros(X.shape[0], n, dtype=H.dtype) if z0 is None else \
            to_synthesis(check_tensor("z0", z0, ndim=2, shape=(X.shape[0], n), dtype=H.dtype))
        W_x, W_u, alpha = synthesis_ista_weights(H, self.step)
        bias = X @ W_x
        thresh = alpha * lam * synthesis_weights(n, H.dtype)
        y, t = u, 1.0
        with torch_single_thread():
            for it in range(n_iter):
                u_new = synthesis_layer(y, bias, W_u, thresh)
                if self.accelerated:
                    t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2
                    y = u_new + (t - 1) / t_new * (u_new - u)
                    t = t_new
                else:
                    y = u_new
                u = u_new
                if callback is not None:
                    callback(it + 1, to_analysis(u))
        return to_analysis(u)
