"""SavedTensorMeter: bytes autograd saves for backward, each storage once, the peak over calls."""
import torch

from l2obench.solvers.memory import SavedTensorMeter


def test_counts_each_saved_storage_once_and_keeps_the_peak():
    w = torch.randn(100, 100, dtype=torch.float64, requires_grad=True)
    x = torch.randn(8, 100, dtype=torch.float64, requires_grad=True)
    meter = SavedTensorMeter()

    def deep(n):
        z = x
        for _ in range(n):
            z = torch.tanh(z @ w)          # saves z, w and the tanh output: w and z_{k-1} are shared
        return z.sum()

    out = meter.measure(deep, 1)
    one = meter.last_bytes_
    assert one == (100 * 100 + 2 * 8 * 100) * 8 and meter.peak_bytes_ == one
    out.backward()
    meter.measure(deep, 10)
    ten = meter.last_bytes_
    assert ten - one == 9 * 8 * 100 * 8                  # nine more (8, 100) activations, w once
    wrapped = meter.wrap(deep)
    wrapped(2)
    assert meter.last_bytes_ < ten and meter.peak_bytes_ == ten       # the peak stays
    with torch.no_grad():
        meter.measure(deep, 10)
    assert meter.last_bytes_ == 0 and meter.peak_bytes_ == ten
