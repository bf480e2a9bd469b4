"""Metrics shared by every problem family (one definition each)."""
import torch


def nmse(Z, Z_true):
    r"""Normalised MSE over a set (ratio of sums) :math:`\sum\|\hat z - z^\star\|^2 / \sum\|z^\star\|^2`."""
    return float(((Z - Z_true) ** 2).sum() / (Z_true ** 2).sum())


def nmse_db(Z, Z_true):
    r""":func:`nmse` in dB, :math:`10\log_{10}` of the ratio of sums."""
    err = ((Z - Z_true) ** 2).sum()
    ref = (Z_true ** 2).sum()
    return float(10 * torch.log10(err / ref))


def relative_error(x, x_true):
    """Per-row :math:`\\|x - x^\\star\\| / \\|x^\\star\\|`."""
    return (x - x_true).norm(dim=1) / x_true.norm(dim=1).clamp_min(1e-300)
