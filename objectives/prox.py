"""Proximal operators of scalar (separable) penalties; the one place they are written.

All functions are batched and differentiable with autograd, so unrolled models can learn the
thresholds through them. The exact TV prox lives in :mod:`l2obench.objectives.tv_prox`.
"""
import torch
import torch.nn.functional as F


def soft_threshold(u, thresh, out=None):
    r"""Soft-thresholding, the prox of :math:`\mu\|\cdot\|_1`.

    .. math:: \mathrm{ST}(u, \mu) = \mathrm{sign}(u)\max(|u| - \mu, 0)

    Parameters
    ----------
    u : Tensor, shape (B, n)
    thresh : float or Tensor broadcastable to ``u`` (e.g. shape (B, 1) or (n,))
        Non-negative threshold(s) :math:`\mu`.
    out : Tensor, optional
        Preallocated result (not ``u``), so that an iterative solver reuses its buffers
        instead of allocating large tensors at every iteration; not for autograd.
    """
    if isinstance(thresh, (int, float)):
        if out is not None:
            return torch.ops.aten.softshrink.out(u, float(thresh), out=out)
        return F.softshrink(u, float(thresh)) if thresh > 0 else u.clone()
    # u - clip(u, -mu, mu) equals the formula above and is two fused kernels instead of five.
    if out is not None:
        # clip as minimum then maximum: torch's clamp with broadcast tensor bounds is a slow
        # scalar loop (4x slower than the pair on (B, 1) thresholds); same values, in place
        torch.minimum(u, thresh, out=out)
        torch.maximum(out, -thresh, out=out)
        return torch.sub(u, out, out=out)
    return u - torch.clamp(u, -thresh, thresh)


def project_box(u, low=0.0, high=1.0):
    """Euclidean projection onto the box [low, high]^n (bounds may be tensors)."""
    return torch.clamp(u, low, high)


def project_ball(v, center, radius):
    """Row-wise Euclidean projection of ``v`` (B, m) onto the balls :math:`B(\\text{center}_i, \\text{radius}_i)`."""
    diff = v - center
    norm = diff.norm(dim=1, keepdim=True)
    return center + diff * torch.clamp(radius / norm.clamp_min(torch.finfo(v.dtype).tiny), max=1.0)
