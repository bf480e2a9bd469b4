"""Metrics shared by every problem family."""
import pytest
import torch

from l2obench.objectives.metrics import nmse, nmse_db, relative_error


def test_nmse_db():
    Z_true = torch.tensor([[1.0, 0.0, -2.0], [0.0, 3.0, 0.0]])
    assert nmse_db(Z_true, Z_true) == float("-inf")
    assert nmse_db(torch.zeros_like(Z_true), Z_true) == pytest.approx(0.0)
    assert nmse_db(1.1 * Z_true, Z_true) == pytest.approx(-20.0)


def test_nmse_is_a_ratio_of_sums():
    Z_true = torch.tensor([[1.0, 0.0], [0.0, 3.0]], dtype=torch.float64)
    Z = torch.tensor([[0.0, 0.0], [0.0, 3.0]], dtype=torch.float64)  # error 1 over a total of 10
    assert nmse(Z, Z_true) == pytest.approx(0.1)
    assert nmse_db(Z, Z_true) == pytest.approx(-10.0)


def test_relative_error_per_row():
    x_true = torch.tensor([[3.0, 4.0], [1.0, 0.0]], dtype=torch.float64)
    x = torch.tensor([[3.0, 4.5], [1.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(relative_error(x, x_true), torch.tensor([0.1, 0.0], dtype=torch.float64))


Z_TRUE = torch.tensor([[1.0, 0.0, -2.0], [0.0, 3.0, 0.0]], dtype=torch.float64)
NAN = Z_TRUE.clone()
NAN[0, 1] = float("nan")


@pytest.mark.parametrize("Z, Z_true, match", [
    (Z_TRUE[:1], Z_TRUE, r"Z has shape \(1, 3\) but Z_true has shape \(2, 3\)"),   # used to broadcast
    (Z_TRUE[:, :1], Z_TRUE, "Z has shape"),
    (Z_TRUE, torch.zeros_like(Z_TRUE), "Z_true is all zero"),                     # used to give inf
    (torch.zeros_like(Z_TRUE), torch.zeros_like(Z_TRUE), "Z_true is all zero"),    # used to give nan
    (NAN, Z_TRUE, "Z contains NaN"),
    (Z_TRUE, NAN, "Z_true contains NaN"),
    (Z_TRUE[:0], Z_TRUE[:0], "Z_true is empty"),                                   # used to give nan
    (Z_TRUE.long(), Z_TRUE, "Z must be float32 or float64, got torch.int64"),
    (Z_TRUE.half(), Z_TRUE.half(), "Z_true must be float32 or float64, got torch.float16"),
    (Z_TRUE.tolist(), Z_TRUE, "Z must be a torch tensor"),
])
@pytest.mark.parametrize("metric", [nmse, nmse_db])
def test_nmse_names_the_bad_input(metric, Z, Z_true, match):
    with pytest.raises(ValueError, match=match):
        metric(Z, Z_true)


def test_nmse_takes_numpy_and_mixed_precision():
    assert nmse_db(Z_TRUE.numpy() * 1.1, Z_TRUE) == pytest.approx(-20.0)
    assert nmse(Z_TRUE.float() * 1.1, Z_TRUE) == pytest.approx(0.01)


@pytest.mark.parametrize("x, x_true, match", [
    (Z_TRUE[:1], Z_TRUE, r"x has shape \(1, 3\) but x_true has shape \(2, 3\)"),   # used to broadcast
    (Z_TRUE, torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64),
     r"x_true has 1 all-zero row\(s\) \(first: row 1\)"),                         # used to give 1e300
    (Z_TRUE[0], Z_TRUE[1], "x_true must have 2 dimensions"),                        # used to be an IndexError
    (NAN, Z_TRUE, "x contains NaN"),
    (Z_TRUE[:0], Z_TRUE[:0], "x_true is empty"),
    (Z_TRUE.int(), Z_TRUE.int(), "x_true must be float32 or float64"),
])
def test_relative_error_names_the_bad_input(x, x_true, match):
    with pytest.raises(ValueError, match=match):
        relative_error(x, x_true)
