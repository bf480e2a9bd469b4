"""Sparse-coding data sets for the Lasso: compressed sensing, equiregularized, digits."""
import numpy as np
import pytest
import torch

from l2obench.datasets.sparse_coding import (check_compressed_sensing, check_digits_coding, check_equiregularized,
                                             load_digits_coding, make_compressed_sensing, make_equiregularized)
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
])
def test_checks_name_the_parameter_without_generating_data(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()
    # the checks alone cost nothing, whatever the sizes (benchopt adapters call them at creation)
    check_compressed_sensing(10**9, 10**9, 10**6, 10**6, 0.1)
    check_equiregularized(10**9, 10**9, 10**6, 10**6)
