"""Sparse-coding data sets for the Lasso: compressed sensing, equiregularized, digits."""
import numpy as np
import pytest
import torch

from l2obench.datasets.sparse_coding import (check_compressed_sensing, check_digits_coding, check_equiregularized,
                                             load_digits_coding, make_compressed_sensing, make_equiregularized,
                                             shifted_compressed_sensing)
from l2obench.objectives.lasso import lambda_max


def test_compressed_sensing_matches_published_setting():
    data = make_compressed_sensing(n_train=2000, n_test=10, seed=0)
    assert data.D.shape == (250, 500)
    torch.testing.assert_close(data.D.norm(dim=0), torch.ones(500, dtype=torch.float64))
    assert abs(float((data.Z_train != 0).double().mean()) - 0.1) < 0.005
    torch.testing.assert_close(data.X_train, data.Z_train @ data.D.T)
    noisy = make_compressed_sensing(n_train=2000, n_test=10, snr=20.0, seed=0)
    noise = noisy.X_train - noisy.Z_train @ noisy.D.T
    snr = 20 * np.log10(float(data.X_train.std() / noise.std()))
    assert snr == pytest.approx(20.0, abs=0.3)


@pytest.mark.parametrize("make", [
    lambda seed: make_equiregularized(50, 20, seed=seed),
    lambda seed: load_digits_coding(50, 20, seed=seed),
])
def test_equiregularized_sets_have_lambda_max_one(make):
    data = make(0)
    assert data.D.shape == (64, 256)
    torch.testing.assert_close(lambda_max(data.D, data.X_test), torch.ones(20, dtype=torch.float64))
    assert data.X_train.shape == (50, 64) and data.X_test.shape == (20, 64)
    torch.testing.assert_close(make(0).X_test, data.X_test)   # same seed, same data
    assert not torch.equal(make(1).X_test, data.X_test)      # another seed, other data


def test_digits_split_is_disjoint_and_bounded():
    data = load_digits_coding(100, 50, seed=0)
    rows = {tuple(np.round(x.numpy(), 12)) for x in data.X_train}
    assert not rows & {tuple(np.round(x.numpy(), 12)) for x in data.X_test}
    with pytest.raises(ValueError, match="n_train"):
        load_digits_coding(n_train=5000, n_test=10)


def test_digits_name_the_size_that_does_not_fit():
    # n_atoms beyond the 1797 images: the error used to name n_train
    with pytest.raises(ValueError, match=r"^n_atoms=2000 is too large: the 1797 digit images"):
        load_digits_coding(n_train=10, n_test=10, n_atoms=2000)
    with pytest.raises(ValueError, match=r"^n_train=1600 is too large.*at most 1540 for n_train"):
        load_digits_coding(n_train=1600, n_test=10, n_atoms=256)
    with pytest.raises(ValueError, match=r"^n_test=300 is too large.*at most 41 for n_test"):
        load_digits_coding(n_train=1500, n_test=300, n_atoms=256)
    data = load_digits_coding(n_train=1500, n_test=41, n_atoms=256)    # every image used once
    assert data.X_train.shape[0] + data.X_test.shape[0] + data.D.shape[1] == 1797


@pytest.mark.parametrize("call, name", [
    (lambda: check_compressed_sensing(64, 0, 20, 40, 0.1), "n_test"),
    (lambda: check_compressed_sensing(64, 16, 20, 40, 0.0), "p"),
    (lambda: check_compressed_sensing(64, 16, 20, 40, 0.1, snr=float("nan")), "snr"),
    (lambda: check_equiregularized(64, 16, 0, 32), "n_dim"),
    (lambda: check_digits_coding(64, 16, 0), "n_atoms"),
    (lambda: make_compressed_sensing(8, 8, 4, 8, seed=-1), "seed"),    # numpy's message named no parameter
    (lambda: make_equiregularized(8, 8, 4, 8, seed=1.5), "seed"),
    (lambda: load_digits_coding(8, 8, 16, seed=-3), "seed"),
    (lambda: check_compressed_sensing(64, 16, 20, 40, 0.1, test_set="ood"), "test_set"),
    (lambda: make_compressed_sensing(8, 8, 4, 8, test_set="Shifted"), "test_set"),
])
def test_checks_name_the_parameter_without_generating_data(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()
    # the checks alone cost nothing, whatever the sizes (benchopt adapters call them at creation)
    check_compressed_sensing(10**9, 10**9, 10**6, 10**6, 0.1)
    check_equiregularized(10**9, 10**9, 10**6, 10**6)


FIELDS = ("D", "X_train", "Z_train", "X_test", "Z_test")


@pytest.mark.parametrize("snr", [None, 20.0])
def test_compressed_sensing_shifted_test_set_changes_the_test_split_only(snr):
    make = lambda **kw: make_compressed_sensing(600, 2000, 20, 40, p=0.1, snr=snr, seed=1, **kw)  # noqa: E731
    default, same, shifted = make(), make(test_set="in-distribution"), make(test_set="shifted")
    for field in FIELDS:
        assert torch.equal(getattr(default, field), getattr(same, field)), field
    for field in FIELDS[:3]:  # the dictionary and the training split: bit for bit (one training, cached)
        assert torch.equal(getattr(default, field), getattr(shifted, field)), field
    for field in FIELDS[3:]:
        assert getattr(shifted, field).shape == getattr(default, field).shape
        assert not torch.equal(getattr(default, field), getattr(shifted, field)), field
    # the shift: twice the support density, the same noise σ
    assert shifted_compressed_sensing(0.1) == 0.2 and shifted_compressed_sensing(0.7) == 1.0
    for d, p in ((default, 0.1), (shifted, 0.2)):
        assert float((d.Z_test != 0).double().mean()) == pytest.approx(p, abs=0.01)
    noise = [d.X_test - d.Z_test @ d.D.T for d in (default, shifted)]
    if snr is None:
        assert all(float(n.abs().max()) < 1e-12 for n in noise)
    else:
        assert float(noise[1].std()) == pytest.approx(float(noise[0].std()), rel=0.05)


def test_compressed_sensing_in_distribution_draws_are_the_stream_they_always_were():
    """The generator as it was before ``test_set`` existed, written out: the in-distribution data
    (what every existing result row was computed on) come from the same draws."""
    rng = np.random.default_rng(2)
    D = rng.normal(0.0, 1.0 / np.sqrt(20), size=(20, 40))
    D /= np.linalg.norm(D, axis=0, keepdims=True)
    Z = (rng.random((50, 40)) < 0.2) * rng.standard_normal((50, 40))
    X = Z @ D.T
    X = X + rng.standard_normal(X.shape) * X.std() * 10 ** (-20.0 / 20)
    data = make_compressed_sensing(40, 10, 20, 40, p=0.2, snr=20.0, seed=2)
    assert torch.equal(data.D, torch.from_numpy(D))
    assert torch.equal(torch.cat([data.X_train, data.X_test]), torch.from_numpy(X))
    assert torch.equal(torch.cat([data.Z_train, data.Z_test]), torch.from_numpy(Z))
