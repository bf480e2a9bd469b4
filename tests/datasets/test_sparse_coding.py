"""Sparse-coding data sets for the Lasso: compressed sensing, equiregularized, digits."""
import numpy as np
import pytest
import torch

from l2obench.datasets.sparse_coding import load_digits_coding, make_compressed_sensing, make_equiregularized
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
