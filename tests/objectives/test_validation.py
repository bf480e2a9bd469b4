"""Input checks: each raises ValueError naming the parameter."""
import numpy as np
import pytest
import torch

from l2obench.objectives.validation import (check_choice, check_dtype, check_int, check_real, check_tensor,
                                            lambda_column)


def test_scalar_checks():
    assert check_choice("form", "gram", ("gram", "residual")) == "gram"
    assert check_int("n_iter", np.int64(3), low=0) == 3 and isinstance(check_int("n", 3), int)
    assert check_real("step", np.float32(0.5), low=0.0, low_open=True) == 0.5
    assert check_dtype("dtype", "float32") is torch.float32 and check_dtype("dtype", torch.float64) is torch.float64


@pytest.mark.parametrize("call, name", [
    (lambda: check_choice("form", "dense", ("gram", "residual")), "form"),
    (lambda: check_int("n_iter", -1, low=0), "n_iter"),
    (lambda: check_int("n_iter", 2.0), "n_iter"),
    (lambda: check_int("n_iter", True), "n_iter"),
    (lambda: check_real("step", 0.0, low=0.0, low_open=True), "step"),
    (lambda: check_real("step", float("inf")), "step"),
    (lambda: check_real("step", True), "step"),
    (lambda: check_real("p", 1.5, high=1.0), "p"),
    (lambda: check_dtype("dtype", "float16"), "dtype"),
    (lambda: check_tensor("X", [[1.0]]), "X"),
    (lambda: check_tensor("X", torch.ones(3), ndim=2), "X"),
    (lambda: check_tensor("X", torch.ones(3, 4), shape=(None, 5)), "X has shape"),
    (lambda: check_tensor("X", torch.tensor([1.0, float("nan")])), "X contains NaN"),
    (lambda: check_tensor("X", torch.tensor([1e300], dtype=torch.float64), dtype=torch.float32), "X contains NaN or Inf"),
])
def test_bad_values_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_check_tensor_converts_numpy():
    out = check_tensor("X", np.ones((2, 3)), ndim=2, shape=(None, 3), dtype=torch.float32)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32


@pytest.mark.parametrize("lmbd", [0.5, np.float64(0.5), torch.tensor(0.5), np.array(0.5), torch.full((3,), 0.5),
                                  torch.full((3, 1), 0.5), np.full(3, 0.5), np.full((3, 1), 0.5)])
def test_lambda_column_forms(lmbd):
    lam = lambda_column(lmbd, 3, torch.float32)
    assert lam.shape == (3, 1) and lam.dtype == torch.float32
    assert torch.equal(lam, torch.full((3, 1), 0.5))


@pytest.mark.parametrize("lmbd, match", [
    (-0.1, "lmbd must be >= 0"), (torch.tensor([0.1, -0.1, 0.1]), "lmbd must be >= 0"),
    (float("nan"), "lmbd"), (True, "lmbd"), (torch.ones(2), "lmbd has shape"), (torch.ones(3, 2), "lmbd"),
    (1e300, "lmbd"),  # beyond float32: a ValueError, not torch.full's RuntimeError
])
def test_lambda_column_rejects(lmbd, match):
    with pytest.raises(ValueError, match=match):
        lambda_column(lmbd, 3, torch.float32)


@pytest.mark.parametrize("value", [torch.ones(2, 3, dtype=torch.float16), torch.ones(2, 3, dtype=torch.bfloat16),
                                   torch.ones(2, 3, dtype=torch.int64), torch.ones(2, 3, dtype=torch.bool),
                                   torch.ones(2, 3, dtype=torch.complex64), np.ones((2, 3), dtype=np.int32)])
def test_check_tensor_rejects_what_the_suite_does_not_compute_in(value):
    # torch / LAPACK used to fail deep inside a solver, or an integer prox silently truncated
    with pytest.raises(ValueError, match=r"^X must be float32 or float64, got torch\.\w+\.$"):
        check_tensor("X", value)
    out = check_tensor("X", value.real if torch.is_tensor(value) and value.is_complex() else value, dtype=torch.float64)
    assert out.dtype == torch.float64                                # an explicit dtype converts first
