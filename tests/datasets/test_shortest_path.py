"""PyEPO's shortest-path data: seeded, one draw split into train / validation / test, checked inputs."""
import numpy as np
import pytest
from pyepo.data.shortestpath import genData

from l2obench.datasets.shortest_path import check_shortest_path, make_shortest_path

SIZES = dict(n_train=6, n_val=3, n_test=4)


def test_same_seed_same_data_different_seed_different_data():
    a, b = make_shortest_path(3, **SIZES, seed=1), make_shortest_path(3, **SIZES, seed=1)
    c = make_shortest_path(3, **SIZES, seed=2)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["c_train"], c["c_train"]) and not np.array_equal(a["u_test"], c["u_test"])


@pytest.mark.parametrize("k", [2, 4])
def test_split_shapes_dtypes_and_one_draw(k):
    n_edges = 2 * k * (k - 1)
    data = make_shortest_path(k, **SIZES, n_features=5, deg=2, noise_width=0.3, seed=7)
    assert data["grid"] == k and isinstance(data["grid"], int)
    for split in ("train", "val", "test"):
        n = SIZES[f"n_{split}"]
        assert data[f"u_{split}"].shape == (n, 5) and data[f"c_{split}"].shape == (n, n_edges)
        assert data[f"u_{split}"].dtype == data[f"c_{split}"].dtype == np.float32
    assert (np.concatenate([data["c_train"], data["c_val"], data["c_test"]]) > 0).all()
    u, c = genData(sum(SIZES.values()), 5, (k, k), deg=2, noise_width=0.3, seed=7)
    np.testing.assert_array_equal(np.concatenate([data["u_train"], data["u_val"], data["u_test"]]),
                                  u.astype(np.float32))
    np.testing.assert_array_equal(np.concatenate([data["c_train"], data["c_val"], data["c_test"]]), c)


def test_defaults_are_the_papers_setting():
    data = make_shortest_path(2, n_train=3, n_val=1, n_test=1)
    u, c = genData(5, 5, (2, 2), deg=4, noise_width=0.5, seed=0)
    np.testing.assert_array_equal(np.concatenate([data["c_train"], data["c_val"], data["c_test"]]), c)


@pytest.mark.parametrize("name, value", [("grid", 1), ("grid", 2.5), ("n_train", 0), ("n_val", -1),
                                         ("n_test", 1.0), ("n_features", 0), ("deg", 0), ("deg", 9),
                                         ("noise_width", 1.5), ("noise_width", -0.1), ("seed", -1),
                                         ("seed", 2 ** 32)])
def test_checks_name_the_parameter(name, value):
    kwargs = dict(grid=3, **SIZES, n_features=5, deg=4, noise_width=0.5, seed=0)
    kwargs[name] = value
    with pytest.raises(ValueError, match=name):
        check_shortest_path(**kwargs)
    with pytest.raises(ValueError, match=name):
        make_shortest_path(**kwargs)


def test_check_accepts_the_boundaries():
    check_shortest_path(2, 1, 1, 1, n_features=1, deg=1, noise_width=0.0, seed=0)
    check_shortest_path(3, 1, 1, 1, deg=8, noise_width=1.0, seed=2 ** 32 - 1)
