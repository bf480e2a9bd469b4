r"""Batched fixed-point solvers: plain (Picard) iteration and safeguarded Anderson acceleration.

Both solve :math:`z = f(z)` for a batch ``z`` of shape ``(B, ...)`` (``f`` acts on each sample
independently), stop when the worst per-sample relative residual
:math:`\|f(z) - z\| / \|f(z)\|` is at most ``tol`` (``tol = 0`` runs exactly ``max_iter``
evaluations of ``f``) and stop early, without raising, on divergence. They return
``(z, n_iter, residual)`` where ``z`` is the last (accepted) image :math:`f(z_k)` and
``n_iter`` the number of evaluations of ``f``.

**Divergence.** A non-finite iterate, or one whose norm exceeds ``blowup`` times the scale of
the start, :math:`\max(\|z_0\|, \|f(z_0)\|)` per sample, ends the solve with
``residual = inf`` (NaN if not finite): the relative residual alone would be fooled, since for a
nonexpansive map :math:`\|f(z) - z\|` stays bounded while :math:`\|f(z)\|` grows without limit,
so :math:`\|f(z) - z\| / \|f(z)\| \to 0` on an iterate running off to infinity.

**Anderson acceleration** (type II, Walker & Ni, SIAM J. Numer. Anal. 2011) keeps the last
``memory`` pairs :math:`(z_i, f(z_i))`, finds weights :math:`\alpha` with
:math:`\sum_i \alpha_i = 1` that minimise :math:`\|\sum_i \alpha_i (f(z_i) - z_i)\|` (a small
regularised least-squares problem per sample) and moves to :math:`\sum_i \alpha_i f(z_i)`.
The extrapolation is not globally convergent: on a piecewise-affine operator such as linearized
ADMM it can follow a direction along which the map is a translation, with large weights, and
run off. It is therefore *safeguarded* per sample (in the spirit of Zhang, O'Donoghue & Boyd,
SIAM J. Optim. 2020, and SCS's safeguard): a mixed point whose residual
:math:`\|f(z) - z\|` exceeds ``safeguard`` times the smallest residual of the sample so far is
rejected, the memory of that sample restarts from the last accepted pair and the next point is
that pair's plain image :math:`f(z)`. A plain step is always accepted, so at worst the method
alternates plain steps with rejected mixed points; a rejection costs no extra evaluation of
``f``. Every accepted mixed point thus has a residual within ``safeguard`` of the best one,
which keeps the extrapolation from running off along such a direction.
"""
import torch

BLOWUP = 1e8


def _norms(t):
    return t.flatten(1).norm(dim=1)


def relative_residual(fz, z):
    """Worst per-sample :math:`\\|f(z) - z\\| / \\|f(z)\\|` over the batch (NaN if not finite)."""
    return _check(fz, z, None, float("inf"), 0.0)[1]


def _check(fz, z, scale, blowup, tol, r=None):
    """``(stop, residual)`` of the image ``fz`` of ``z``: the worst relative residual; NaN (stop)
    if not finite, inf (stop) if blown up (``||f(z)|| > blowup * scale`` for a sample), stop if
    ``<= tol`` with ``tol > 0``. ``r``: the per-sample ``||f(z) - z||`` if already computed."""
    if not fz.shape[0]:
        return tol > 0, 0.0
    fz_norm = _norms(fz)
    rel = (_norms(fz - z) if r is None else r) / fz_norm.clamp_min(torch.finfo(fz.dtype).tiny)
    if scale is None:
        res, growth = float(rel.max()), 0.0
    else:                   # one synchronisation for both tests
        res, growth = torch.stack([rel.max(), (fz_norm / scale).max()]).tolist()
    if res != res:
        return True, float("nan")
    if growth > blowup:
        return True, float("inf")
    return tol > 0 and res <= tol, res


def _start_scale(z0, fz0):
    """Per-sample :math:`\\max(\\|z_0\\|, \\|f(z_0)\\|)`, the reference of the blow-up test."""
    return torch.maximum(_norms(z0), _norms(fz0)).clamp_min(torch.finfo(fz0.dtype).tiny)


def plain_iteration(f, z0, *, tol, max_iter, blowup=BLOWUP):
    """Iterate ``z <- f(z)`` at most ``max_iter`` times."""
    z, res, scale = z0, float("nan"), None
    for k in range(1, max_iter + 1):
        fz = f(z)
        if scale is None:
            scale = _start_scale(z0, fz)
        if tol > 0 or k == max_iter:  # with tol = 0 only the last residual is computed
            stop, res = _check(fz, z, scale, blowup, tol)
            if stop or k == max_iter:
                return fz, k, res
        z = fz
    return z, max_iter, res


def _where(mask, a, b):
    return torch.where(mask.reshape(-1, *([1] * (a.ndim - 1))), a, b)


def anderson(f, z0, *, tol, max_iter, memory=5, reg=1e-10, safeguard=1.0, blowup=BLOWUP):
    """Safeguarded Anderson-accelerated iteration of ``f`` with ``memory`` past iterates.

    ``reg`` regularises the least-squares problem (relative to its largest diagonal entry);
    ``safeguard`` (>= 1; ``inf`` gives the unsafeguarded method) is the factor over the smallest
    residual so far beyond which a mixed point is rejected; ``blowup``: see the module doc.
    """
    batch, shape = z0.shape[0], z0.shape
    xs, fs, valid = [], [], []           # memory: (B, N) pairs and (B,) masks of usable entries
    z, mixed_point = z0, torch.zeros(batch, dtype=torch.bool, device=z0.device)
    z_acc = fz_acc = r_acc = r_best = scale = None
    res = float("nan")
    for k in range(1, max_iter + 1):
        fz = f(z)
        r = _norms(fz - z)
        if scale is None:
            scale = _start_scale(z0, fz)
            z_acc, fz_acc, r_acc, r_best = z, fz, r, r
            reject = torch.zeros_like(mixed_point)
        else:
            # a mixed point whose residual exceeds safeguard x the best one so far (or is not
            # finite) is rejected; a plain step never is
            reject = mixed_point & ~(r <= safeguard * r_best)
            z_acc, fz_acc = _where(~reject, z, z_acc), _where(~reject, fz, fz_acc)
            r_acc = torch.where(reject, r_acc, r)
            r_best = torch.minimum(r_best, r_acc)
        stop, res = _check(fz_acc, z_acc, scale, blowup, tol, r_acc)
        if stop or k == max_iter:
            return fz_acc, k, res
        valid = [v & ~reject for v in valid]          # a rejected sample restarts its memory
        xs.append(z_acc.reshape(batch, -1))
        fs.append(fz_acc.reshape(batch, -1))
        valid.append(torch.ones_like(mixed_point))
        if len(xs) > memory:
            xs.pop(0)
            fs.pop(0)
            valid.pop(0)
        F = torch.stack(fs, 1)
        G = F - torch.stack(xs, 1)                                      # (B, m, N) residuals
        mask = torch.stack(valid, 1).to(G.dtype)                        # (B, m)
        eye = torch.eye(len(xs), dtype=G.dtype, device=G.device)
        H = (G @ G.transpose(1, 2)) * (mask[:, :, None] * mask[:, None, :])
        H = H + (reg * H.diagonal(dim1=1, dim2=2).amax(-1)[:, None, None] * mask[:, :, None] +
                 (1.0 - mask)[:, :, None]) * eye                         # unit rows on unused entries
        alpha, info = torch.linalg.solve_ex(H, mask[:, :, None])
        alpha = alpha / alpha.sum(1, keepdim=True)
        mixed = (alpha.transpose(1, 2) @ F).reshape(shape)
        ok = (info == 0) & torch.isfinite(mixed.flatten(1)).all(1) & (mask.sum(1) > 1)   # else f(z)
        z, mixed_point = _where(ok, mixed, fz_acc), ok
    return z, max_iter, res       # max_iter = 0: z0
