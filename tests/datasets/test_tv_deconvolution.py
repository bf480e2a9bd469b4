"""Seeded generators for TV deconvolution: fMRI-like series, the paper's simulation, the HRF."""
import numpy as np
import pytest
import torch

from l2obench.datasets.tv_deconvolution import canonical_hrf, make_fmri_like, make_tv_synthetic


def test_generators_are_seeded_and_shaped():
    a, b = make_fmri_like(7, 3, n_times=60, seed=5), make_fmri_like(7, 3, n_times=60, seed=5)
    assert torch.equal(a.X_train, b.X_train) and a.X_test.shape == (3, 60) and a.H.shape == (60, 60)
    assert not torch.equal(a.X_train, make_fmri_like(7, 3, n_times=60, seed=6).X_train)
    z = a.Z_train
    assert float((torch.diff(z, dim=1) != 0).float().mean()) < 0.3  # piecewise constant
    syn = make_tv_synthetic(4, 2, seed=0)
    assert syn.H.shape == (5, 8) and syn.X_train.shape == (4, 5)
    assert make_tv_synthetic(4, 2, seed=0, dtype="float32").X_train.dtype == torch.float32


def test_canonical_hrf():
    h = canonical_hrf()
    assert h.shape == (20,) and np.isclose(np.linalg.norm(h), 1.0)
    t_peak = np.argmax(h) * 0.735
    assert 4.0 < t_peak < 6.0  # gamma(6) density peaks at 5 s
    long = canonical_hrf(n_times=40)
    assert long.min() < 0 and 13.0 < np.argmin(long) * 0.735 < 17.0  # undershoot


@pytest.mark.parametrize("call, name", [
    (lambda: make_fmri_like(n_train=0), "n_train"),
    (lambda: make_fmri_like(design="blocks"), "design"),
    (lambda: make_tv_synthetic(p_jump=1.5), "p_jump"),
    (lambda: make_tv_synthetic(dtype="float16"), "dtype"),
    (lambda: canonical_hrf(tr=-1.0), "tr"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()
