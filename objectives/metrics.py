"""Metrics shared by every problem family (one definition each).

Every metric checks its inputs the same way (:func:`check_pair`): two float32 / float64 tensors
(or numpy arrays) of the same shape, non-empty and finite, and a reference with something to
normalise by. A bad pair is a ``ValueError`` naming the argument, never a silent ``inf``, ``nan``
or a broadcast over mismatched shapes. Objectives flag a diverged estimate *before* computing
its metrics (DEVELOPERS.md, *Divergence*), so a non-finite estimate reaching a metric is a bug.
"""
import torch

from l2obench.objectives.validation import check_tensor


def check_pair(estimate, reference, names=("Z", "Z_true"), ndim=None):
    """``(estimate, reference)`` as tensors of one float dtype, checked as the metrics need them.

    Parameters
    ----------
    estimate, reference : Tensor or ndarray
        Same shape, at least one entry, finite; float32 or float64 (the estimate is cast to
        the reference's dtype).
    names : (str, str)
        The arguments' names in error messages.
    ndim : int, optional
        Required number of dimensions (2 for per-row metrics).
    """
    est_name, ref_name = names
    reference = check_tensor(ref_name, reference, ndim=ndim)
    estimate = check_tensor(est_name, estimate, ndim=ndim)
    if estimate.shape != reference.shape:
        raise ValueError(f"{est_name} has shape {tuple(estimate.shape)} but {ref_name} has shape "
                         f"{tuple(reference.shape)}: a metric compares two arrays of the same shape.")
    if reference.numel() == 0:
        raise ValueError(f"{ref_name} is empty (shape {tuple(reference.shape)}): there is nothing to measure.")
    return estimate.to(reference.dtype), reference


def _ratio_of_sums(Z, Z_true):
    Z, Z_true = check_pair(Z, Z_true)
    ref = (Z_true ** 2).sum()
    if not bool(ref > 0):
        raise ValueError("Z_true is all zero: the normalised MSE is undefined (it divides by ‖Z_true‖²).")
    return ((Z - Z_true) ** 2).sum() / ref


def nmse(Z, Z_true):
    r"""Normalised MSE over a set (ratio of sums) :math:`\sum\|\hat z - z^\star\|^2 / \sum\|z^\star\|^2`."""
    return float(_ratio_of_sums(Z, Z_true))


def nmse_db(Z, Z_true):
    r""":func:`nmse` in dB, :math:`10\log_{10}` of the ratio of sums (``-inf`` for an exact estimate)."""
    return float(10 * torch.log10(_ratio_of_sums(Z, Z_true)))


def relative_error(x, x_true):
    """Per-row :math:`\\|x - x^\\star\\| / \\|x^\\star\\|` of (B, n) batches; a zero row of ``x_true`` is an error."""
    x, x_true = check_pair(x, x_true, names=("x", "x_true"), ndim=2)
    norms = x_true.norm(dim=1)
    zero = torch.nonzero(norms == 0).flatten()
    if len(zero):
        raise ValueError(f"x_true has {len(zero)} all-zero row(s) (first: row {int(zero[0])}): "
                         "their relative error is undefined.")
    return (x - x_true).norm(dim=1) / norms
