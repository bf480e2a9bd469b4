"""Natural-image patches on a learned dictionary (the out-of-distribution Lasso), from scikit-image's
bundled images only."""
import socket

import numpy as np
import pytest
import torch

from l2obench.datasets.image_patches import (TEST_IMAGES, TRAIN_IMAGES, check_image_patch_lasso, grey_image,
                                             image_patch_lasso, normalised_patches, patch_dictionary)


def test_dictionary_and_patches(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)  # bundled images only, nothing downloaded
    patch_dictionary.cache_clear()
    data = image_patch_lasso(200, seed=0)
    D, X = data["D"], data["X"]
    assert D.shape == (64, 128) and X.shape == (200, 64) and D.dtype == X.dtype == torch.float32
    torch.testing.assert_close(D.norm(dim=0), torch.ones(128))
    torch.testing.assert_close(X.norm(dim=1), torch.ones(200))
    torch.testing.assert_close(X.mean(dim=1), torch.zeros(200), atol=1e-6, rtol=0)
    lmax = (X.double() @ D.double()).abs().amax(dim=1)
    assert bool((lmax <= 1 + 1e-6).all()) and float(lmax.median()) > 0.3  # the atoms fit the patches
    assert patch_dictionary() is patch_dictionary()  # learned once per parameters
    again = image_patch_lasso(200, seed=0, dtype="float64")
    assert torch.equal(again["X"].float(), X) and torch.equal(again["D"].float(), D)
    other = image_patch_lasso(200, seed=1)
    assert torch.equal(other["D"], D) and not torch.equal(other["X"], X)


def test_test_patches_come_from_other_images():
    assert not set(TRAIN_IMAGES) & set(TEST_IMAGES)
    rng = np.random.default_rng(0)
    image = grey_image("moon")
    assert image.ndim == 2 and 0 <= image.min() and image.max() <= 1
    patches = normalised_patches(image, 50, rng)
    np.testing.assert_allclose(np.linalg.norm(patches, axis=1), 1.0)
    flat = normalised_patches(np.full((16, 16), 0.5), 10, rng)
    assert flat.shape == (0, 64)  # flat patches cannot be normalised: dropped


@pytest.mark.parametrize("kwargs, name", [
    (dict(n_instances=0), "n_instances"), (dict(n_instances=2, seed=-1), "seed"),
    (dict(n_instances=2, dtype="float16"), "dtype"), (dict(n_instances=2, n_train_patches=10), "n_train_patches"),
    (dict(n_instances=2, dictionary_seed=1.5), "dictionary_seed"),
])
def test_bad_parameters_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        check_image_patch_lasso(**kwargs)
    with pytest.raises(ValueError, match=f"^{name}"):
        image_patch_lasso(**kwargs)
