"""Seeded generators for TV deconvolution: fMRI-like series, the paper's simulation, the HRF, the
shifted test sets."""
import numpy as np
import pytest
import torch

from l2obench.datasets.tv_deconvolution import (canonical_hrf, check_fmri_like, check_tv_synthetic, convolution_matrix,
                                                make_fmri_like, make_tv_synthetic, neural_activity, shifted_fmri_like,
                                                shifted_tv_synthetic)

FIELDS = ("H", "X_train", "Z_train", "X_test", "Z_test")


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


@pytest.mark.parametrize("make", [
    lambda **kw: make_tv_synthetic(30, 20, seed=3, **kw),
    lambda **kw: make_tv_synthetic(30, 20, 100, 50, seed=7, dtype="float32", **kw),
    lambda **kw: make_fmri_like(30, 20, n_times=60, seed=5, **kw),
    lambda **kw: make_fmri_like(30, 20, n_times=60, design="block", snr=5.0, seed=2, **kw),
])
def test_shifted_test_set_changes_the_test_split_only(make):
    default, same, shifted = make(), make(test_set="in-distribution"), make(test_set="shifted")
    for field in FIELDS:
        assert torch.equal(getattr(default, field), getattr(same, field)), field
    for field in FIELDS[:3]:  # the operator and the training split: bit for bit (one training, cached)
        assert torch.equal(getattr(default, field), getattr(shifted, field)), field
    for field in FIELDS[3:]:
        assert getattr(shifted, field).shape == getattr(default, field).shape
        assert getattr(shifted, field).dtype == getattr(default, field).dtype
        assert not torch.equal(getattr(default, field), getattr(shifted, field)), field
    assert torch.equal(make(test_set="shifted").X_test, shifted.X_test)  # seeded too


def test_in_distribution_draws_are_the_stream_they_always_were():
    """The generators as they were before ``test_set`` existed, written out: the in-distribution
    data (what every existing result row was computed on) come from the same draws."""
    rng = np.random.default_rng(3)
    H = rng.standard_normal((5, 8)) / np.sqrt(5)
    U = rng.standard_normal((50, 8)) * (rng.random((50, 8)) < 0.3)
    U[:, 0] = rng.standard_normal(50)
    Z = np.cumsum(U, axis=1)
    X = Z @ H.T + 0.1 / np.sqrt(5) * rng.standard_normal((50, 5))
    syn = make_tv_synthetic(30, 20, seed=3)
    assert torch.equal(syn.H, torch.from_numpy(H))
    assert torch.equal(torch.cat([syn.X_train, syn.X_test]), torch.from_numpy(X))
    assert torch.equal(torch.cat([syn.Z_train, syn.Z_test]), torch.from_numpy(Z))

    rng = np.random.default_rng(5)
    H = convolution_matrix(canonical_hrf(), 60)
    Z = neural_activity(rng, 50, 60, "mixed")
    clean = Z @ H.T
    power = np.maximum((clean ** 2).mean(axis=1, keepdims=True), 1e-12)
    X = clean + rng.standard_normal(clean.shape) * np.sqrt(power / 10 ** (10.0 / 10))
    fmri = make_fmri_like(30, 20, n_times=60, seed=5)
    assert torch.equal(torch.cat([fmri.X_train, fmri.X_test]), torch.from_numpy(X))
    assert torch.equal(torch.cat([fmri.Z_train, fmri.Z_test]), torch.from_numpy(Z))


def _snr_db(d):
    clean = d.Z_test @ d.H.T
    return 10 * np.log10(float((clean ** 2).mean() / ((d.X_test - clean) ** 2).mean()))


def _longest_plateau(Z):
    """Frames of the longest non-zero constant run over the rows of ``Z``."""
    return max(len(run) for z in Z.numpy() for run in np.split(z, np.flatnonzero(np.diff(z)) + 1) if run[0] != 0)


def test_the_shifts():
    assert shifted_tv_synthetic(0.3, 0.1) == (0.6, 0.2)
    assert shifted_tv_synthetic(0.7, 0.0) == (1.0, 0.0)  # a probability: capped
    assert shifted_fmri_like("mixed", 10.0) == ("event", 3.0)
    assert shifted_fmri_like("block", 10.0)[0] == "event" and shifted_fmri_like("event", 10.0)[0] == "block"
    # tv-synthetic: the shifted test signals jump twice as often, their noise is twice as large
    data, shifted = make_tv_synthetic(20, 4000, seed=0), make_tv_synthetic(20, 4000, seed=0, test_set="shifted")
    for d, rate, noise in ((data, 0.3, 0.1), (shifted, 0.6, 0.2)):
        jumps = float((torch.diff(d.Z_test, dim=1) != 0).double().mean())
        sigma = float((d.X_test - d.Z_test @ d.H.T).std()) * np.sqrt(5)  # entries N(0, noise² / m), m = 5
        assert jumps == pytest.approx(rate, abs=0.02) and sigma == pytest.approx(noise, rel=0.05)
    # fmri-like (mixed → event, 10 → 3 dB): only short bursts (1-3 frames) in the shifted test set
    data = make_fmri_like(20, 200, n_times=80, seed=1)
    shifted = make_fmri_like(20, 200, n_times=80, seed=1, test_set="shifted")
    assert _snr_db(data) == pytest.approx(10.0, abs=0.5) and _snr_db(shifted) == pytest.approx(3.0, abs=0.5)
    assert _longest_plateau(data.Z_test) >= 10 and _longest_plateau(shifted.Z_test) <= 6  # bursts may touch


@pytest.mark.parametrize("call", [
    lambda: check_tv_synthetic(8, 8, 8, 5, test_set="ood"),
    lambda: check_fmri_like(8, 8, 20, test_set="shifted-test"),
    lambda: make_tv_synthetic(8, 8, test_set=None),
    lambda: make_fmri_like(8, 8, n_times=20, test_set="Shifted"),
])
def test_a_bad_test_set_names_the_parameter_and_the_choices(call):
    with pytest.raises(ValueError, match=r"^test_set=.*not allowed; choose one of \['in-distribution', 'shifted'\]"):
        call()
