"""Certificates: percentile thresholds from calibration inferences, labels, rates, bad input."""
import math

import pytest
import torch

from l2obench.objectives.certificates import certificate_rates, certificate_thresholds, certify


def test_certificates_flag_the_tail_and_a_shift():
    g = torch.Generator().manual_seed(0)
    calib = torch.randn(4000, generator=g, dtype=torch.float64).abs()
    thresholds = certificate_thresholds(calib)
    same = certificate_rates(certify(torch.randn(4000, generator=g, dtype=torch.float64).abs(), thresholds))
    assert abs(same["fail"] - 0.05) < 0.02 and abs(same["warning"] - 0.27) < 0.04
    shifted = certificate_rates(certify(3 * torch.randn(4000, generator=g, dtype=torch.float64).abs(), thresholds))
    assert shifted["fail"] > 0.5
    assert sorted(certify(torch.tensor([0.0, float(thresholds[0]) + 1e-9, 1e9]), thresholds).tolist()) == [0, 1, 2]


def test_fixed_thresholds_label_a_hard_constraint():
    # a bound known in advance (the noise ball of CT): pass at or below it, warning up to the second
    labels = certify(torch.tensor([0.5, 1.0, 1.02, 1.2], dtype=torch.float64), torch.tensor([1.0, 1.05]))
    assert labels.tolist() == [0, 0, 1, 2]
    assert certificate_rates(labels) == {"pass": 0.5, "warning": 0.25, "fail": 0.25}


@pytest.mark.parametrize("call, match", [
    (lambda: certificate_thresholds(torch.zeros(0)), "calibration_values is empty"),
    (lambda: certificate_thresholds(torch.tensor([1.0, math.nan])), "calibration_values contains NaN"),
    (lambda: certificate_thresholds(torch.ones(3), levels=(50.0, 120.0)), "levels"),
    (lambda: certify(torch.ones(3, 2), torch.ones(2)), "values must have 1 dimensions"),
    (lambda: certificate_rates(torch.zeros(0)), "labels must be a non-empty tensor"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
