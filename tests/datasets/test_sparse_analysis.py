"""sparse_analysis data generator: seeded, consistent splits, parameter checks."""
import math

import pytest
import torch

from l2obench.datasets.sparse_analysis import check_sparse_analysis, make_sparse_analysis

SMALL = dict(n=24, latent_dim=3, m=10, n_train=128, n_val=32, n_test=32, shift=2)


@pytest.fixture(scope="module")
def data():
    return make_sparse_analysis(**SMALL, seed=0)


def test_generator_is_seeded_and_consistent(data):
    again, other = make_sparse_analysis(**SMALL, seed=0), make_sparse_analysis(**SMALL, seed=1)
    assert all(torch.equal(data[k], again[k]) for k in data)
    assert not torch.equal(data["x_train"], other["x_train"])
    assert data["A"].shape == (10, 24) and data["x_test"].shape == (32, 24) and data["d_shift"].shape == (32, 10)
    torch.testing.assert_close(data["d_train"], data["x_train"] @ data["A"].T)
    proj = data["M"] @ torch.linalg.pinv(data["M"])          # x* lies in range(M), the shift not
    torch.testing.assert_close(data["x_test"] @ proj.T, data["x_test"])
    assert not torch.equal(data["M"], data["M_shift"])
    assert math.isclose(float(torch.linalg.matrix_norm(data["A"], 2)), 1.0, rel_tol=1e-12)


@pytest.mark.parametrize("bad", [dict(latent_dim=10), dict(m=30), dict(shift=-1), dict(dtype="float16"),
                                 dict(n_train=0)])
def test_generator_rejects_bad_parameters(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        make_sparse_analysis(**{**SMALL, **bad})


def test_float32_and_unshifted_copies():
    data32 = make_sparse_analysis(**SMALL, seed=0, dtype="float32")
    assert all(t.dtype == torch.float32 for t in data32.values())
    same = make_sparse_analysis(**{**SMALL, "shift": 0}, seed=0)
    assert torch.equal(same["M"], same["M_shift"])


@pytest.mark.parametrize("call, name", [
    (lambda: make_sparse_analysis(**{**SMALL, "seed": -1}), "seed"),   # numpy's message named no parameter
    (lambda: check_sparse_analysis(24, 3, 10, 64, 0, 16), "n_val"),
    (lambda: check_sparse_analysis(24, 12, 10, 64, 16, 16), "latent_dim"),
    (lambda: check_sparse_analysis(24, 3, 10, 64, 16, 16, shift=-1), "shift"),
])
def test_checks_name_the_parameter_without_generating_data(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()
    check_sparse_analysis(10**6, 10, 100, 10**9, 10**9, 10**9)
