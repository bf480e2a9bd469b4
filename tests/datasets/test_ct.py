"""ct data generator: seeded, independent splits, ranges, support, noise level, parameter checks."""
import numpy as np
import pytest

from l2obench.datasets.ct import check_ct, make_ct, random_ellipses, shepp_logan
from l2obench.objectives.ct_projector import ParallelBeamGeometry, system_matrix

SMALL = dict(size=32, n_angles=12, n_train=48, n_val=8, n_test=6)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("L2OBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("L2OBENCH_CACHE", str(tmp_path_factory.mktemp("cache")))
        return make_ct(**SMALL, seed=0)


def test_generator_is_seeded_with_the_contract_shapes(data):
    again, other = make_ct(**SMALL, seed=0), make_ct(**SMALL, seed=1)
    geometry = ParallelBeamGeometry(32, 12)
    assert data["geometry"] == geometry
    for split, size in (("train", 48), ("val", 8), ("test", 6)):
        x, d = data[f"x_{split}"], data[f"d_{split}"]
        assert x.shape == (size, 32 * 32) and d.shape == (size, geometry.m)
        assert x.dtype == d.dtype == np.float64
        assert np.array_equal(x, again[f"x_{split}"]) and np.array_equal(d, again[f"d_{split}"])
        assert not np.array_equal(x, other[f"x_{split}"])
    assert not np.array_equal(data["x_train"][:8], data["x_val"])


def test_images_in_range_with_support_in_the_inscribed_circle(data):
    x = data["x_train"].reshape(-1, 32, 32)
    assert x.min() == 0.0 and x.max() == 1.0
    c = np.arange(32) - 15.5
    outside = np.hypot(c[None, :], c[:, None]) > 16
    assert not x[:, outside].any()
    assert (x.reshape(len(x), -1) > 0).any(1).all()     # no empty image
    assert len(np.unique(x[0])) > 2                      # several intensities per image


def test_splits_are_independent_of_each_other(data):
    """Changing the size or kind of the other splits leaves the train split bit-identical."""
    changed = make_ct(**{**SMALL, "n_val": 3, "n_test": 2}, test_set="shepp-logan", seed=0)
    assert np.array_equal(changed["x_train"], data["x_train"]) and np.array_equal(changed["d_train"], data["d_train"])
    phantom = shepp_logan(32).reshape(-1)
    assert np.array_equal(changed["x_test"], np.stack([phantom, phantom]))
    assert not np.array_equal(changed["d_test"][0], changed["d_test"][1])   # independent noise draws


def test_noise_level_is_one_and_a_half_percent_per_beam(data):
    A = system_matrix(data["geometry"])
    clean = data["x_train"] @ A.T
    relative = (data["d_train"] - clean).std(axis=1) / np.abs(clean).mean(axis=1)
    assert abs(relative.mean() - 0.015) < 0.0005    # m = 564 samples per image, 48 images
    quiet = make_ct(**SMALL, noise_level=0.0, seed=0)
    np.testing.assert_allclose(quiet["d_train"], clean, rtol=1e-12, atol=1e-12)


def test_random_ellipses_and_shepp_logan():
    a = random_ellipses(5, 24, np.random.default_rng(3))
    assert a.shape == (5, 24, 24) and a.dtype == np.float64 and 0 <= a.min() and a.max() <= 1
    assert np.array_equal(a, random_ellipses(5, 24, np.random.default_rng(3)))
    phantom = shepp_logan(40)
    assert phantom.shape == (40, 40) and phantom.min() >= 0 and phantom.max() <= 1
    # anti-aliased: the thin skull (1.0) is blurred at 40 px, the mean (0.123) and the brain (0.2) are kept
    assert phantom.max() > 0.8 and abs(phantom.mean() - 0.1232) < 1e-3 and abs(phantom[20, 20] - 0.2) < 0.01
    with pytest.raises(ValueError, match="^rng"):
        random_ellipses(2, 24, 3)


@pytest.mark.parametrize("bad, name", [
    (dict(size=4), "size"), (dict(n_angles=0), "n_angles"), (dict(n_train=0), "n_train"),
    (dict(n_val=1.5), "n_val"), (dict(n_test=-1), "n_test"), (dict(noise_level=-0.1), "noise_level"),
    (dict(noise_level=float("inf")), "noise_level"), (dict(test_set="walnut"), "test_set"), (dict(seed=-1), "seed"),
])
def test_bad_parameters_name_the_parameter(bad, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        make_ct(**{**SMALL, **bad})


def test_check_ct_generates_nothing():
    check_ct(10 ** 4, 10 ** 3, 10 ** 9, 10 ** 9, 10 ** 9, 0.015, "ellipses")
    with pytest.raises(ValueError, match="^test_set"):
        check_ct(64, 30, 8, 8, 8, 0.015, "phantom")
