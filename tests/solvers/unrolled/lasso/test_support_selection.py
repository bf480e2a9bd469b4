"""Soft-thresholding with support selection (LISTA-CPSS, TiLISTA, ALISTA, HyperLISTA)."""
import pytest
import torch

from l2obench.objectives.prox import soft_threshold
from l2obench.solvers.unrolled.lasso.support_selection import (shrink_ss, support_selection_fraction,
                                                                threshold_prox)


def test_support_selection_keeps_the_largest_entries():
    U = torch.tensor([[3.0, -2.0, 0.5, 0.1], [0.2, 0.3, -4.0, 1.0]], dtype=torch.float64)
    out = shrink_ss(U, 0.4, 0.25)  # one entry per row bypasses the threshold
    expected = torch.tensor([[3.0, -1.6, 0.1, 0.0], [0.0, 0.0, -4.0, 0.6]], dtype=torch.float64)
    assert torch.allclose(out, expected)


def test_per_row_fractions_and_entries_below_the_threshold():
    U = torch.tensor([[3.0, -2.0, 0.5, 0.1], [0.3, 0.2, 0.1, 0.0]], dtype=torch.float64)
    out = shrink_ss(U, torch.tensor([[0.4], [0.4]], dtype=torch.float64), torch.tensor([[0.5], [0.5]]))
    # row 0: the two largest pass; row 1: none exceeds the threshold, so none is trusted
    expected = torch.tensor([[3.0, -2.0, 0.1, 0.0], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    assert torch.allclose(out, expected, atol=1e-15, rtol=0)
    assert torch.equal(shrink_ss(U, 0.4, 0.0), soft_threshold(U, 0.4))


def test_schedule_and_prox():
    assert support_selection_fraction(0) == pytest.approx(0.012)
    assert support_selection_fraction(20) == pytest.approx(0.13)  # capped at p_max = 13 %
    assert support_selection_fraction(1, p_per_layer=5.0, p_max=50.0) == pytest.approx(0.10)
    U = torch.randn(5, 30, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.equal(threshold_prox(None)(U, 0.3), soft_threshold(U, 0.3))
    assert torch.equal(threshold_prox(0.1)(U, 0.3), shrink_ss(U, 0.3, 0.1))
