r"""Pass / warning / fail certificates of an inference (Heaton & Wu Fung, Sci. Rep. 2023).

Each inference gets, per property, a label from where its value falls in the distribution of that
property over the solver's own *training* inferences (the calibration set): **pass** at or below
the 68th percentile, **warning** in (68th, 95th], **fail** above the 95th. Fail follows the paper;
the 68 % band (one standard deviation of a Gaussian) is the suite's choice for warning, so that in
distribution about 68 / 27 / 5 % of the inferences pass / warn / fail and a shift shows as a larger
fail rate. A property with a known admissible bound (a hard constraint: the box, the noise ball)
is labelled against fixed thresholds instead (:func:`certify` with the bound's thresholds).
Used by every problem family with certificates (``sparse_analysis``, ``ct``).
"""
import torch

from l2obench.objectives.validation import check_real, check_tensor

CERTIFICATE_LEVELS = (68.0, 95.0)
LABELS = ("pass", "warning", "fail")


def certificate_thresholds(calibration_values, levels=CERTIFICATE_LEVELS):
    """Percentiles ``levels`` of a property over the training (calibration) inferences."""
    values = check_tensor("calibration_values", calibration_values, ndim=1, dtype=torch.float64)
    if values.numel() == 0:
        raise ValueError("calibration_values is empty: certificates need calibration inferences.")
    q = torch.tensor([check_real("levels", lvl, low=0.0, high=100.0) / 100.0 for lvl in levels],
                     dtype=torch.float64)
    return torch.quantile(values, q)


def certify(values, thresholds):
    """Labels 0 (pass), 1 (warning), 2 (fail): how many thresholds each value exceeds."""
    values = check_tensor("values", values, ndim=1, dtype=torch.float64)
    thresholds = check_tensor("thresholds", thresholds, ndim=1, dtype=torch.float64)
    return (values[:, None] > thresholds[None, :]).sum(1)


def certificate_rates(labels):
    """Share of pass / warning / fail labels."""
    if not isinstance(labels, torch.Tensor) or labels.numel() == 0:
        raise ValueError("labels must be a non-empty tensor of certificate labels (0, 1, 2).")
    return {name: float((labels == k).to(torch.float64).mean()) for k, name in enumerate(LABELS)}
