r"""Condat's direct algorithm for the exact 1-D TV prox, compiled with numba, batched over rows.

.. math:: \mathrm{prox}_{\lambda TV}(y) = \arg\min_z \tfrac12\|y - z\|_2^2 + \lambda\|\nabla z\|_1

L. Condat, "A direct algorithm for 1D total variation denoising", IEEE Signal Processing
Letters 20(11), 2013. One forward pass per signal, O(n) in practice: the solution is built
segment by segment, keeping for the current segment (which starts at ``k0``) the lowest and
the highest value it may still take (``vmin`` ≤ ``vmax``) and the running sums of the dual
residual under each (``umin``, ``umax``, the taut-string view: the dual variable must stay in
[−λ, λ]). When one of the two bounds is violated by the next sample, the segment up to the
last point where the other bound was tight (``kminus`` / ``kplus``) is final: it is written
and the scan restarts after it. Each segment is written once with one value, so the solution
is exactly piecewise constant and its jumps (the support of ∇z, with their signs) are the
active set of the dual, from which :mod:`~l2obench.objectives.tv_prox` derives the Jacobian.

This module imports numba (about 0.3 s): :mod:`~l2obench.objectives.tv_prox` imports it on
first use only. Compiled code is cached on disk (``cache=True``). The loop over rows is plain
(one thread): the solvers run TV on one thread (``single_threaded``,
:mod:`l2obench.solvers.threads`).
"""
import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _fill(x, start, stop, value):
    """``x[start:stop + 1] = value``; returns ``stop + 1``, the start of the next segment."""
    for j in range(start, stop + 1):
        x[j] = value
    return stop + 1


@numba.njit(cache=True, nogil=True)
def _row(y, lam, x):
    """Condat's scan of one signal ``y`` into ``x`` (float64 1-D arrays, λ ≥ 0)."""
    n = y.shape[0]
    k = 0
    k0 = 0
    kminus = 0
    kplus = 0
    umin = lam
    umax = -lam
    vmin = y[0] - lam
    vmax = y[0] + lam
    while k0 < n:
        if k == n - 1:  # the end of the signal: close the pending segments
            if umin < 0.0:  # vmin is too high for the segment k0..kminus
                k0 = _fill(x, k0, kminus, vmin)
                k = k0
                kminus = k0
                vmin = y[k0]
                umin = lam
                umax = vmin + umin - vmax
            elif umax > 0.0:  # vmax is too low for the segment k0..kplus
                k0 = _fill(x, k0, kplus, vmax)
                k = k0
                kplus = k0
                vmax = y[k0]
                umax = -lam
                umin = vmax + umax - vmin
            else:  # the last segment: its value is fixed by the end condition
                k0 = _fill(x, k0, k, vmin + umin / (k - k0 + 1))
        else:
            umin += y[k + 1] - vmin
            jump = 0
            if umin < -lam:  # a jump down after kminus
                jump = -1
            else:
                umax += y[k + 1] - vmax
                if umax > lam:  # a jump up after kplus
                    jump = 1
            if jump != 0:
                k0 = _fill(x, k0, kminus, vmin) if jump < 0 else _fill(x, k0, kplus, vmax)
                k = k0
                kminus = k0
                kplus = k0
                if jump < 0:
                    vmin = y[k0]
                    vmax = vmin + 2.0 * lam
                else:
                    vmax = y[k0]
                    vmin = vmax - 2.0 * lam
                umin = lam
                umax = -lam
            else:  # no jump: the segment goes on, and its bounds tighten
                k += 1
                if umin >= lam:
                    kminus = k
                    vmin += (umin - lam) / (k - k0 + 1)
                    umin = lam
                if umax <= -lam:
                    kplus = k
                    vmax += (umax + lam) / (k - k0 + 1)
                    umax = -lam


@numba.njit(cache=True, nogil=True)
def _rows(y, lam, z, signs):
    """Every row of ``y`` (B, n) into ``z``, and the signs of the jumps of ``z`` (B, n−1)."""
    B, n = y.shape
    for b in range(B):
        _row(y[b], lam[b], z[b])
        for i in range(n - 1):
            d = z[b, i + 1] - z[b, i]
            signs[b, i] = 1 if d > 0 else (-1 if d < 0 else 0)


def prox_tv_condat(y, lam):
    """Exact ``prox_{lam TV}`` of each row of ``y`` (float64 (B, n), λ (B,) ≥ 0) by Condat's
    algorithm; returns ``z`` (B, n) and the jump signs of ``z`` (B, n−1, int8)."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    z = np.empty_like(y)
    signs = np.zeros((y.shape[0], max(y.shape[1] - 1, 0)), np.int8)
    _rows(y, lam, z, signs)
    return z, signs
