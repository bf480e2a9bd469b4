"""Seeded generators for TV deconvolution: fMRI-like series, the paper's simulation, the HRF."""
import numpy as np
import pytest
import torch

from l2obench.datasets.tv_deconvolution import (canonical_hrf, check_fmri_like, check_tv_synthetic, make_fmri_like,
                                                make_tv_synthetic)


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


@pytest.mark.parametrize("call, name", [
    (lambda: make_fmri_like(n_train=8, n_test=8, n_times=20, hrf_frames=0), "hrf_frames"),  # was "n_times"
    (lambda: make_fmri_like(n_train=8, n_test=8, n_times=20, tr=0.0), "tr"),
    (lambda: make_fmri_like(n_train=8, n_test=8, n_times=20, seed=-1), "seed"),
    (lambda: make_tv_synthetic(n_train=8, n_test=8, seed=-1), "seed"),
    (lambda: check_fmri_like(8, 8, 1), "n_times"),
    (lambda: check_tv_synthetic(8, 8, 8, 0), "n_measurements"),
])
def test_checks_name_the_parameter_itself(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()
    check_fmri_like(10**9, 10**9, 10**6)        # checks alone generate nothing
    check_tv_synthetic(10**9, 10**9, 10**6, 10**6)
