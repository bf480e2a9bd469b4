"""benchmarks/lasso/speed.py: a tiny run measures both forms against their floors (no timing asserted)."""
import math

import pytest
import torch
from support import load_script


@pytest.mark.parametrize("form", ["gram", "residual"])
def test_measure_gives_finite_times_and_a_paired_ratio(form):
    speed = load_script("benchmarks/lasso/speed.py", "lasso_speed")
    assert speed.pick_form("auto", 4, 6) == "gram" and speed.pick_form("auto", 4, 8) == "residual"
    setup, fista, floor, ratio = speed.measure(8, 4, 6, torch.float64, n_iter=2, repeats=3, form=form)
    assert setup > 0 and floor > 0
    # FISTA's time is a difference of two run lengths: finite, of either sign at 2 iterations
    assert math.isfinite(fista) and math.isfinite(ratio)
