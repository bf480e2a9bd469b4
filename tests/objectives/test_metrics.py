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
