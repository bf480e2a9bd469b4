"""The coordinate-wise LSTM: any problem size, the nn.LSTMCell computation, coordinates independent."""
import pytest
import torch
from torch.nn import functional as F

from l2obench.solvers.learned_optimizers.lstm import CoordinateLSTM


def _core(n_inputs=2, n_outputs=2, seed=0):
    torch.manual_seed(seed)
    return CoordinateLSTM(n_inputs, n_outputs).double()


@pytest.mark.parametrize("B,n", [(1, 1), (3, 7), (2, 33)])
def test_shapes_for_any_problem_size(B, n):
    core = _core(n_inputs=3, n_outputs=2)
    state = core.init_state(B, n)
    assert len(state) == 2 and all(h.shape == c.shape == (20, B * n) for h, c in state)
    assert all(not h.any() and not c.any() for h, c in state)
    out, state = core(torch.randn(B, n, 3, dtype=torch.float64), state)
    assert out.shape == (B, n, 2) and len(state) == 2 and state[1][0].shape == (20, B * n)


def test_it_computes_a_stack_of_lstm_cells_on_every_coordinate():
    """Two steps against nn.LSTMCell on (B·n, features) rows, then Linear + ReLU + Linear."""
    core = _core()
    B, n = 3, 5
    feats = [torch.randn(B, n, 2, dtype=torch.float64) for _ in range(2)]
    state = core.init_state(B, n)
    ref = [(torch.zeros(B * n, 20, dtype=torch.float64),) * 2 for _ in core.cells]
    for f in feats:
        out, state = core(f, state)
        x = f.reshape(B * n, 2)
        for k, cell in enumerate(core.cells):
            ref[k] = cell(x, ref[k])
            x = ref[k][0]
        expected = core.output_layer(F.relu(core.hidden_layer(x))).reshape(B, n, 2)
        torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
        for (h, c), (h_ref, c_ref) in zip(state, ref):
            torch.testing.assert_close(h.T, h_ref, rtol=1e-12, atol=1e-12)
            torch.testing.assert_close(c.T, c_ref, rtol=1e-12, atol=1e-12)


def test_coordinates_are_independent_and_share_weights():
    """Permuting the coordinates (and instances) permutes the outputs: no coupling between rows."""
    core = _core()
    feats = torch.randn(2, 6, 2, dtype=torch.float64)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    out, _ = core(feats, core.init_state(2, 6))
    out_p, _ = core(feats[:, perm].flip(0), core.init_state(2, 6))
    torch.testing.assert_close(out_p, out[:, perm].flip(0))


def test_bad_inputs():
    core = _core()
    with pytest.raises(ValueError, match="features"):
        core(torch.randn(2, 3, 4, dtype=torch.float64), core.init_state(2, 3))
    with pytest.raises(ValueError, match="state"):
        core(torch.randn(2, 3, 2, dtype=torch.float64), core.init_state(2, 4))
    with pytest.raises(ValueError, match="hidden"):
        CoordinateLSTM(2, 1, hidden=0)
    with pytest.raises(ValueError, match="n"):
        core.init_state(2, 0)
