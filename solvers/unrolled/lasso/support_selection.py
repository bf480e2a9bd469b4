"""Soft-thresholding with support selection (Chen et al. NeurIPS 2018), shared by LISTA-CPSS,
TiLISTA, ALISTA and HyperLISTA."""
import torch

from l2obench.objectives.prox import soft_threshold


def support_selection_fraction(k, p_per_layer=1.2, p_max=13.0):
    """Fraction of entries that bypass the threshold at layer ``k`` (0-based), Chen et al. 2018."""
    return min(p_per_layer * (k + 1), p_max) / 100.0


def shrink_ss(U, thresh, fraction):
    r"""Soft-thresholding with support selection (LISTA-CPSS, Chen et al. NeurIPS 2018).

    The ``ceil(fraction * n)`` largest entries of :math:`|u|` (per sample) that also exceed
    the threshold are kept as they are ("trusted support"); the others are soft-thresholded.
    ``fraction`` is a float or a (B, 1) tensor in [0, 1].
    """
    shrunk = soft_threshold(U, thresh)
    n = U.shape[1]
    frac = torch.as_tensor(fraction, dtype=U.dtype).reshape(-1, 1)
    if float(frac.max()) <= 0:
        return shrunk
    k_max = max(1, min(n, int(torch.ceil(frac.max() * n))))
    absu = U.detach().abs()
    top = torch.topk(absu, k_max, dim=1).values                      # (B, k_max), descending
    k_each = torch.clamp(torch.ceil(frac * n).long(), 1, k_max).expand(U.shape[0], 1)
    cut = top.gather(1, k_each - 1)                                    # k-th largest |u|
    keep = (absu >= cut) & (absu >= thresh) & (frac > 0)
    return torch.where(keep, U, shrunk)


def threshold_prox(fraction):
    """The prox of a layer: soft-thresholding, or with support selection when ``fraction`` is set,
    with the signature of :meth:`~l2obench.objectives.problem.L1Penalty.prox`."""
    if fraction is None:
        return lambda U, thresh, out=None, state=None: soft_threshold(U, thresh, out=out)
    return lambda U, thresh, out=None, state=None: shrink_ss(U, thresh, fraction)
