r"""ISTA and FISTA for the batched Lasso (one implementation, an acceleration flag).

ISTA (Daubechies et al. 2004) iterates, with step :math:`\alpha = s / L`, :math:`L = \|D\|_2^2`,

.. math:: z_{k+1} = \mathrm{ST}\big(z_k - \alpha D^\top(Dz_k - x),\ \lambda\alpha\big)
              = \mathrm{ST}\big(W_x x + W_z z_k,\ \lambda\alpha\big),

with :math:`W_x = \alpha D^\top`, :math:`W_z = I - \alpha D^\top D`: a LISTA layer with analytic
weights (Gregor & LeCun 2010). FISTA (Beck & Teboulle 2009) applies the step at the
extrapolated point :math:`y_k = z_k + \frac{t_{k-1} - 1}{t_k}(z_k - z_{k-1})`.

Two algebraically equal forms are used for speed: the Gram form (one (B,n)×(n,n) product per
iteration) when :math:`n < 2m`, else the residual form (two (B,n)×(n,m) products). Both fuse
the affine part into ``addmm`` so that an iteration costs its matrix products plus two
element-wise kernels (``benchmarks/lasso/speed.py`` measures the ratio).
"""
import math

import torch

from l2obench.objectives.lasso import check_lasso_inputs, lipschitz
from l2obench.objectives.validation import check_choice, check_int, check_real, check_tensor
from l2obench.solvers.prox import soft_threshold


def ista_weights(D, step=1.0):
    r"""Analytic weights of one ISTA step in row form: ``(W_x, W_z)``.

    ``W_x = α D`` (m, n) and ``W_z = I − α DᵀD`` (n, n) with α = step / ‖D‖₂², so that
    ``ista_step(Z, X @ W_x, W_z, λα)`` is one ISTA iteration.
    """
    alpha = step / lipschitz(D)
    W_z = torch.eye(D.shape[1], dtype=D.dtype) - alpha * (D.T @ D)
    return alpha * D, W_z


def ista_step(Z, bias, W_z, thresh):
    r"""One ISTA / LISTA layer: :math:`\mathrm{ST}(\text{bias} + Z W_z, \theta)`."""
    return soft_threshold(torch.addmm(bias, Z, W_z), thresh)


class ISTA:
    """ISTA / FISTA on a batch of Lasso problems.

    Parameters
    ----------
    accelerated : bool
        Use FISTA's momentum.
    step : float
        Step size as a multiple of 1/L (> 0). Values above 2 make ISTA diverge; they are
        allowed so that divergence can be observed (the objective flags it).
    form : {'auto', 'gram', 'residual'}
        How the gradient is computed; 'auto' picks the Gram form when n < 2m.
    """

    def __init__(self, accelerated=False, step=1.0, form="auto"):
        self.accelerated = accelerated
        self.step = step
        self.form = form

    def _check(self):
        check_real("step", self.step, low=0.0, low_open=True)
        check_choice("form", self.form, ("auto", "gram", "residual"))
        check_choice("accelerated", self.accelerated, (False, True))

    def solve(self, D, X, lmbd, n_iter, z0=None):
        """Run ``n_iter`` iterations from ``z0`` (default 0); returns Z (B, n)."""
        self._check()
        n_iter = check_int("n_iter", n_iter, low=0)
        D, X, lam = check_lasso_inputs(D, X, lmbd)
        m, n = D.shape
        z = torch.zeros(X.shape[0], n, dtype=D.dtype) if z0 is None else \
            check_tensor("z0", z0, ndim=2, shape=(X.shape[0], n), dtype=D.dtype).clone()
        alpha = self.step / float(lipschitz(D))
        thresh = lam * alpha
        if bool((thresh == thresh[0]).all()):
            thresh = float(thresh[0])  # one threshold for all: a single fused softshrink
        gram = self.form == "gram" or (self.form == "auto" and n < 2 * m)
        # preallocated buffers: at B·n ≈ 10⁶ fresh allocations cost as much as the element-wise work
        u, z_new = torch.empty_like(z), torch.empty_like(z)
        if gram:
            W_z = torch.eye(n, dtype=D.dtype) - alpha * (D.T @ D)
            bias = alpha * (X @ D)
            affine = lambda y: torch.addmm(bias, y, W_z, out=u)  # noqa: E731
        else:
            Dt, r = D.T.contiguous(), torch.empty_like(X)
            affine = lambda y: torch.addmm(y, torch.addmm(X, y, Dt, beta=-1, out=r), D,  # noqa: E731
                                           alpha=-alpha, out=u)

        y, t = (z.clone() if self.accelerated else z), 1.0
        for _ in range(n_iter):
            soft_threshold(affine(y), thresh, out=z_new)
            if self.accelerated:
                t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2
                # y = z_new + β (z_new − z): lerp from z with weight 1 + β, one kernel
                torch.lerp(z, z_new, 1 + (t - 1) / t_new, out=y)
                t = t_new
                z, z_new = z_new, z
            else:
                z, z_new = z_new, z
                y = z
        return z
