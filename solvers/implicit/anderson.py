r"""Batched fixed-point solvers: plain (Picard) iteration and Anderson acceleration.

Both solve :math:`z = f(z)` for a batch ``z`` of shape ``(B, ...)``, stop when the worst
per-sample relative residual :math:`\|f(z) - z\| / \|f(z)\|` is at most ``tol`` (``tol = 0``
runs exactly ``max_iter`` evaluations of ``f``) and stop early, without raising, on NaN/Inf.
They return ``(z, n_iter, residual)`` where ``z`` is the last image :math:`f(z_{k})`.

Anderson acceleration (type II, Walker & Ni, SIAM J. Numer. Anal. 2011) keeps the last
``memory`` pairs :math:`(z_i, f(z_i))`, finds weights :math:`\alpha` with
:math:`\sum_i \alpha_i = 1` that minimise :math:`\|\sum_i \alpha_i (f(z_i) - z_i)\|` (a small
regularised least-squares problem per sample) and moves to :math:`\sum_i \alpha_i f(z_i)`.
"""
import torch


def relative_residual(fz, z):
    """Worst per-sample :math:`\\|f(z) - z\\| / \\|f(z)\\|` over the batch (NaN if not finite)."""
    diff = (fz - z).flatten(1).norm(dim=1)
    scale = fz.flatten(1).norm(dim=1).clamp_min(torch.finfo(fz.dtype).tiny)
    res = float((diff / scale).max()) if fz.shape[0] else 0.0
    return res


def _done(res, tol):
    return not res == res or res <= tol or res == float("inf")  # NaN, converged or Inf


def plain_iteration(f, z0, *, tol, max_iter):
    """Iterate ``z <- f(z)`` at most ``max_iter`` times."""
    z, res = z0, float("nan")
    for k in range(1, max_iter + 1):
        fz = f(z)
        if tol > 0 or k == max_iter:  # with tol = 0 only the last residual is computed
            res = relative_residual(fz, z)
            if _done(res, tol):
                return fz, k, res
        z = fz
    return z, max_iter, res


def anderson(f, z0, *, tol, max_iter, memory=5, reg=1e-10):
    """Anderson-accelerated iteration of ``f`` with ``memory`` past iterates."""
    batch, shape = z0.shape[0], z0.shape
    xs, fs = [], []
    z, res = z0, float("nan")
    for k in range(1, max_iter + 1):
        fz = f(z)
        res = relative_residual(fz, z)
        if _done(res, tol):
            return fz, k, res
        xs.append(z.reshape(batch, -1))
        fs.append(fz.reshape(batch, -1))
        if len(xs) > memory:
            xs.pop(0)
            fs.pop(0)
        F = torch.stack(fs, 1)
        G = F - torch.stack(xs, 1)                                      # (B, m, N) residuals
        H = G @ G.transpose(1, 2)
        H = H + reg * H.diagonal(dim1=1, dim2=2).amax(-1)[:, None, None] * torch.eye(
            len(xs), dtype=H.dtype, device=H.device)
        ones = torch.ones(batch, len(xs), 1, dtype=H.dtype, device=H.device)
        alpha, info = torch.linalg.solve_ex(H, ones)
        alpha = alpha / alpha.sum(1, keepdim=True)
        mixed = (alpha.transpose(1, 2) @ F).reshape(shape)
        ok = (info == 0) & torch.isfinite(mixed.flatten(1)).all(1)      # fall back to f(z)
        z = torch.where(ok.reshape(-1, *([1] * (len(shape) - 1))), mixed, fz)
    return z, max_iter, res
